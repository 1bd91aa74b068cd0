"""'Still coming?' on the day of the slot, and the organisation told about volunteers who
did not answer an hour before the start. The application's own timestamps say what was
done; they are set in the transaction that queues the message, under a condition a second
worker cannot pass, so each happens once."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import update

from bot.domain import ApplicationStatus
from bot.messaging.outbox import Priority, enqueue_once
from bot.runtime import Renfort
from bot.scheduler.timing import FLAG_HOURS_BEFORE, attendance_ask_due, flag_due
from bot.scheduler.upcoming import ORG, A, starting_between
from bot.services.organisers import tell_organisation_once

ATTENDANCE_CHECK = "attendance_check"
ATTENDANCE_UNCONFIRMED = "attendance_unconfirmed"
# 09:00 on the day of a slot starting just before midnight, plus an hour of daylight saving.
ASK_HORIZON = timedelta(hours=16)
# A volunteer still silent once the slot started is worth a word until it ends; slots
# longer than this are rare enough to keep the scan short.
FLAG_LOOKBACK = timedelta(days=1)
ASKED = (ApplicationStatus.APPROVED,)


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
    ]
    if not due:
        return 0
    asked = 0
    async with db.transaction("ask_attendance") as conn:
        for item in due:
            result = await conn.execute(
                update(A)
                .where(
                    A.c.id == item.id,
                    A.c.attendance_asked_at.is_(None),
                    A.c.status == ApplicationStatus.APPROVED,
                )
                .values(attendance_asked_at=now)
            )
            if not result.rowcount:
                continue  # another worker asked, or the volunteer cancelled meanwhile
            await enqueue_once(
                conn,
                f"{ATTENDANCE_CHECK}:{item.id}",
                ATTENDANCE_CHECK,
                person_id=item.person_id,
                payload=item.snapshot(),
                priority=Priority.NORMAL,
                not_before=now,
            )
            asked += 1
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
    if not due:
        return 0
    flagged = 0
    async with db.transaction("flag_unanswered_attendance") as conn:
        for item in due:
            result = await conn.execute(
                update(A)
                .where(
                    A.c.id == item.id,
                    A.c.attendance_flagged_at.is_(None),
                    A.c.status == ApplicationStatus.APPROVED,
                )
                .values(attendance_flagged_at=now)
            )
            if not result.rowcount:
                continue
            payload = item.snapshot() | {"volunteer_name": item.person_name}
            await tell_organisation_once(
                conn,
                item.organisation_id,
                f"{ATTENDANCE_UNCONFIRMED}:{item.id}",
                ATTENDANCE_UNCONFIRMED,
                payload,
            )
            flagged += 1
    return flagged
