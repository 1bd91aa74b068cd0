"""Translations and locale-aware formatting.

Message ids are English; `locales/fr` and `locales/en` translate every one of them. Use
`Translator._` for a message, `Translator.n_` for plurals and `N_` to mark constants for
extraction without translating them yet.

The .po files under `locales/` are the source of truth. A built wheel carries them compiled
as `bot/locales/<locale>/LC_MESSAGES/messages.mo` (setup.py does it); a checkout or an
editable install has no such files and compiles the .po files itself, keeping the result
beside them under `__pycache__` named by the .po file's digest (parsing the .po files took
about 0.1 s of every start)."""

from __future__ import annotations

import gettext as stdlib_gettext
import hashlib
import os
from datetime import date, datetime, time
from functools import cache
from importlib import resources
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
PACKAGED_LOCALES = "locales"  # under the bot package, in a built wheel only
DOMAIN = "messages"


class CatalogueMissing(RuntimeError):
    """No usable catalogue for a supported language: better stop than speak English to
    people who chose French (gettext would fall back to the message ids without a word)."""


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
    """The catalogue of `locale`, from the wheel's compiled copy or the checkout's .po file."""
    packaged = resources.files("bot").joinpath(PACKAGED_LOCALES, locale, "LC_MESSAGES")
    compiled_file = packaged.joinpath(f"{DOMAIN}.mo")
    source = LOCALES_DIR / locale / "LC_MESSAGES" / f"{DOMAIN}.po"
    if compiled_file.is_file():
        with compiled_file.open("rb") as handle:
            translations = Translations(handle, domain=DOMAIN)
    elif source.is_file():
        translations = Translations(BytesIO(_compiled_po(source, locale)), domain=DOMAIN)
    else:
        raise CatalogueMissing(
            f"no {locale!r} catalogue: neither {compiled_file} in the installed package"
            f" nor {source} in a checkout (was the wheel built with setup.py?)"
        )
    # Only the header: a truncated or emptied file, which gettext would accept silently.
    messages: dict[object, str] = getattr(translations, "_catalog", {})
    if len(messages) <= 1:
        raise CatalogueMissing(f"the {locale!r} catalogue has no messages")
    return translations


def check_catalogues() -> None:
    """Load every supported language's catalogue now, so a broken install stops at start."""
    for locale in SUPPORTED_LOCALES:
        _translations(locale)


def _compiled_po(source: Path, locale: str) -> bytes:
    """The .mo bytes of a checkout's .po file: no build step, and never stale, since the
    kept copy is named by the digest of the very bytes it was compiled from."""
    text = source.read_bytes()
    digest = hashlib.sha256(text).hexdigest()[:20]
    kept = source.parent / "__pycache__" / f"{DOMAIN}-{digest}.mo"
    try:
        return kept.read_bytes()
    except OSError:
        pass
    compiled = BytesIO()
    write_mo(compiled, read_po(BytesIO(text), locale=locale))
    data = compiled.getvalue()
    try:
        kept.parent.mkdir(exist_ok=True)
        for old in kept.parent.glob(f"{DOMAIN}-*.mo"):
            old.unlink(missing_ok=True)
        partial = kept.with_suffix(f".{os.getpid()}.tmp")
        partial.write_bytes(data)
        os.replace(partial, kept)  # another process never reads half a file
    except OSError:
        pass  # a read-only checkout compiles at every start, as before
    return data


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
