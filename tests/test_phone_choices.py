"""What a phone message offers to choose is declared where the message is written: WhatsApp
shows it as quick replies, SMS shows the same text, and nothing is guessed from the words."""

from __future__ import annotations

import re
from dataclasses import replace

from bot.buttons import Button
from bot.i18n import Translator
from bot.messaging.message import Choice, Message, message
from handlers.sms import replies
from handlers.sms.render import RENDERERS, notification_message
from handlers.sms.render.shared import yes_no_choices
from handlers.whatsapp.sender import TITLE_CHARS, quick_replies
from handlers.whatsapp.templates import SPECS
from tests.conftest import NOW
from tests.test_sms_segments import (
    LONGEST_ALERT,
    TODAY,
    application,
    card,
    detail,
    payload,
    templates,
    translators,
)

EN = Translator("en")


def notification(kind: str, t: Translator) -> Message:
    extra = {"status": "approved", "text": LONGEST_ALERT, "recipient_id": 1, "organisation_id": 1}
    return notification_message(kind, payload(**extra), t, NOW)


def every_message() -> list[tuple[str, Translator, Message]]:
    """Every reply of the conversation and every notification, in both languages."""
    found = []
    for locale, t in translators().items():
        for name, render in templates().items():
            if not name.startswith("notify:"):
                found.append((f"{name} ({locale})", t, message(render(t))))
        for kind in RENDERERS:
            found.append((f"{kind} ({locale})", t, notification(kind, t)))
    return found


def says_yes_and_no(t: Translator, text: str) -> bool:
    words = set(re.findall(r"\b[A-Z]+\b", text))
    return t._("YES") in words and t._("NO") in words


def test_every_message_that_asks_for_yes_or_no_offers_exactly_yes_and_no() -> None:
    for name, t, asked in every_message():
        offers = asked.choices == yes_no_choices(t)
        assert offers == says_yes_and_no(t, asked.text), name


def test_the_notifications_asking_yes_or_no_are_those_whose_template_has_the_buttons() -> None:
    # Outside the 24-hour window the template's buttons stand in for the declared choices.
    with_buttons = {kind for spec in SPECS if spec.yes_no for kind in spec.kinds}
    asking = {kind for kind in RENDERERS if notification(kind, EN).choices == yes_no_choices(EN)}
    assert asking == with_buttons


def test_a_short_mission_list_offers_each_slot_as_a_quick_reply() -> None:
    listing, shown = replies.mission_list(
        EN, [card(1), card(2)], 1, lambda k: False, TODAY, {1: 1, 2: 3}
    )
    assert shown == 2
    buttons = quick_replies(listing.choices)
    assert [b.reply for b in buttons] == ["1.1", "2.3"]
    assert all(len(b.label) <= TITLE_CHARS for b in buttons)
    assert [b.label.split()[0] for b in buttons] == ["1.1", "2.3"]  # the code shows too


def test_a_long_mission_list_stays_a_numbered_menu() -> None:
    cards = [
        replace(card(i), title=f"Bureau {i}", distance_km=None, postcode="") for i in (1, 2, 3, 4)
    ]
    listing, shown = replies.mission_list(EN, cards, 1, lambda k: False, TODAY)
    assert shown == 4 and [c.reply for c in listing.choices] == ["1", "2", "3", "4"]
    assert quick_replies(listing.choices) == ()
    assert listing.text.startswith("1 Bureau 1")


def test_whatsapp_offers_only_the_choices_a_person_could_type() -> None:
    # A choice only a Telegram tap can make (a link) is no quick reply, nor counts as one.
    link = Choice("Map", action=Button("Map", "", url="https://example.org/map"))
    asked = Message("Coming?", (*yes_no_choices(EN), link, link))
    assert quick_replies(asked.choices) == yes_no_choices(EN)


def test_an_address_starting_with_a_number_is_not_offered_as_a_slot() -> None:
    mission = replace(detail(), address="12 rue Victor-Hugo, 52100 Saint-Dizier")
    page, shown = replies.mission_detail(EN, mission, mission.slots[:2], 1, lambda k: False)
    assert "\n12 rue Victor-Hugo" in page.text
    assert [c.reply for c in page.choices] == ["1", "2"] and shown == 2


def test_a_relayed_message_that_mentions_yes_and_no_offers_no_quick_replies() -> None:
    relayed = notification_message(
        "relay_to_volunteer",
        {"organisation_name": "Mairie", "text": "Answer YES or NO to Paul at the door."},
        EN,
        NOW,
    )
    assert "YES or NO" in relayed.text and relayed.choices == ()


def test_the_numbers_of_my_missions_are_not_offered_alone() -> None:
    # A bare number there means nothing: cancelling one takes CANCEL and its number.
    mine, _shown = replies.my_missions(EN, [application()], 1, lambda k: False, TODAY)
    assert isinstance(mine, str) and mine.startswith("Your missions:\n1 ")


def test_yes_and_no_are_offered_in_the_readers_language() -> None:
    asked = replies.confirm_cancel(Translator("fr"), application(), TODAY)
    assert asked.choices == (Choice("Oui", "OUI"), Choice("Non", "NON"))
