"""Reading a slot the way coordinators type it: "13/06/2027 8h-13h", "13/06 08:00-13:00",
"2027-06-13 8:00 13:00". Pure functions, so every accepted form is easy to test."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from bot.domain import Period

DATE_ISO = re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})(?!\d)")
DATE_DMY = re.compile(r"^(\d{1,2})[/.-](\d{1,2})(?:[/.-](\d{4}|\d{2}))?(?!\d)")
# "8h", "8h30", "08:00", "8.30", "8", "8am"; minutes stick to their separator so that
# "8h 13h" stays two hours.
TIME = re.compile(r"(?<!\d)(\d{1,2})(?:\s*[h:.](\d{2})?)?\s*(am|pm)?(?!\d)", re.IGNORECASE)
# Weekday names and little words people put before the date ("dimanche", "le", "on").
LEADING_WORDS = re.compile(r"^[^\d]*")
# A slot further ahead is a mistyped year (2072 for 2027), and near year 9999 the
# arithmetic of dates overflows.
YEARS_AHEAD = 3


class SlotTextError(ValueError):
    """Why the text is not a slot; `code` picks the explanation shown to the person."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


def _date(text: str, today: date) -> tuple[date, str]:
    """The date at the start of `text` and what follows it; a missing year means the
    next such day from today on."""
    iso = DATE_ISO.match(text)
    dmy = None if iso else DATE_DMY.match(text)
    if iso is not None:
        year, month, day = (int(g) for g in iso.groups())
        rest = text[iso.end() :]
    elif dmy is not None:
        day, month = int(dmy.group(1)), int(dmy.group(2))
        year_text = dmy.group(3)
        year = (int(year_text) + (2000 if len(year_text) == 2 else 0)) if year_text else 0
        rest = text[dmy.end() :]
    else:
        raise SlotTextError("no_date")
    try:
        if year:
            return date(year, month, day), rest
        found = date(today.year, month, day)
        if found < today:
            found = date(today.year + 1, month, day)
        return found, rest
    except ValueError:
        raise SlotTextError("no_such_date") from None


def _clock(hour_text: str, minute_text: str | None, meridiem: str | None) -> tuple[int, int]:
    hour, minute = int(hour_text), int(minute_text or 0)
    if meridiem:
        if not 1 <= hour <= 12:
            raise SlotTextError("bad_time")
        hour = hour % 12 + (12 if meridiem.lower() == "pm" else 0)
    if hour > 24 or minute > 59 or (hour == 24 and minute):
        raise SlotTextError("bad_time")
    return hour, minute


def _local(day: date, hour: int, minute: int, zone: ZoneInfo) -> datetime:
    """An aware time on `day`; 24:00 is midnight at its end. A wall time skipped by the
    spring daylight-saving change does not exist and is refused rather than shifted."""
    if hour == 24:
        day, hour = day + timedelta(days=1), 0
    wall = datetime.combine(day, time(hour, minute), tzinfo=zone)
    if wall.astimezone(UTC).astimezone(zone).replace(tzinfo=None) != wall.replace(tzinfo=None):
        raise SlotTextError("clock_gap")
    return wall


def parse_slot(
    text: str, *, zone: ZoneInfo, now: datetime, duration: timedelta | None = None
) -> Period:
    """The slot typed as a date then start and end hours, in `zone`; an end before the
    start means the slot runs past midnight (a night shift). With a `duration`, the start
    alone is enough."""
    cleaned = LEADING_WORDS.sub("", text.strip().replace("–", "-").replace("—", "-"))
    today = now.astimezone(zone).date()
    day, rest = _date(cleaned, today)
    if day < today:
        raise SlotTextError("past")
    if day.year > today.year + YEARS_AHEAD:
        raise SlotTextError("too_far")
    times = TIME.findall(rest)
    if len(times) == 1 and duration is not None:
        starts_at = _local(day, *_clock(*times[0]), zone)
        if starts_at <= now:
            raise SlotTextError("past")
        # Added in UTC: a slot across a clock change still lasts `duration`.
        return Period(starts_at.astimezone(UTC), starts_at.astimezone(UTC) + duration)
    if len(times) != 2:
        raise SlotTextError("hours")
    start_hm, end_hm = (_clock(*found) for found in times)
    if end_hm == start_hm:
        raise SlotTextError("same_time")
    starts_at = _local(day, *start_hm, zone)
    ends_at = _local(day if end_hm > start_hm else day + timedelta(days=1), *end_hm, zone)
    if starts_at <= now:
        raise SlotTextError("past")
    return Period(starts_at.astimezone(UTC), ends_at.astimezone(UTC))
