"""Many people write at once: each chat is answered in the order it wrote, and one slow
conversation never holds up another."""

from __future__ import annotations

import asyncio
from pathlib import Path

from sqlalchemy import func, select
from telegram import Update
from telegram.ext import TypeHandler

from handlers.telegram.common import RenfortContext
from handlers.telegram.wiring import BEGIN_GROUP
from storage import schema
from tests.conftest import NOW
from tests.harness import Bot, FakeClock, running_bot, sqlite_file_url

SLOW, QUICK = 1, 2


def hold_up(bot: Bot, delays: dict[int, float]) -> list[int]:
    """Before its turn starts, each update waits its delay; returns the order they began."""
    began: list[int] = []

    async def delay(update: Update, _context: RenfortContext) -> None:
        await asyncio.sleep(delays.get(update.update_id, 0.0))
        began.append(update.update_id)

    assert bot.service.telegram is not None
    bot.service.telegram.add_handler(TypeHandler(Update, delay), group=BEGIN_GROUP - 1)
    return began


async def test_one_chat_is_answered_in_order_while_another_chat_goes_ahead(
    tmp_path: Path,
) -> None:
    async with running_bot(sqlite_file_url(tmp_path), FakeClock(NOW)) as bot:
        bot.double.user(SLOW, "Lente")
        bot.double.user(QUICK, "Rapide")
        delays: dict[int, float] = {}
        began = hold_up(bot, delays)
        first = bot.double.send_text(SLOW, "un")
        second = bot.double.send_text(SLOW, "deux")
        third = bot.double.send_text(SLOW, "trois")
        other = bot.double.send_text(QUICK, "bonjour")
        # The first of the slow chat takes longest: without per-chat order the second and
        # third would overtake it; without concurrency the other chat would wait for all.
        delays.update({first: 1.0, second: 0.0, third: 0.3, other: 0.0})

        await bot.handled(other)
        assert first not in bot.done, "the other chat waited for the slow one"
        for update_id in (first, second, third):
            await bot.handled(update_id)

        assert [u for u in began if u != other] == [first, second, third]
        assert began.index(other) < began.index(first)
        assert len(bot.double.messages[SLOW]) == 3 and len(bot.double.messages[QUICK]) == 1


async def test_forty_newcomers_writing_at_once_are_all_registered_and_answered(
    tmp_path: Path,
) -> None:
    """Concurrent turns write to SQLite together: they queue, none fails as locked."""
    async with running_bot(sqlite_file_url(tmp_path), FakeClock(NOW)) as bot:
        newcomers = range(100, 140)
        for user_id in newcomers:
            bot.double.user(user_id, f"Personne{user_id}")
        updates = [bot.double.send_text(user_id, "/start") for user_id in newcomers]
        for update_id in updates:
            await bot.handled(update_id, timeout=30)

        assert all(bot.double.messages[user_id] for user_id in newcomers)
        async with bot.db.reading("test_people") as conn:
            count = await conn.scalar(select(func.count()).select_from(schema.people))
        assert count == len(newcomers)
