"""Translations and locale-aware formatting.

Message ids are English; `locales/fr` and `locales/en` translate every one of them. Use
`Translator._` for a message, `Translator.n_` for plurals and `N_` to mark constants for
extraction without translating them yet."""

from __future__ import annotations

import gettext as stdlib_gettext
from datetime import date, datetime, time
from functools import cache
from io import BytesIO
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from babel import Locale
from babel.dates import format_date, format_time
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.numbers import format_decimal
from babel.support import Translations

from bot.config import SUPPORTED_LOCALES

LOCALES_DIR = Path(__file__).resolve().parent.parent / "locales"
DOMAIN = "messages"


def N_(message: str) -> str:
    """Mark a constant for extraction; translate it later with `Translator._`."""
    return message


def resolve_locale(chosen: str | None, telegram_language: str | None, default: str) -> str:
    """The person's choice, else their Telegram language, else the service default."""
    for candidate in (chosen, telegram_language):
        if candidate:
            short = candidate.replace("_", "-").split("-")[0].lower()
            if short in SUPPORTED_LOCALES:
                return short
    return default


@cache
def _translations(locale: str) -> stdlib_gettext.NullTranslations:
    """The catalogue compiled in memory from its .po file: no build step, never stale."""
    path = LOCALES_DIR / locale / "LC_MESSAGES" / f"{DOMAIN}.po"
    if not path.exists():
        return stdlib_gettext.NullTranslations()
    with path.open("rb") as handle:
        catalog = read_po(handle, locale=locale)
    compiled = BytesIO()
    write_mo(compiled, catalog)
    compiled.seek(0)
    return Translations(compiled, domain=DOMAIN)


class Translator:
    """Everything a handler or renderer needs to speak one person's language."""

    def __init__(self, locale: str) -> None:
        self.locale = locale
        self._t = _translations(locale)

    def _(self, message: str, /, **values: Any) -> str:
        text = self._t.gettext(message)
        return text.format(**values) if values else text

    def n_(self, singular: str, plural: str, n: int, /, **values: Any) -> str:
        text = self._t.ngettext(singular, plural, n)
        return text.format(n=n, **values)

    def weekday_date(self, when: datetime | date) -> str:
        """'dimanche 13 juin 2027' / 'Sunday 13 June 2027'."""
        return format_date(when, "EEEE d MMMM y", locale=self.locale)

    def short_date(self, when: datetime | date) -> str:
        """'dim. 13 juin' / 'Sun 13 Jun'."""
        return format_date(when, "EEE d MMM", locale=self.locale)

    def clock(self, when: datetime | time) -> str:
        """'08:00' / '8:00 AM'."""
        return format_time(when, "short", locale=self.locale)

    def slot_span(self, starts_at: datetime, ends_at: datetime, zone: ZoneInfo) -> str:
        """The slot as a person reads it, in the mission's time zone."""
        start, end = starts_at.astimezone(zone), ends_at.astimezone(zone)
        if start.date() == end.date():
            return self._(
                "{day}, {start}–{end}",
                day=self.weekday_date(start),
                start=self.clock(start),
                end=self.clock(end),
            )
        return self._(
            "{day} {start} to {end_day} {end}",
            day=self.weekday_date(start),
            start=self.clock(start),
            end_day=self.weekday_date(end),
            end=self.clock(end),
        )

    def language_name(self, locale: str) -> str:
        return (Locale.parse(locale).get_display_name(locale) or locale).capitalize()

    def distance(self, km: float) -> str:
        if km < 1:
            return self._("{metres} m", metres=int(round(km * 1000, -1)))
        decimal = format_decimal(round(km, 1), format="#,##0.0", locale=self.locale)
        return self._("{km} km", km=decimal)
