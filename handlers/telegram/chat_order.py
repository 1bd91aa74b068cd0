"""Updates of different chats run side by side; the updates of one chat run one after the
other, in the order Telegram gave them.

python-telegram-bot's `concurrent_updates(False)` handles one update at a time, so one slow
turn (a long query, a slow Bot API answer) held up every other person. Each chat's updates
form a chain instead: an update waits only for the one before it in the same chat."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from typing import Any

from telegram import Update
from telegram.ext import BaseUpdateProcessor

# python-telegram-bot takes its own (final) semaphore before handing us an update, in arrival
# order; it is kept wide so that a flood from one chat never fills it while others wait.
ADMISSION_LIMIT = 4096
# How many turns do their work at once; beyond that they queue here, after their place in
# their chat's order is taken.
DEFAULT_WORKING_LIMIT = 64


def order_key(update: object) -> str | None:
    """Whose order an update belongs to: its chat, else its sender; None when neither."""
    if not isinstance(update, Update):
        return None
    if update.effective_chat is not None:
        return f"c{update.effective_chat.id}"
    if update.effective_user is not None:
        return f"u{update.effective_user.id}"
    return None


class ChatOrderedProcessor(BaseUpdateProcessor):
    """Concurrent across chats, in order within a chat."""

    def __init__(self, working_limit: int = DEFAULT_WORKING_LIMIT) -> None:
        super().__init__(ADMISSION_LIMIT)
        self._working = asyncio.Semaphore(working_limit)
        # The last update of each chat still in hand: the next one of that chat waits for it.
        self._tails: dict[str, asyncio.Future[None]] = {}

    async def do_process_update(self, update: object, coroutine: Awaitable[Any]) -> None:
        """Wait for the chat's previous update, then handle this one."""
        key = order_key(update)
        if key is None:
            async with self._working:
                await coroutine
            return
        previous = self._tails.get(key)
        done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._tails[key] = done
        try:
            if previous is not None:
                # shield: cancelling this update must not look like the previous one ended
                await asyncio.shield(previous)
            async with self._working:
                await coroutine
        finally:
            done.set_result(None)
            if self._tails.get(key) is done:
                del self._tails[key]

    async def initialize(self) -> None:
        """Nothing to set up: the chains live only while their updates are in hand."""

    async def shutdown(self) -> None:
        """Nothing to free: python-telegram-bot waits for the updates in hand itself."""

    @property
    def chats_in_hand(self) -> int:
        return len(self._tails)
