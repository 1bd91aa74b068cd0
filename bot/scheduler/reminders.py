"""Reminders to volunteers with a place: the day before at the organisation's hour, and a
few hours before the start. Each is keyed in the outbox by kind and application, so a tick
run twice, a restart or a second worker sends it once; one missed while the bot was down
still goes when it starts, while it is useful (never after the slot has started, and the
day-before one not once the short one is due)."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import String, and_, cast, literal, or_, select
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.domain import ApplicationStatus
from bot.messaging.outbox import Once, enqueue_once_many
from bot.notifications import Notification
from bot.notifications.schedule import ReminderDayBefore, ReminderHoursBefore
from bot.runtime import Renfort
from bot.scheduler.timing import day_before_due, hours_before_due, local_moment
from bot.scheduler.upcoming import (
    ORG,
    A,
    M,
    S,
    Upcoming,
    chunks,
    list_numbers,
    starting_between,
)
from bot.services.organisers import sent_keys
from storage import schema

REMINDER_DAY_BEFORE = ReminderDayBefore.kind  # and the prefix of its once-only key
REMINDER_HOURS_BEFORE = ReminderHoursBefore.kind
REMINDED = (ApplicationStatus.APPROVED, ApplicationStatus.CONFIRMED)
# The farthest ahead a reminder can fall due: midnight two calendar days before a slot
# starting just before the next midnight, plus an hour of daylight saving.
HORIZON = timedelta(hours=49)
# A catch-up after downtime goes out over several ticks, soonest slots first, rather than
# in one long transaction holding SQLite's write lock against inbound messages.
PER_TICK = 300
# Past this many distinct (zone, hours) settings among the slots ahead, the scan reads the
# whole horizon and lets due_reminder sort it out.
MOST_SETTINGS = 40


def dedupe_key(kind: str, application_id: int) -> str:
    return f"{kind}:{application_id}"


def due_reminder(item: Upcoming, now: datetime) -> str | None:
    """The reminder that should have gone by `now` for this application, if any."""
    if item.starts_at <= now:
        return None
    hours, hour = item.remind_hours_before, item.remind_day_before_at
    if hours is not None and now >= hours_before_due(item.starts_at, hours):
        return REMINDER_HOURS_BEFORE
    if hour is not None and now >= day_before_due(item.starts_at, item.zone, hour):
        return REMINDER_DAY_BEFORE
    return None


def day_before_due_before(now: datetime, zone: ZoneInfo, hour: int) -> datetime:
    """Slots starting before this moment have their day-before reminder due by `now`, those
    starting later not yet: the end of tomorrow once today's `hour` has passed, else the
    end of today (the same days day_before_due picks)."""
    today = now.astimezone(zone).date()
    passed = now >= local_moment(today, time(hour), zone)
    last_day = today + timedelta(days=1) if passed else today
    return local_moment(last_day + timedelta(days=1), time(0), zone)


def _not_queued(kind: str) -> Any:
    """No outbox row with this reminder's key yet: one probe of the unique key index."""
    key = literal(f"{kind}:") + cast(A.c.id, String)
    return ~select(schema.outbox.c.id).where(schema.outbox.c.dedupe_key == key).exists()


async def _due_conditions(conn: AsyncConnection, now: datetime) -> tuple[list[Any], bool]:
    """SQL terms keeping only applications with a reminder due and not queued, so a steady
    tick reads nothing it already did; None settings switch a reminder off. The flag says
    whether the terms are exact (every row read is due), which a bounded batch needs."""
    settings = (
        await conn.execute(
            select(M.c.timezone, ORG.c.remind_day_before_at, ORG.c.remind_hours_before)
            .select_from(S)
            .join(M, M.c.id == S.c.mission_id)
            .join(ORG, ORG.c.id == M.c.organisation_id)
            .where(S.c.starts_at > now, S.c.starts_at <= now + HORIZON)
            .distinct()
        )
    ).all()
    if len(settings) > MOST_SETTINGS:
        return [_not_queued(REMINDER_HOURS_BEFORE)], False
    ways: list[Any] = []
    for zone_name, hour, hours in settings:
        due: list[Any] = []
        if hours is not None:
            due.append(S.c.starts_at <= now + timedelta(hours=hours))
        if hour is not None:
            limit = day_before_due_before(now, ZoneInfo(zone_name), hour)
            due.append(and_(S.c.starts_at < limit, _not_queued(REMINDER_DAY_BEFORE)))
        if due:
            ways.append(
                and_(
                    M.c.timezone == zone_name,
                    _same(ORG.c.remind_day_before_at, hour),
                    _same(ORG.c.remind_hours_before, hours),
                    or_(*due),
                )
            )
    if not ways:
        return [literal(False)], True
    return [_not_queued(REMINDER_HOURS_BEFORE), or_(*ways)], True


def _same(column: Any, value: int | None) -> Any:
    return column.is_(None) if value is None else column == value


async def send_reminders(renfort: Renfort, now: datetime) -> int:
    """Queue the reminders due by `now` and not queued before, a bounded batch per tick,
    soonest slots first; returns how many."""
    db = renfort.db
    async with db.reading("scan_reminders") as conn:
        extra, exact = await _due_conditions(conn, now)
        candidates = await starting_between(
            conn, now, now + HORIZON, REMINDED, extra=extra, limit=PER_TICK if exact else None
        )
        due = [(kind, item) for item in candidates if (kind := due_reminder(item, now)) is not None]
        if not exact:  # day-before reminders already queued may be among them
            queued = await sent_keys(conn, (dedupe_key(kind, item.id) for kind, item in due))
            due = [(kind, item) for kind, item in due if dedupe_key(kind, item.id) not in queued]
    todo = due[:PER_TICK]
    if not todo:
        return 0
    sent = 0
    for chunk in chunks(todo):
        async with db.transaction("send_reminders") as conn:
            numbers = await list_numbers(conn, [item.person_id for _kind, item in chunk], now)
            sent += await enqueue_once_many(
                conn, [_reminder(kind, item, numbers) for kind, item in chunk], not_before=now
            )
    return sent


def _reminder(kind: str, item: Upcoming, numbers: dict[int, int]) -> Once:
    number = numbers.get(item.id)
    reminder: Notification
    if kind == REMINDER_HOURS_BEFORE:
        reminder = ReminderHoursBefore.about(item, number=number, hours=item.remind_hours_before)
    else:
        reminder = ReminderDayBefore.about(item, number=number)
    return Once(dedupe_key(kind, item.id), reminder, person_id=item.person_id)
