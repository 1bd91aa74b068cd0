"""Language: the person's choice wins, dates read naturally, French is really translated."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from bot import i18n
from bot.i18n import CatalogueMissing, Translator, check_catalogues, resolve_locale
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


def test_a_missing_or_empty_catalogue_stops_instead_of_speaking_english(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """gettext would fall back to the English ids without a word; Renfort refuses."""
    monkeypatch.setattr(i18n, "LOCALES_DIR", tmp_path)
    i18n._translations.cache_clear()
    try:
        with pytest.raises(CatalogueMissing, match="'fr'"):
            check_catalogues()
        header_only = tmp_path / "fr" / "LC_MESSAGES" / "messages.po"
        header_only.parent.mkdir(parents=True)
        header_only.write_text('msgid ""\nmsgstr "Content-Type: text/plain; charset=UTF-8\\n"\n')
        with pytest.raises(CatalogueMissing, match="no messages"):
            Translator("fr")
    finally:
        i18n._translations.cache_clear()


def test_a_changed_catalogue_is_read_again_not_served_from_the_kept_copy(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A checkout keeps each compiled catalogue for the next start; an edited .po wins."""
    monkeypatch.setattr(i18n, "LOCALES_DIR", tmp_path)
    source = tmp_path / "fr" / "LC_MESSAGES" / "messages.po"
    source.parent.mkdir(parents=True)
    header = 'msgid ""\nmsgstr "Content-Type: text/plain; charset=UTF-8\\n"\n\n'
    i18n._translations.cache_clear()
    try:
        source.write_text(header + 'msgid "Help"\nmsgstr "Aide"\n')
        assert Translator("fr")._("Help") == "Aide"
        assert len(list((source.parent / "__pycache__").glob("*.mo"))) == 1
        i18n._translations.cache_clear()
        assert Translator("fr")._("Help") == "Aide"  # from the kept copy
        source.write_text(header + 'msgid "Help"\nmsgstr "Au secours"\n')
        i18n._translations.cache_clear()
        assert Translator("fr")._("Help") == "Au secours"
        assert len(list((source.parent / "__pycache__").glob("*.mo"))) == 1
    finally:
        i18n._translations.cache_clear()
