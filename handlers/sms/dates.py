"""Dates as short as an SMS needs and as plain as people say them: "dim. 7 juil. 8h-13h",
"Sun 7 Jul 8am-1pm". The weekday removes any doubt about the day; the year appears only
when it is not the current one."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

from babel.dates import format_date


def day(locale: str, when: datetime | date, today: date | None = None) -> str:
    """'dim. 7 juil.' / 'Sun 7 Jul', with the year when it differs from today's."""
    pattern = "EEE d MMM" if today is None or when.year == today.year else "EEE d MMM y"
    return format_date(when, pattern, locale=locale)


def clock(locale: str, when: datetime) -> str:
    """'8h', '8h30' / '8am', '8:30am', '12pm'."""
    hour, minute = when.hour, when.minute
    if locale == "fr":
        return f"{hour}h{minute:02d}" if minute else f"{hour}h"
    suffix = "am" if hour < 12 else "pm"
    twelve = hour % 12 or 12
    return f"{twelve}:{minute:02d}{suffix}" if minute else f"{twelve}{suffix}"


def moment(locale: str, when: datetime, zone: ZoneInfo, today: date | None = None) -> str:
    """'dim. 7 juil. 8h' / 'Sun 7 Jul 8am', in the mission's time zone."""
    local = when.astimezone(zone)
    return f"{day(locale, local, today)} {clock(locale, local)}"


def span(
    locale: str, starts_at: datetime, ends_at: datetime, zone: ZoneInfo, today: date | None = None
) -> str:
    """'dim. 7 juil. 8h-13h'; across midnight 'sam. 6 juil. 22h-dim. 7 juil. 2h'."""
    start, end = starts_at.astimezone(zone), ends_at.astimezone(zone)
    first = moment(locale, start, zone, today)
    if start.date() == end.date():
        return f"{first}-{clock(locale, end)}"
    return f"{first}-{moment(locale, end, zone, today)}"
