"""Language: the person's choice wins, dates read naturally, French is really translated."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from bot.i18n import Translator, resolve_locale
from bot.i18n_check import LANGUAGES, extract, load, problems

PARIS = ZoneInfo("Europe/Paris")


def test_a_persons_choice_beats_their_telegram_language_which_beats_the_default() -> None:
    assert resolve_locale("en", "fr", "fr") == "en"
    assert resolve_locale(None, "en-GB", "fr") == "en"
    assert resolve_locale(None, "de", "fr") == "fr"
    assert resolve_locale(None, None, "en") == "en"


def test_a_slot_reads_with_the_weekday_and_date_in_full_in_the_missions_zone() -> None:
    start = datetime.fromisoformat("2027-06-13T06:00:00+00:00")
    end = datetime.fromisoformat("2027-06-13T11:00:00+00:00")
    assert Translator("fr").slot_span(start, end, PARIS) == "dimanche 13 juin 2027, 08:00–13:00"
    assert (
        Translator("en").slot_span(start, end, PARIS)
        == "Sunday 13 June 2027, 8:00\u202fAM–1:00\u202fPM"
    )


def test_french_messages_are_really_translated_not_left_in_english() -> None:
    apology = "Sorry, something went wrong on our side. Please try again in a moment."
    french = Translator("fr")._(apology)
    assert french != apology and "désolé" in french.lower()
    assert Translator("en")._(apology) == apology


def test_every_message_in_the_code_is_translated_in_french_and_english() -> None:
    template = extract()
    assert [p for language in LANGUAGES for p in problems(template, load(language), language)] == []
