"""Send no faster than a channel allows, overall and per chat, without ever blocking a
whole queue on one busy chat.

Windows are sliding logs, like Telegram's own counters. A send is counted from the moment
it is granted until its answer came back, plus the window: Telegram counted the message
somewhere in between, so measuring from the answer is the only instant that guarantees the
next one lands outside the window, whatever the network latency."""

from __future__ import annotations

import asyncio
import math
import time
from collections import deque
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from bot.messaging.shared_budget import SharedBudget

ChatKey = Hashable
Clock = Callable[[], float]

# Floating-point slack so a send at exactly window's end is not refused by the other side.
EPSILON = 0.001
# A send whose answer never came (a lost task) stops holding a place after this long.
IN_FLIGHT_LIMIT = 60.0
SWEEP_EVERY = 1000
# Workers sharing a budget space their sends evenly at this share of the configured rate:
# the provider counts arrivals, and two workers' sends travel different paths. A send held
# up on its way (a busy machine, a slow hop) arrives beside the ones after it; at 30/s, 85 %
# leaves a message 170 ms of such delay before 31 could land in one second (90 % left 110,
# and a loaded two-worker run once saw five 429s).
SHARED_HEADROOM = 0.85
# A shared turn reached this late is let go, at most this many times in a row (then the send
# goes: a machine that busy would otherwise never send).
LATE_SECONDS = 0.05
LATE_TURNS_LET_GO = 3


@dataclass(frozen=True)
class Window:
    """At most `count` sends in any `seconds`."""

    count: int
    seconds: float


PRIVATE_CHAT = Window(1, 1.0)
GROUP_CHAT = Window(20, 60.0)


def telegram_chat_window(chat: ChatKey) -> Window | None:
    """Telegram's per-chat limit: group and supergroup ids are negative, people's positive."""
    if isinstance(chat, int) and chat < 0:
        return GROUP_CHAT
    return PRIVATE_CHAT


def overall_window(per_second: float) -> Window:
    """A rate as a window of whole sends (30/s is 30 in 1 s; 2.5/s is 2 in 0.8 s)."""
    count = max(1, math.floor(per_second))
    return Window(count, count / per_second)


class Ticket:
    """One granted send; it holds its place in the windows until `finish` plus the window."""

    __slots__ = ("_clock", "finished_at", "granted_at")

    def __init__(self, granted_at: float, clock: Clock) -> None:
        self._clock = clock
        self.granted_at = granted_at
        self.finished_at: float | None = None

    def finish(self) -> None:
        """The channel's answer came back (success or not)."""
        if self.finished_at is None:
            self.finished_at = self._clock()

    def counted_at(self, now: float) -> float:
        """When the other side may have counted it: at the latest, when the answer came."""
        if self.finished_at is not None:
            return self.finished_at
        return min(now, self.granted_at + IN_FLIGHT_LIMIT)


class _Log:
    """The tickets of one window, oldest first."""

    __slots__ = ("tickets", "window")

    def __init__(self, window: Window) -> None:
        self.window = window
        self.tickets: deque[Ticket] = deque()

    def wait(self, now: float) -> float:
        """Seconds until one more send fits in the window."""
        horizon = now - self.window.seconds
        while self.tickets and self.tickets[0].counted_at(now) + EPSILON <= horizon:
            self.tickets.popleft()
        if len(self.tickets) < self.window.count:
            return 0.0
        times = sorted(t.counted_at(now) for t in self.tickets)
        live = [at for at in times if at + EPSILON > horizon]
        if len(live) < self.window.count:
            return 0.0
        # The window has room again once enough of the oldest sends have left it.
        return max(0.0, live[len(live) - self.window.count] + self.window.seconds + EPSILON - now)


class RateLimiter:
    """Limits of one channel: an overall rate, a window per chat, and temporary blocks."""

    def __init__(
        self,
        per_second: float,
        chat_window: Callable[[ChatKey], Window | None] = telegram_chat_window,
        *,
        clock: Clock = time.monotonic,
        shared: SharedBudget | None = None,
        name: str = "telegram",
    ) -> None:
        if per_second <= 0:
            raise ValueError("the rate must be positive")
        self.clock = clock
        self.shared = shared
        self.name = name
        self._shared_interval = 1.0 / (per_second * SHARED_HEADROOM)
        self._chat_window = chat_window
        self._overall = _Log(overall_window(per_second))
        self._chats: dict[ChatKey, _Log] = {}
        self._blocked_until: dict[ChatKey, float] = {}
        self._granted = 0

    def chat_delay(self, chat: ChatKey) -> float:
        """Seconds until this chat may receive a message (its window or a block)."""
        now = self.clock()
        blocked = self._blocked_until.get(chat, 0.0) - now
        if blocked <= 0:
            self._blocked_until.pop(chat, None)
        log = self._chats.get(chat)
        return max(0.0, blocked, log.wait(now) if log is not None else 0.0)

    def overall_delay(self) -> float:
        """Seconds until the channel as a whole may send one more message."""
        return self._overall.wait(self.clock())

    def delay(self, chat: ChatKey) -> float:
        """Seconds until a message to this chat may go (0 if now)."""
        return max(self.chat_delay(chat), self.overall_delay())

    def consume(self, chat: ChatKey) -> Ticket:
        """Count a send to `chat` now; call `finish` on the ticket when its answer comes."""
        ticket = Ticket(self.clock(), self.clock)
        self._overall.tickets.append(ticket)
        window = self._chat_window(chat)
        if window is not None:
            log = self._chats.get(chat)
            if log is None:
                log = self._chats[chat] = _Log(window)
            log.tickets.append(ticket)
        self._granted += 1
        if self._granted % SWEEP_EVERY == 0:
            self._sweep()
        return ticket

    async def acquire(self, chat: ChatKey) -> Ticket:
        """Wait until a message to `chat` may go, then count it."""
        while True:
            while (wait := self.delay(chat)) > 0:
                await asyncio.sleep(wait)
            wait = await self.admit(chat)
            if wait <= 0:
                return self.consume(chat)
            await asyncio.sleep(wait)

    async def admit(self, chat: ChatKey) -> float:
        """After this process's own windows allowed a send: the budget the workers share.
        0 once the send is counted there (having waited for the overall rate), else how
        long this chat must wait (nothing counted)."""
        if self.shared is None:
            return 0.0
        window = self._chat_window(chat)
        if window is not None:
            wait = await self.shared.try_take(
                f"{self.name}:{chat}", window.seconds / window.count + EPSILON
            )
            if wait > 0:
                return wait
        await self.admit_overall()
        return 0.0

    async def admit_overall(self) -> None:
        """Wait for this process's turn in the overall rate all workers share.

        A turn this process woke up too late for (the machine was busy) is let go and the
        next free one taken: sent late, it would reach the provider beside the turns after
        it, and the other workers' sends on time would then crowd the provider's second."""
        if self.shared is None:
            return
        for _ in range(LATE_TURNS_LET_GO + 1):
            asked = self.clock()
            wait = await self.shared.reserve(self.name, self._shared_interval)
            if wait > 0:
                await asyncio.sleep(wait)
            if self.clock() - asked - wait <= LATE_SECONDS:
                return

    def block(self, chat: ChatKey, seconds: float) -> None:
        """The other side asked us to wait before writing to this chat again."""
        until = self.clock() + seconds
        self._blocked_until[chat] = max(until, self._blocked_until.get(chat, 0.0))

    async def block_everywhere(self, chat: ChatKey, seconds: float) -> None:
        """`block`, and every worker sharing the budget waits too."""
        self.block(chat, seconds)
        if self.shared is not None:
            await self.shared.hold(f"{self.name}:{chat}", seconds)

    def _sweep(self) -> None:
        """Forget chats whose window has emptied, so thousands of chats cost no memory."""
        now = self.clock()
        for chat, log in list(self._chats.items()):
            log.wait(now)  # drops the tickets that left the window
            if not log.tickets:
                del self._chats[chat]
