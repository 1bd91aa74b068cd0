"""Every command with garbage after it (control characters, a huge number, a novel)
gets its usual answer or a refusal in words, in a private chat and in the admin group."""

from __future__ import annotations

from pathlib import Path

from tests.conftest import NOW
from tests.factories import polling_station
from tests.harness import FakeClock, running_bot, sqlite_file_url
from tests.organiser_steps import COORDINATOR, GROUP, coordinator_with_group

COMMANDS = [
    "/start",
    "/missions",
    "/mymissions",
    "/profile",
    "/lang",
    "/calendar",
    "/block",
    "/mydata",
    "/help",
    "/join",
    "/link",
    "/newmission",
    "/callout",
    "/roster",
    "/settings",
    "/message",
    "/export",
    "/ics",
    "/stats",
    "/poster",
    "/review",
    "/pending",
]
GARBAGE = ["\x00²", "99999999999999999999", "m" + "9" * 300]
APOLOGIES = ("went wrong", "erreur est survenue")


async def test_commands_with_garbage_arguments_never_fail(tmp_path: Path) -> None:
    async with running_bot(sqlite_file_url(tmp_path), FakeClock(NOW)) as bot:
        organisation = await coordinator_with_group(bot)
        await polling_station(bot.db, organisation.id, now=NOW)
        failed: list[tuple[str, str, int | str]] = []
        for command in COMMANDS:
            for junk, chat in [*((j, COORDINATOR) for j in GARBAGE), (GARBAGE[0], GROUP)]:
                before = len(bot.double.messages[chat])
                await bot.settle(bot.double.send_text(COORDINATOR, f"{command} {junk}", chat))
                answers = bot.double.messages[chat][before:]
                if any(a in m.text for m in answers for a in APOLOGIES):
                    failed.append((command, junk, chat))
                if chat == COORDINATOR and not answers:
                    failed.append((command, junk, "no answer"))
        assert failed == []
