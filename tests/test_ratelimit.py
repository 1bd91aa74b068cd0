"""Telegram's limits, kept on a clock the test moves: no sleeping, no flakiness."""

from __future__ import annotations

import time
from collections import defaultdict, deque

import pytest

from bot.messaging.ratelimit import RateLimiter, Window, overall_window

GROUP = -1001234567890


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


def send(limiter: RateLimiter, clock: Clock, chat: int, latency: float = 0.0) -> None:
    """Grant, then the answer comes back `latency` later."""
    assert limiter.delay(chat) == 0
    ticket = limiter.consume(chat)
    clock.advance(latency)
    ticket.finish()


def test_a_private_chat_gets_one_message_per_second() -> None:
    clock = Clock()
    limiter = RateLimiter(30, clock=clock)
    send(limiter, clock, 42)

    assert limiter.delay(42) == pytest.approx(1.0, abs=0.01)
    assert limiter.delay(43) == 0
    clock.advance(1.01)
    assert limiter.delay(42) == 0


def test_a_group_gets_twenty_messages_a_minute_then_waits_for_the_oldest_to_leave() -> None:
    clock = Clock()
    limiter = RateLimiter(30, clock=clock)
    for _ in range(20):
        send(limiter, clock, GROUP)
        clock.advance(0.5)

    assert limiter.chat_delay(GROUP) == pytest.approx(60 - 20 * 0.5, abs=0.01)
    clock.advance(50.01)
    assert limiter.chat_delay(GROUP) == 0


def test_thirty_messages_a_second_overall_whatever_the_chats() -> None:
    clock = Clock()
    limiter = RateLimiter(30, clock=clock)
    for chat in range(1, 31):
        send(limiter, clock, chat)

    assert limiter.chat_delay(31) == 0
    assert limiter.overall_delay() == pytest.approx(1.0, abs=0.01)
    assert limiter.delay(31) == pytest.approx(1.0, abs=0.01)


def test_a_message_counts_from_when_its_answer_came_back() -> None:
    clock = Clock()
    limiter = RateLimiter(30, clock=clock)
    ticket = limiter.consume(42)
    clock.advance(0.3)
    assert limiter.delay(42) == pytest.approx(1.0, abs=0.01)  # still in flight

    ticket.finish()
    clock.advance(0.5)
    assert limiter.delay(42) == pytest.approx(0.5, abs=0.01)


def test_retry_after_blocks_only_that_chat() -> None:
    clock = Clock()
    limiter = RateLimiter(30, clock=clock)
    limiter.block(42, 7)

    assert limiter.delay(42) == pytest.approx(7)
    assert limiter.delay(43) == 0
    clock.advance(7)
    assert limiter.delay(42) == 0


def test_a_fractional_rate_becomes_a_window_of_whole_messages() -> None:
    assert overall_window(30) == Window(30, 1.0)
    assert overall_window(2.5) == Window(2, 0.8)
    assert overall_window(0.5) == Window(1, 2.0)


def test_sending_at_the_limit_reaches_95_percent_of_it_and_never_breaks_it() -> None:
    """3,000 messages round-robin to 40 people and 3 groups (so every limit binds at some
    point), answered after 5 ms, counted by a model of Telegram that sees each message
    half-way through its round trip."""
    clock = Clock()
    limiter = RateLimiter(30, clock=clock)
    seen: dict[int, deque[float]] = defaultdict(deque)
    overall: deque[float] = deque()
    chats = [-1, -2, -3, *range(1, 41)]
    started = clock.now
    turn = 0
    for i in range(3000):
        while True:
            ready = [c for c in chats[turn:] + chats[:turn] if limiter.chat_delay(c) == 0]
            if ready:
                break
            clock.advance(min(limiter.chat_delay(c) for c in chats))
        chat = ready[0]
        turn = (chats.index(chat) + 1) % len(chats)
        clock.advance(limiter.overall_delay())
        ticket = limiter.consume(chat)
        arrival = clock.now + 0.0025
        for log, window in ((overall, Window(30, 1.0)), (seen[chat], _telegram(chat))):
            while log and arrival - log[0] >= window.seconds:
                log.popleft()
            assert len(log) < window.count, f"Telegram would answer 429 at message {i}"
            log.append(arrival)
        clock.advance(0.005)
        ticket.finish()

    rate = 3000 / (clock.now - started)
    assert rate >= 0.95 * 30


def _telegram(chat: int) -> Window:
    return Window(20, 60.0) if chat < 0 else Window(1, 1.0)


async def test_acquire_waits_for_its_turn_in_real_time() -> None:
    limiter = RateLimiter(1000, lambda _chat: Window(1, 0.05))
    first = await limiter.acquire("+33600000000")
    first.finish()
    started = time.monotonic()
    await limiter.acquire("+33600000000")
    assert time.monotonic() - started >= 0.05
