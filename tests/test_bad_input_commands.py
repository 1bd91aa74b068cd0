"""Every command with garbage after it (control characters, a huge number, a novel)
gets its usual answer or a refusal in words, in a private chat and in the admin group."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.conftest import NOW
from tests.factories import polling_station
from tests.harness import Bot, FakeClock, running_bot, sqlite_file_url
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


@pytest.fixture
async def coordinator_bot(tmp_path: Path) -> AsyncIterator[Bot]:
    async with running_bot(sqlite_file_url(tmp_path), FakeClock(NOW)) as bot:
        await coordinator_with_group(bot)
        yield bot


typed = st.text(st.characters(codec="utf-8"), min_size=1, max_size=120) | st.sampled_from(
    ["13/06/2027 8h-13h", "31/12/9999 20h-6h", "12 rue de la République, 52100", "4", "0", "²"]
)


@settings(
    max_examples=15,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(texts=st.lists(typed, min_size=5, max_size=5))
async def test_whatever_is_typed_in_the_new_mission_wizard_gets_an_answer(
    coordinator_bot: Bot, texts: list[str]
) -> None:
    bot = coordinator_bot
    answers = await bot.say(COORDINATOR, "/newmission")
    for text in texts:
        said = await bot.say(COORDINATOR, text)
        assert said, f"no answer to {text!r}"
        answers += said
    assert not [m.text for m in answers if any(a in m.text for a in APOLOGIES)]
