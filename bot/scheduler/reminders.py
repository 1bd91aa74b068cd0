"""Reminders to volunteers with a place: the day before at the organisation's hour, and a
few hours before the start. Each is keyed in the outbox by kind and application, so a tick
run twice, a restart or a second worker sends it once; one missed while the bot was down
still goes when it starts, while it is useful (never after the slot has started, and the
day-before one not once the short one is due)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.domain import ApplicationStatus
from bot.messaging.outbox import Priority, enqueue_once
from bot.runtime import Renfort
from bot.scheduler.timing import day_before_due, hours_before_due
from bot.scheduler.upcoming import Upcoming, list_numbers, starting_between
from storage import schema

REMINDER_DAY_BEFORE = "reminder_day_before"
REMINDER_HOURS_BEFORE = "reminder_hours_before"
REMINDED = (ApplicationStatus.APPROVED, ApplicationStatus.CONFIRMED)
# The farthest ahead a reminder can fall due: midnight two calendar days before a slot
# starting just before the next midnight, plus an hour of daylight saving.
HORIZON = timedelta(hours=49)
KEYS_PER_QUERY = 500


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


async def _already_queued(conn: AsyncConnection, keys: Sequence[str]) -> set[str]:
    outbox = schema.outbox
    found: set[str] = set()
    for start in range(0, len(keys), KEYS_PER_QUERY):
        chunk = keys[start : start + KEYS_PER_QUERY]
        found.update(
            await conn.scalars(select(outbox.c.dedupe_key).where(outbox.c.dedupe_key.in_(chunk)))
        )
    return found


async def send_reminders(renfort: Renfort, now: datetime) -> int:
    """Queue every reminder due by `now` and not queued before; returns how many."""
    db = renfort.db
    async with db.reading("scan_reminders") as conn:
        candidates = await starting_between(conn, now, now + HORIZON, REMINDED)
        due = [(kind, item) for item in candidates if (kind := due_reminder(item, now)) is not None]
        queued = await _already_queued(conn, [dedupe_key(k, item.id) for k, item in due])
    todo = [(kind, item) for kind, item in due if dedupe_key(kind, item.id) not in queued]
    if not todo:
        return 0
    done = 0
    async with db.transaction("send_reminders") as conn:
        numbers = await list_numbers(conn, [item.person_id for _kind, item in todo], now)
        for kind, item in todo:
            payload = item.snapshot() | {"number": numbers.get(item.id)}
            if kind == REMINDER_HOURS_BEFORE:
                payload["hours"] = item.remind_hours_before
            queued_id = await enqueue_once(
                conn,
                dedupe_key(kind, item.id),
                kind,
                person_id=item.person_id,
                payload=payload,
                priority=Priority.NORMAL,
                not_before=now,
            )
            done += queued_id is not None
    return done
