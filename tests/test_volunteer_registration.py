"""A volunteer registers, resumes after a restart, changes their profile and language."""

from __future__ import annotations

import json
from pathlib import Path

from bot.domain import DOMAINS
from bot.services.errors import InvalidInput
from handlers.telegram.common import refusal_text
from renfort.sandbox.telegram_double import TelegramDouble
from tests.conftest import NOW
from tests.factories import SAINT_DIZIER, volunteer
from tests.harness import FakeClock
from tests.test_volunteer_support import (
    BAR_LE_DUC,
    Chat,
    database_url,
    register,
    volunteer_bot,
)


def asked_for_location(double: TelegramDouble, chat_id: int) -> bool:
    """Whether the last reply keyboard sent to the chat has Telegram's location button."""
    for method, params in reversed(double.calls):
        markup = params.get("reply_markup")
        if method == "sendMessage" and int(params["chat_id"]) == chat_id and markup:
            markup = json.loads(markup) if isinstance(markup, str) else markup
            if "keyboard" in markup:
                return any(b.get("request_location") for row in markup["keyboard"] for b in row)
    return False


async def test_a_volunteer_registers_in_french_keeping_the_telegram_name(tmp_path: Path) -> None:
    async with volunteer_bot(database_url(tmp_path), FakeClock(NOW)) as bot:
        chat = Chat(bot, 1, "Camille", "fr")

        welcome = await chat.say("/start")
        assert "Camille" in " ".join(welcome[-1].button_texts())
        assert "English" in " ".join(welcome[-1].button_texts())  # the other language on offer

        await chat.tap(chat.last, "Camille")
        assert asked_for_location(bot.double, 1)

        noted = await chat.say("52100")
        assert any("Saint-Dizier" in m.text for m in noted)
        keyboard = chat.last
        assert chat.domain("citizenship") in keyboard.button_texts()

        await chat.tap(keyboard, chat.domain("citizenship"))
        await chat.tap(keyboard, chat.domain("solidarity"))
        await chat.tap(keyboard, chat.domain("solidarity"))
        assert "✓ " + chat.domain("citizenship") in keyboard.button_texts()
        assert chat.domain("solidarity") in keyboard.button_texts()  # ticked, then unticked

        await chat.tap(keyboard, "✅")
        assert "Camille" in keyboard.text and "Saint-Dizier" in keyboard.text
        assert "/missions" in keyboard.text

        person = await chat.person()
        assert person.registered and person.first_name == "Camille"
        assert person.postcode == "52100" and person.interests == ("citizenship",)
        assert person.search_radius_km == 30


async def test_the_same_registration_in_english_with_a_typed_name_and_town(
    tmp_path: Path,
) -> None:
    async with volunteer_bot(database_url(tmp_path), FakeClock(NOW)) as bot:
        chat = Chat(bot, 2, "Sam", "en")

        welcome = await chat.say("/start")
        assert "Welcome" in welcome[0].text
        assert "Keep «Sam»" in welcome[-1].button_texts()
        assert "Français" in " ".join(welcome[-1].button_texts())

        named = await chat.say("Samira")
        assert "Samira" in named[0].text
        assert "Where do you live?" in named[-1].text

        await chat.say("chaumont")
        keyboard = chat.last
        assert "Solidarity and food aid" in keyboard.button_texts()
        await chat.tap(keyboard, "Solidarity and food aid")
        await chat.tap(keyboard, "Done")

        assert "registered" in keyboard.text and "Samira" in keyboard.text
        assert "Chaumont" in keyboard.text and "Solidarity and food aid" in keyboard.text
        person = await chat.person()
        assert person.registered and person.town == "Chaumont"


async def test_a_place_the_geocoder_does_not_know_gets_a_friendly_retry(tmp_path: Path) -> None:
    async with volunteer_bot(database_url(tmp_path), FakeClock(NOW)) as bot:
        chat = Chat(bot, 3, "Camille", "en")
        await chat.say("/start")
        await chat.tap(chat.last, "Camille")

        retry = await chat.say("99999")
        assert len(retry) == 1 and "99999" in retry[0].text and "postcode" in retry[0].text
        assert asked_for_location(bot.double, 3)
        assert (await chat.person()).home is None

        await chat.say("Langres")
        assert "Done" in " ".join(chat.last.button_texts())
        assert (await chat.person()).town == "Langres"


async def test_a_name_without_letters_is_asked_again_at_the_same_step(tmp_path: Path) -> None:
    async with volunteer_bot(database_url(tmp_path), FakeClock(NOW)) as bot:
        chat = Chat(bot, 4, "Camille", "en")
        await chat.say("/start")

        refused = await chat.say("1234")
        assert refused[-1].text == refusal_text(chat.t, InvalidInput("first_name"))

        accepted = await chat.say("Léa")
        assert "Léa" in accepted[0].text and "Where do you live?" in accepted[-1].text


async def test_a_shared_location_answers_where_the_volunteer_lives(tmp_path: Path) -> None:
    async with volunteer_bot(database_url(tmp_path), FakeClock(NOW)) as bot:
        chat = Chat(bot, 5, "Camille", "en")
        await chat.say("/start")

        # Shared too early, it is kept, and the name is asked again.
        early = await chat.share_location(BAR_LE_DUC)
        assert "Keep «Camille»" in early[-1].button_texts()
        assert (await chat.person()).home == BAR_LE_DUC

        # The home is known: the interests come next, where they live is not asked again.
        kept = await chat.tap(chat.last, "Camille")
        assert "Done" in " ".join(kept[-1].button_texts())
        assert not asked_for_location(bot.double, 5)

        # Shared again, it moves the home and the interests stay on screen.
        await chat.share_location(SAINT_DIZIER)
        assert "Done" in " ".join(chat.last.button_texts())
        home = (await chat.person()).home
        assert home is not None and abs(home.latitude - SAINT_DIZIER.latitude) < 1e-6


async def test_registration_survives_restarts_at_the_same_step_and_with_old_buttons(
    tmp_path: Path,
) -> None:
    url, clock, double = database_url(tmp_path), FakeClock(NOW), TelegramDouble()
    await double.start()
    try:
        async with volunteer_bot(url, clock, double) as bot:
            chat = Chat(bot, 6, "Camille", "fr")
            await chat.say("/start")
            await chat.tap(chat.last, "Camille")

        async with volunteer_bot(url, clock, double) as bot:
            chat.bot = bot
            await chat.say("Saint-Dizier")
            keyboard = chat.last
            assert chat.domain("environment") in keyboard.button_texts()

        async with volunteer_bot(url, clock, double) as bot:
            chat.bot = bot
            await chat.tap(keyboard, chat.domain("environment"))
            assert "✓ " + chat.domain("environment") in keyboard.button_texts()
            await chat.tap(keyboard, "✅")
            person = await chat.person()
            assert person.registered and person.interests == ("environment",)
    finally:
        await double.stop()


async def test_start_welcomes_a_registered_volunteer_back_with_the_commands(
    tmp_path: Path,
) -> None:
    async with volunteer_bot(database_url(tmp_path), FakeClock(NOW)) as bot:
        await volunteer(bot.db, 7, "Camille")
        chat = Chat(bot, 7, "Camille", "fr")
        answer = await chat.say("/start")
        assert len(answer) == 1
        assert "Camille" in answer[0].text
        assert "/missions" in answer[0].text and "/mymissions" in answer[0].text


async def test_lang_switches_to_english_and_answers_in_english(tmp_path: Path) -> None:
    async with volunteer_bot(database_url(tmp_path), FakeClock(NOW)) as bot:
        await volunteer(bot.db, 8, "Camille")
        chat = Chat(bot, 8, "Camille", "fr")
        menu = (await chat.say("/lang"))[-1]
        assert "✓ Français" in menu.button_texts()

        await chat.tap(menu, "English")
        assert "I will speak English" in menu.text
        assert (await chat.person()).locale == "en"
        help_text = (await chat.say("what?"))[-1].text
        assert "Here is what I can do" in help_text and "/missions" in help_text


async def test_the_language_can_be_switched_during_registration(tmp_path: Path) -> None:
    async with volunteer_bot(database_url(tmp_path), FakeClock(NOW)) as bot:
        chat = Chat(bot, 9, "Camille", "fr")
        await chat.say("/start")
        answer = await chat.tap(chat.last, "English")
        assert "What is your first name?" in answer[-1].text
        assert "Keep «Camille»" in answer[-1].button_texts()


async def test_profile_shows_what_is_stored_and_changes_radius_and_name(tmp_path: Path) -> None:
    async with volunteer_bot(database_url(tmp_path), FakeClock(NOW)) as bot:
        chat = Chat(bot, 10, "Camille", "en")
        await register(chat, "52100", ("citizenship",))

        profile = (await chat.say("/profile"))[-1]
        for shown in ("Camille", "Saint-Dizier", "Citizenship and elections", "English", "30 km"):
            assert shown in profile.text

        await chat.tap(profile, "🔎")
        await chat.tap(profile, "10 km")
        assert "10 km" in profile.text
        assert (await chat.person()).search_radius_km == 10

        await chat.tap(profile, "👤")
        renamed = await chat.say("Camille-Rose")
        assert "Camille-Rose" in renamed[-1].text
        assert (await chat.person()).first_name == "Camille-Rose"

        profile = chat.last
        await chat.tap(profile, "📍")
        assert asked_for_location(bot.double, 10)
        moved = await chat.say("Nancy")
        assert "Nancy" in moved[-1].text and "Your profile" in moved[-1].text
        assert (await chat.person()).postcode == "54000"

        # Text after the change is not taken for a name any more.
        assert "/missions" in (await chat.say("hello"))[-1].text
        assert (await chat.person()).first_name == "Camille-Rose"


async def test_done_with_every_interest_unticked_in_the_profile_means_every_kind(
    tmp_path: Path,
) -> None:
    async with volunteer_bot(database_url(tmp_path), FakeClock(NOW)) as bot:
        chat = Chat(bot, 11, "Camille", "en")
        await register(chat, "52100", ("citizenship",))
        profile = (await chat.say("/profile"))[-1]
        await chat.tap(profile, "❤️")
        await chat.tap(profile, chat.domain("citizenship"))
        assert not any(label.startswith("✓") for label in profile.button_texts())

        await chat.tap(profile, "Done")

        assert "Interests: everything" in profile.text
        # As at registration: a callout of any kind reaches them, not none.
        assert set((await chat.person()).interests) == set(DOMAINS)
        await chat.tap(profile, "❤️")
        assert "✓ " + chat.domain("sport") in profile.button_texts()


async def test_a_number_shared_while_registering_brings_the_question_back(tmp_path: Path) -> None:
    async with volunteer_bot(database_url(tmp_path), FakeClock(NOW)) as bot:
        chat = Chat(bot, 1, "Camille", "en")
        await chat.say("/start")
        await chat.tap(chat.last, "Camille")
        answered = await chat.share_contact("+33612345678")
        assert "Thank you" in answered[0].text
        assert "Where do you live?" in answered[-1].text and asked_for_location(bot.double, 1)
        noted = await chat.say("52100")
        assert any("Saint-Dizier" in m.text for m in noted)
