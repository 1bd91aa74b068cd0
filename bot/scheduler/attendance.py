"""'Still coming?' on the day of the slot, and the organisation told about volunteers who
did not answer an hour before the start. The application's own timestamps say what was
done; they are set in the transaction that queues the message, under a condition a second
worker cannot pass, so each happens once."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.domain import ApplicationStatus
from bot.messaging.outbox import Once, enqueue_once_many
from bot.notifications.schedule import AttendanceCheck, AttendanceUnconfirmed
from bot.runtime import Renfort
from bot.scheduler.timing import FLAG_HOURS_BEFORE, attendance_ask_due, flag_due
from bot.scheduler.upcoming import ORG, A, Upcoming, chunks, starting_between
from bot.services.organisers import copies, recipients_of

ATTENDANCE_CHECK = AttendanceCheck.kind  # and the prefix of its once-only key
ATTENDANCE_UNCONFIRMED = AttendanceUnconfirmed.kind
# 09:00 on the day of a slot starting just before midnight, plus an hour of daylight saving.
ASK_HORIZON = timedelta(hours=16)
# A volunteer still silent once the slot started is worth a word until it ends; slots
# longer than this are rare enough to keep the scan short.
FLAG_LOOKBACK = timedelta(days=1)
ASKED = (ApplicationStatus.APPROVED,)
# A backlog after downtime goes over several ticks, soonest slots first, so no single
# transaction holds SQLite's write lock for long.
PER_TICK = 300


async def _claim(
    conn: AsyncConnection, items: list[Upcoming], column: str, now: datetime
) -> list[Upcoming]:
    """Set `column` on the approved applications where it is still unset; those another
    worker did first, or whose volunteer cancelled meanwhile, are left out."""
    result = await conn.execute(
        update(A)
        .where(
            A.c.id.in_([item.id for item in items]),
            A.c[column].is_(None),
            A.c.status == ApplicationStatus.APPROVED,
        )
        .values({column: now})
        .returning(A.c.id)
    )
    claimed = set(result.scalars())
    return [item for item in items if item.id in claimed]


async def ask_attendance(renfort: Renfort, now: datetime) -> int:
    """Ask every approved volunteer whose question is due and still useful."""
    db = renfort.db
    async with db.reading("scan_attendance_ask") as conn:
        candidates = await starting_between(
            conn,
            now,
            now + ASK_HORIZON,
            ASKED,
            extra=(A.c.attendance_asked_at.is_(None), ORG.c.attendance_check.is_(True)),
        )
    due = [
        item
        for item in candidates
        if attendance_ask_due(item.starts_at, item.zone) <= now < flag_due(item.starts_at)
    ][:PER_TICK]
    if not due:
        return 0
    asked = 0
    for chunk in chunks(due):
        async with db.transaction("ask_attendance") as conn:
            claimed = await _claim(conn, list(chunk), "attendance_asked_at", now)
            await enqueue_once_many(
                conn,
                [
                    Once(
                        f"{ATTENDANCE_CHECK}:{item.id}",
                        AttendanceCheck.about(item),
                        person_id=item.person_id,
                    )
                    for item in claimed
                ],
                not_before=now,
            )
        asked += len(claimed)
    return asked


async def flag_unanswered(renfort: Renfort, now: datetime) -> int:
    """Tell the organisation, once, about each volunteer asked who has not answered by H-1."""
    db = renfort.db
    async with db.reading("scan_attendance_flag") as conn:
        candidates = await starting_between(
            conn,
            now - FLAG_LOOKBACK,
            now + timedelta(hours=FLAG_HOURS_BEFORE),
            ASKED,
            extra=(
                A.c.attendance_asked_at.is_not(None),
                A.c.attendance_flagged_at.is_(None),
                ORG.c.attendance_check.is_(True),
            ),
        )
    due = [item for item in candidates if flag_due(item.starts_at) <= now < item.ends_at]
    due = due[:PER_TICK]
    if not due:
        return 0
    async with db.transaction("flag_unanswered_attendance") as conn:
        flagged = await _claim(conn, due, "attendance_flagged_at", now)
        told = await recipients_of(conn, (item.organisation_id for item in flagged))
        notices: list[Once] = []
        for item in flagged:
            unconfirmed = AttendanceUnconfirmed.about(item, volunteer_name=item.person_name)
            key = f"{ATTENDANCE_UNCONFIRMED}:{item.id}"
            notices += copies(key, unconfirmed, told[item.organisation_id])
        await enqueue_once_many(conn, notices)
    return len(flagged)
