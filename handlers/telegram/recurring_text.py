"""Reading a recurring slot the way coordinators type it, in English or French: "every
Tuesday 9:00-12:00 until 30 June", "tous les mardis 9h-12h jusqu'au 30 juin", "every Monday
and Thursday 14h-17h from 1/9 until 15/12", "chaque samedi 8h30-12h jusqu'au 28/06/2027".
Each date gets its hours on the wall clock of the zone, so a series across a change of
daylight-saving time keeps 9:00 on both sides. Pure functions, like slot_text."""

from __future__ import annotations

import re
import unicodedata
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from bot.domain import Period
from handlers.telegram.slot_text import TIME, SlotTextError, _clock, _date, _local

# How far ahead a series may reach, and how many slots one message may create.
LONGEST = timedelta(days=366)
MOST = 60

RECURRING = re.compile(r"\b(every|each|tous les|toutes les|chaque)\b")
WEEKDAYS: dict[str, int] = {
    "monday": 0, "mon": 0, "lundi": 0,
    "tuesday": 1, "tue": 1, "tues": 1, "mardi": 1,
    "wednesday": 2, "wed": 2, "mercredi": 2,
    "thursday": 3, "thu": 3, "thur": 3, "thurs": 3, "jeudi": 3,
    "friday": 4, "fri": 4, "vendredi": 4,
    "saturday": 5, "sat": 5, "samedi": 5,
    "sunday": 6, "sun": 6, "dimanche": 6,
}  # fmt: skip
EVERY_DAY = re.compile(r"\b(every day|each day|daily|tous les jours|chaque jour)\b")
MONTHS: dict[str, int] = {
    "january": 1, "janvier": 1, "february": 2, "fevrier": 2, "march": 3, "mars": 3,
    "april": 4, "avril": 4, "may": 5, "mai": 5, "june": 6, "juin": 6, "july": 7,
    "juillet": 7, "august": 8, "aout": 8, "september": 9, "septembre": 9, "october": 10,
    "octobre": 10, "november": 11, "novembre": 11, "december": 12, "decembre": 12,
}  # fmt: skip
# "30 June", "30 juin 2027", "June 30", "le 30/06", "30/06/2027".
WORD_DATE = re.compile(
    r"^(?:le\s+|the\s+)?(\d{1,2})(?:st|nd|rd|th|er)?\s+([a-z]+)\.?(?:\s+(\d{4}))?"
)
WORD_DATE_US = re.compile(r"^([a-z]+)\.?\s+(\d{1,2})(?:st|nd|rd|th)?(?:,?\s+(\d{4}))?")
UNTIL = re.compile(r"\b(?:until|till|through|to|jusqu au|jusqu a|au)\s+")
FROM = re.compile(r"\b(?:from|starting|a partir du|a partir de|des le|du)\s+")


def _plain(text: str) -> str:
    """Lower case, no accents, one kind of dash and apostrophes as spaces."""
    decomposed = unicodedata.normalize("NFKD", text)
    plain = "".join(c for c in decomposed if not unicodedata.combining(c)).lower()
    for dash in "–—":
        plain = plain.replace(dash, "-")
    for mark in "'’":
        plain = plain.replace(mark, " ")
    return " ".join(plain.split())


def _month(word: str) -> int | None:
    if word in MONTHS:
        return MONTHS[word]
    found = {n for name, n in MONTHS.items() if len(word) >= 3 and name.startswith(word)}
    return found.pop() if len(found) == 1 else None


def _date_at(text: str, today: date) -> tuple[date, int]:
    """A date at the start of `text` (numbers or a month's name) and how much it took."""
    for pattern, day_group, month_group in ((WORD_DATE, 1, 2), (WORD_DATE_US, 2, 1)):
        match = pattern.match(text)
        month = _month(match.group(month_group)) if match else None
        if match is None or month is None:
            continue
        day, year = int(match.group(day_group)), match.group(3)
        try:
            found = date(int(year) if year else today.year, month, day)
        except ValueError:
            raise SlotTextError("no_such_date") from None
        if not year and found < today:
            found = found.replace(year=today.year + 1)
        return found, match.end()
    cleaned = re.sub(r"^(?:le|the)\s+", "", text)
    found, rest = _date(cleaned, today)
    return found, len(text) - len(rest)


def _cut_date(text: str, marker: re.Pattern[str], today: date) -> tuple[date | None, str]:
    """The date after `marker` ("until 30 June"), and the text without that clause; a
    marker not followed by a date ("9h to 12h") is left alone."""
    for match in marker.finditer(text):
        try:
            found, used = _date_at(text[match.end() :], today)
        except SlotTextError as error:
            if error.code == "no_date":
                continue
            raise
        return found, text[: match.start()] + " " + text[match.end() + used :]
    return None, text


def is_recurring(text: str) -> bool:
    return RECURRING.search(_plain(text)) is not None


def parse_recurring(text: str, *, zone: ZoneInfo, now: datetime, most: int = MOST) -> list[Period]:
    """Every slot of the series typed in `text`, in order; SlotTextError says what is wrong
    ("no_days", "no_until", "hours", "too_many", "until_before", or slot_text's codes)."""
    plain = _plain(text)
    today = now.astimezone(zone).date()
    until, plain = _cut_date(plain, UNTIL, today)
    if until is None:
        raise SlotTextError("no_until")
    start, plain = _cut_date(plain, FROM, today)
    start = max(start or today, today)
    if until < start:
        raise SlotTextError("until_before")
    if until - start > LONGEST:
        raise SlotTextError("too_many")
    if EVERY_DAY.search(plain):
        days = set(range(7))
    else:
        words = re.findall(r"[a-z]+", plain)
        days = {WEEKDAYS[w.rstrip("s")] for w in words if w.rstrip("s") in WEEKDAYS}
        days |= {WEEKDAYS[w] for w in words if w in WEEKDAYS}
    if not days:
        raise SlotTextError("no_days")
    times = TIME.findall(plain)
    if len(times) != 2:
        raise SlotTextError("hours")
    start_hm, end_hm = (_clock(*found) for found in times)
    if start_hm == end_hm:
        raise SlotTextError("same_time")
    periods: list[Period] = []
    day = start
    while day <= until:
        if day.weekday() in days:
            starts_at = _local(day, *start_hm, zone)
            ends_at = _local(day if end_hm > start_hm else day + timedelta(days=1), *end_hm, zone)
            if starts_at > now:
                periods.append(Period(starts_at.astimezone(UTC), ends_at.astimezone(UTC)))
                if len(periods) > most:
                    raise SlotTextError("too_many")
        day += timedelta(days=1)
    if not periods:
        raise SlotTextError("past")
    return periods
