"""The whole process starts against the Bot API double and answers."""

from __future__ import annotations

from pathlib import Path

from tests.conftest import NOW
from tests.harness import FakeClock, running_bot, sqlite_file_url


async def test_any_unknown_text_gets_a_short_help_never_silence(tmp_path: Path) -> None:
    async with running_bot(sqlite_file_url(tmp_path), FakeClock(NOW)) as bot:
        bot.double.user(1, "Camille")
        answer = await bot.say(1, "bonjour ?")
        assert answer and "/missions" in answer[-1].text
