"""Renfort polls Telegram before its handlers are loaded: what that first poll brings is
still answered, once they are."""

from __future__ import annotations

from pathlib import Path

from renfort.sandbox.telegram_double import TelegramDouble
from tests.conftest import NOW
from tests.harness import FakeClock, running_bot, sqlite_file_url

WAITING = (301, 302, 303)


async def test_messages_waiting_when_renfort_starts_are_all_answered(tmp_path: Path) -> None:
    double = TelegramDouble()
    await double.start()
    try:
        for user_id in WAITING:
            double.user(user_id, f"Personne{user_id}")
            double.send_text(user_id, "/start")

        async with running_bot(sqlite_file_url(tmp_path), FakeClock(NOW), double):
            for user_id in WAITING:
                await double.wait_for(user_id, timeout=30)
    finally:
        await double.stop()
