"""When a scheduled message about a slot falls due, computed in the mission's own time zone
so that "the day before at 18:00" stays 18:00 on the wall clock across daylight-saving
changes; every result is an aware UTC datetime, like the database."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

# "Still coming?" goes at ASK_MORNING_AT on the day of an afternoon or evening slot, and
# ASK_HOURS_BEFORE before a morning one; never before NOT_BEFORE on the wall clock: an
# early slot (an 08:00 polling station) is asked about the evening before instead.
NOT_BEFORE = time(8)
ASK_MORNING_AT = time(9)
ASK_EVENING_BEFORE_AT = time(19)
AFTERNOON = time(12)
ASK_HOURS_BEFORE = 3
FLAG_HOURS_BEFORE = 1


def local_moment(day: date, at: time, zone: ZoneInfo) -> datetime:
    """`day` at `at` on the wall clock of `zone`, in UTC (a skipped hour moves forward)."""
    wall = datetime.combine(day, at, tzinfo=zone)
    # A time in the spring-forward gap does not exist; the round trip lands after it.
    return wall.astimezone(UTC).astimezone(zone).astimezone(UTC)


def day_before_due(starts_at: datetime, zone: ZoneInfo, hour: int) -> datetime:
    """The day-before reminder: `hour` o'clock local on the calendar day before the slot."""
    day = starts_at.astimezone(zone).date() - timedelta(days=1)
    return local_moment(day, time(hour), zone)


def hours_before_due(starts_at: datetime, hours: int) -> datetime:
    """The short reminder: a fixed lead time, whatever the wall clock does meanwhile."""
    return starts_at - timedelta(hours=hours)


def attendance_ask_due(starts_at: datetime, zone: ZoneInfo) -> datetime:
    """'Still coming?': 09:00 on the day of an afternoon or evening slot; three hours before
    a morning one; the evening before when that would be before 08:00 (nobody is woken)."""
    local = starts_at.astimezone(zone)
    if local.time() >= AFTERNOON:
        return local_moment(local.date(), ASK_MORNING_AT, zone)
    lead = hours_before_due(starts_at, ASK_HOURS_BEFORE)
    lead_local = lead.astimezone(zone)
    if lead_local.date() == local.date() and lead_local.time() >= NOT_BEFORE:
        return lead
    return local_moment(local.date() - timedelta(days=1), ASK_EVENING_BEFORE_AT, zone)


def flag_due(starts_at: datetime) -> datetime:
    """Past this, a volunteer who did not answer is reported to the organisation."""
    return starts_at - timedelta(hours=FLAG_HOURS_BEFORE)
