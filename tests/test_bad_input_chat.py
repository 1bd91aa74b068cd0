"""Whatever a person sends in the chat (a novel as a town, a control character in a name,
an edit, a sticker, an old button, a command with garbage after it), they get a clear
answer in their language, never "something went wrong"."""

from __future__ import annotations

import itertools
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.text import clean_text, one_line, shorten
from handlers.telegram.limits import MAX_TEXT, fit_html, split_html
from renfort.sandbox.telegram_double import SentMessage
from storage.database import Database
from tests.conftest import NOW
from tests.harness import Bot, FakeClock
from tests.test_volunteer_support import Chat, database_url, register, volunteer_bot

APOLOGY = "Sorry, something went wrong"
APOLOGY_FR = "Désolé, un problème"


def no_apology(messages: list[SentMessage]) -> None:
    for message in messages:
        assert APOLOGY not in message.text and APOLOGY_FR not in message.text
        assert len(message.text) <= MAX_TEXT


async def test_a_4000_character_town_is_refused_with_a_short_echo(tmp_path: Path) -> None:
    async with volunteer_bot(database_url(tmp_path), FakeClock(NOW)) as bot:
        chat = Chat(bot, 1, "Sam", "en")
        await chat.say("/start")
        await chat.tap(chat.last, "Sam")

        answer = await chat.say("Saint-" + "x" * 4000)

        no_apology(answer)
        assert "Sorry, I don't know «Saint-xxx" in answer[-1].text
        assert "…»" in answer[-1].text and len(answer[-1].text) < 500
        assert (await chat.person()).postcode is None
        assert any("Saint-Dizier" in m.text for m in await chat.say("52100"))


async def test_a_control_character_in_a_typed_first_name_is_dropped(db: Database) -> None:
    async with volunteer_bot(db.url, FakeClock(NOW)) as bot:
        chat = Chat(bot, 1, "Sam\x00\x07", "en")
        welcome = await chat.say("/start")
        assert "Keep «Sam»" in welcome[-1].button_texts()

        named = await chat.say("Sami\x00ra\x1b")

        no_apology(named)
        assert "Nice to meet you, Samira!" in named[0].text
        assert (await chat.person()).first_name == "Samira"


async def test_an_edited_message_is_not_read_as_a_fresh_answer(tmp_path: Path) -> None:
    async with volunteer_bot(database_url(tmp_path), FakeClock(NOW)) as bot:
        chat = Chat(bot, 1, "Sam", "fr")
        await chat.say("/start")
        await chat.tap(chat.last, "Sam")

        hint = await chat._exchange(lambda: bot.double.edit_text(1, "Chaumont"))

        assert len(hint) == 1
        assert "Je ne lis pas les messages modifiés" in hint[0].text
        assert (await chat.person()).postcode is None  # still waiting for the place
        assert any("Saint-Dizier" in m.text for m in await chat.say("52100"))


@pytest.mark.parametrize(
    ("kind", "content"),
    [
        (
            "sticker",
            {
                "file_id": "s1",
                "file_unique_id": "u1",
                "type": "regular",
                "width": 512,
                "height": 512,
                "is_animated": False,
                "is_video": False,
            },
        ),
        ("photo", [{"file_id": "p1", "file_unique_id": "u2", "width": 90, "height": 90}]),
        ("voice", {"file_id": "v1", "file_unique_id": "u3", "duration": 4}),
    ],
)
async def test_a_sticker_photo_or_voice_note_gets_a_hint(
    tmp_path: Path, kind: str, content: Any
) -> None:
    async with volunteer_bot(database_url(tmp_path), FakeClock(NOW)) as bot:
        chat = Chat(bot, 1, "Sam", "en")
        await chat.say("/start")

        hint = await chat._exchange(lambda: bot.double.send_attachment(1, kind, content))

        assert len(hint) == 1 and "I can only read text" in hint[0].text


async def test_an_unknown_button_says_it_has_expired(tmp_path: Path) -> None:
    async with volunteer_bot(database_url(tmp_path), FakeClock(NOW)) as bot:
        chat = Chat(bot, 1, "Sam", "en")
        await chat.say("/start")
        for data in ("nope", "x" * 64, "tok\x00en"):
            await bot.settle(bot.double.tap_data(1, chat.last, data))
            answers = [p for m, p in bot.double.calls if m == "answerCallbackQuery"]
            assert "This button has expired" in str(answers[-1].get("text"))
        no_apology(bot.double.messages[1])


@pytest.mark.parametrize(
    "command", ["/start \x00\x01", "/start m99999999999", "/start " + "z" * 300, "/join \x00"]
)
async def test_commands_with_garbage_arguments_get_a_normal_answer(
    tmp_path: Path, command: str
) -> None:
    async with volunteer_bot(database_url(tmp_path), FakeClock(NOW)) as bot:
        chat = Chat(bot, 1, "Sam", "en")
        await register(chat)

        answer = await chat.say(command)

        assert answer
        no_apology(answer)


def test_control_characters_are_dropped_and_line_ends_kept() -> None:
    assert clean_text("a\x00b\x07c\u0085d\ud800e\uffff") == "abcde"
    assert clean_text("line 1\r\nline 2\rline 3\tend") == "line 1\nline 2\nline 3\tend"
    assert clean_text("Zoé 👩‍👧 ok") == "Zoé 👩‍👧 ok"  # ZWJ sequences are not controls


def test_echoed_text_is_cut_with_an_ellipsis() -> None:
    assert shorten("Camille", 10) == "Camille"
    assert shorten("abcdefghijkl", 6) == "abcde…"
    assert one_line("Saint\n\n  Dizier " + "x" * 100, 14) == "Saint Dizier…"


def test_a_long_answer_is_split_at_line_ends_and_tags_stay_balanced() -> None:
    lines = [f"<b>{n}.</b> {'Mission ' * 10}" for n in range(200)]
    parts = split_html("\n".join(lines))
    assert len(parts) > 1 and all(len(p) <= MAX_TEXT for p in parts)
    assert "\n".join(parts) == "\n".join(lines)
    assert all(p.count("<b>") == p.count("</b>") for p in parts)


def test_one_line_too_long_loses_its_tags_but_not_its_meaning() -> None:
    (part,) = split_html("<b>" + "&amp;" * 2000 + "</b>", 100)
    assert len(part) <= 100 and part.endswith("…") and "<b>" not in part
    assert "&amp;&amp;" in part and not part.removesuffix("…").endswith("&amp")


def test_a_single_message_is_cut_when_it_cannot_be_split() -> None:
    text = "\n".join(["head"] + ["line " * 50] * 100)
    cut = fit_html(text)
    assert len(cut) <= MAX_TEXT and cut.startswith("head\n") and cut.endswith("\n…")


@pytest.fixture
async def chat_bot(db: Database) -> AsyncIterator[Bot]:
    """On both databases: PostgreSQL refuses what SQLite stores without a word."""
    async with volunteer_bot(db.url, FakeClock(NOW)) as bot:
        yield bot


typed_texts = st.text(st.characters(codec="utf-8"), min_size=1, max_size=300) | st.sampled_from(
    ["/start " + "\x00" * 3, "/join ²", "0" * 5000, "\u202e52100", "٥٢١٠٠"]
)
_people = itertools.count(1000)


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(name=typed_texts, place=typed_texts, later=typed_texts)
async def test_whatever_is_typed_at_registration_gets_an_answer_not_an_apology(
    chat_bot: Bot, name: str, place: str, later: str
) -> None:
    chat = Chat(chat_bot, next(_people), "Sam", "en")
    answers = [*await chat.say("/start")]
    for text in (name, place, later):
        said = await chat.say(text)
        assert said, f"no answer to {text!r}"
        answers += said
    no_apology(answers)


@pytest.mark.parametrize("command", ["/link", "/callout", "/newmission", "/roster", "/stats"])
async def test_a_command_from_an_anonymous_administrator_is_explained(
    tmp_path: Path, command: str
) -> None:
    async with volunteer_bot(database_url(tmp_path), FakeClock(NOW)) as bot:
        bot.double.group(-100, "Mairie", admins=(1,))

        await bot.settle(bot.double.send_as_chat(-100, command))

        [answer] = bot.double.messages[-100]
        assert "envoyée anonymement" in answer.text


@pytest.mark.parametrize(
    ("command", "language", "expected"),
    [
        ("/missions", "fr", "Envoyez-moi /missions en message privé : @renfort_bot"),
        ("/mydata@renfort_bot", "en", "Send /mydata to me in a private chat: @renfort_bot"),
        ("/start", "en", "Send /start to me in a private chat: @renfort_bot"),
    ],
)
async def test_a_volunteer_command_in_a_group_points_to_the_private_chat(
    tmp_path: Path, command: str, language: str, expected: str
) -> None:
    async with volunteer_bot(database_url(tmp_path), FakeClock(NOW)) as bot:
        Chat(bot, 1, "Sam", language)
        bot.double.group(-100, "Mairie — bénévoles")

        [answer] = await bot.say(1, command, chat_id=-100)

        assert answer.text == expected
        # Someone else's bot command, and talk, are left to the group.
        assert await bot.say(1, "/missions@other_bot", chat_id=-100) == []
        assert await bot.say(1, "bonjour", chat_id=-100) == []
