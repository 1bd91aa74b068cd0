"""The send budget several workers share (PostgreSQL, or Redis at REDIS_URL): together they
stay under one rate, one chat's window holds for all of them, and a 429 holds everyone."""

from __future__ import annotations

import asyncio
import shutil
import subprocess
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from bot.messaging.outbox import enqueue
from bot.messaging.ratelimit import RateLimiter
from bot.messaging.shared_budget import PostgresBudget, RedisBudget, SharedBudget
from bot.notifications import load
from storage.database import Database
from tests.conftest import NOW, _truncate_pg
from tests.factories import volunteer
from tests.harness import FakeClock, free_port, running_bot, sqlite_file_url
from tests.test_render import snapshot

Pair = tuple[SharedBudget, SharedBudget]


@pytest.fixture(scope="module")
def redis_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str | None]:
    """A throwaway redis-server, when one is installed."""
    binary = shutil.which("redis-server")
    if binary is None:
        yield None
        return
    port = free_port()
    workdir = tmp_path_factory.mktemp("redis")
    server = subprocess.Popen(
        [binary, "--port", str(port), "--save", "", "--appendonly", "no", "--dir", str(workdir)],
        stdout=subprocess.DEVNULL,
    )
    time.sleep(0.3)
    try:
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        server.terminate()
        server.wait()


@pytest.fixture(params=["postgresql", "redis"])
async def two_workers(
    request: pytest.FixtureRequest, pg_database: str | None, redis_url: str | None
) -> AsyncIterator[Pair]:
    """The budgets of two workers, each with its own connections."""
    if request.param == "postgresql":
        if pg_database is None:
            pytest.skip("PostgreSQL is not running here")
        await _truncate_pg(pg_database)
        first, second = Database(pg_database), Database(pg_database)
        try:
            yield PostgresBudget(first), PostgresBudget(second)
        finally:
            await first.close()
            await second.close()
    else:
        if redis_url is None:
            pytest.skip("redis-server is not installed here")
        prefix = f"test:{time.monotonic_ns()}:"
        a, b = RedisBudget(redis_url, prefix), RedisBudget(redis_url, prefix)
        try:
            yield a, b
        finally:
            await a.close()
            await b.close()


async def test_two_workers_share_one_overall_rate(two_workers: Pair) -> None:
    a, b = two_workers
    interval = 0.2
    waits = sorted(await asyncio.gather(*(w.reserve("telegram", interval) for w in (a, b) * 10)))
    # One budget: the 20th send waits for 19 intervals (two budgets would make it 9)...
    assert waits[-1] >= 19 * interval - 0.3
    # ...and only one of the twenty may go at once.
    assert sum(wait < interval / 2 for wait in waits) == 1


async def test_a_chat_window_holds_for_every_worker(two_workers: Pair) -> None:
    a, b = two_workers
    assert await a.try_take("telegram:42", 1.0) == 0
    wait = await b.try_take("telegram:42", 1.0)
    assert 0.5 < wait <= 1.0  # Camille's chat just got one: the other worker waits
    assert await b.try_take("telegram:43", 1.0) == 0  # another chat is free
    await asyncio.sleep(wait)
    assert await b.try_take("telegram:42", 1.0) == 0


async def test_a_429_holds_the_chat_for_every_worker(two_workers: Pair) -> None:
    a, b = two_workers
    await a.hold("telegram:-100", 5.0)
    assert 4.0 < await b.try_take("telegram:-100", 3.0) <= 5.0


async def test_the_limiter_asks_the_shared_budget_after_its_own_windows(
    two_workers: Pair,
) -> None:
    a, b = two_workers
    first = RateLimiter(30, shared=a)
    second = RateLimiter(30, shared=b)
    assert await first.admit(7) == 0
    first.consume(7).finish()
    # The second process never wrote to chat 7, yet it must wait for the first one's send.
    assert second.delay(7) == 0
    assert 0.5 < await second.admit(7) <= 1.01
    started = time.monotonic()
    for chat in range(100, 110):  # ten more chats at 30/s (27/s with the headroom)
        assert await second.admit(chat) == 0
    assert time.monotonic() - started >= 9 / 27 - 0.05


async def test_with_redis_url_the_service_counts_its_sends_in_redis(
    redis_url: str | None, tmp_path: Path
) -> None:
    if redis_url is None:
        pytest.skip("redis-server is not installed here")
    async with running_bot(sqlite_file_url(tmp_path), FakeClock(NOW), redis_url=redis_url) as bot:
        assert isinstance(bot.service.budget, RedisBudget)
        bot.double.user(1, "Camille")
        camille = await volunteer(bot.db, 1, "Camille")
        async with bot.db.transaction("test_notify") as conn:
            await enqueue(conn, load("offer_expired", snapshot()), person_id=camille.id)
        await bot.drain()
        assert len(bot.double.messages[1]) == 1
        # Camille's window is taken for every worker reading the same Redis.
        other = RedisBudget(redis_url)
        try:
            assert 0 < await other.try_take("telegram:1", 1.0) <= 1.0
        finally:
            await other.close()


class _Turns:
    """A shared budget handing out turns 1/27 s apart from a fixed start, and a clock the
    test moves: what a worker sees of the store, without the store."""

    def __init__(self) -> None:
        self.now = 0.0
        self.next_turn = 0.0
        self.given: list[float] = []

    async def reserve(self, key: str, interval: float) -> float:
        turn = max(self.next_turn, self.now)
        self.next_turn = turn + interval
        self.given.append(turn)
        return turn - self.now

    async def try_take(self, key: str, interval: float) -> float:
        return 0.0

    async def hold(self, key: str, seconds: float) -> None:
        return None

    async def close(self) -> None:
        return None


async def test_a_worker_that_wakes_too_late_for_its_turn_takes_a_later_one(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A stalled worker that sent on its missed turn would reach the provider beside the
    turns after it: it lets that turn go instead, so sends stay spaced as the rate says."""
    turns = _Turns()
    limiter = RateLimiter(30, shared=turns, clock=lambda: turns.now)
    stalls = iter([0.3, 0.0])  # the first wake comes 300 ms late, the next on time

    async def sleep(seconds: float) -> None:
        turns.now += seconds + next(stalls)

    monkeypatch.setattr("bot.messaging.ratelimit.asyncio.sleep", sleep)
    turns.next_turn = 0.5  # another worker holds the turns before this one
    await limiter.admit_overall()
    assert len(turns.given) == 2  # the missed turn at 0.5 s was let go
    assert turns.now - turns.given[-1] <= 0.05  # and the send goes on time for its turn
