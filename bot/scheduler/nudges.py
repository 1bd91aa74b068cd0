"""Applications nobody answered: at 3 days the organisation is reminded once, at 7 days
(JeVeuxAider's rule) the application is marked late and the volunteer told kindly that
they may look elsewhere. The *_at columns make each step happen once, whoever runs it."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.domain import ANSWER_WITHIN_DAYS, NUDGE_AFTER_DAYS, ApplicationStatus
from bot.messaging.outbox import enqueue_once
from bot.runtime import Renfort
from bot.services import audit
from bot.services.applications import _snapshot as snapshot
from bot.services.applications import fetch_application
from bot.services.organisers import tell_organisation_once
from bot.services.people import fetch_person
from storage import schema
from storage.database import Database

A, S = schema.applications, schema.slots
BATCH = 50  # per tick and per transaction: a backlog drains at 100 a minute, ticks stay short


async def _overdue(db: Database, column: str, days: int, now: datetime) -> list[int]:
    """Pending applications older than `days` whose `column` step has not happened, for
    slots still ahead (telling anyone about a slot already under way helps nobody)."""
    flag = A.c[column]
    query = (
        select(A.c.id)
        .join(S, S.c.id == A.c.slot_id)
        .where(
            A.c.status == ApplicationStatus.PENDING,
            A.c.created_at <= now - timedelta(days=days),
            flag.is_(None),
            S.c.starts_at > now,
        )
        .order_by(A.c.created_at)
        .limit(BATCH)
    )
    async with db.reading(f"overdue_{column}") as conn:
        return [int(i) for i in await conn.scalars(query)]


async def _claim(conn: AsyncConnection, application_id: int, column: str, now: datetime) -> bool:
    """Set the step's timestamp if still due; False when another run got there first."""
    result = await conn.execute(
        update(A)
        .where(
            A.c.id == application_id,
            A.c.status == ApplicationStatus.PENDING,
            A.c[column].is_(None),
        )
        .values({column: now})
    )
    return bool(result.rowcount)


async def nudge_one(db: Database, application_id: int, now: datetime) -> bool:
    """Remind the organisation of one application waiting for 3 days."""
    return await nudge_many(db, [application_id], now) == 1


async def nudge_many(db: Database, application_ids: list[int], now: datetime) -> int:
    """Remind organisations of applications waiting for 3 days, in one transaction."""
    done = 0
    async with db.transaction("nudge_applications") as conn:
        for application_id in application_ids:
            if not await _claim(conn, application_id, "nudged_at", now):
                continue
            view = await fetch_application(conn, application_id)
            person = await fetch_person(conn, view.person_id)
            waited = (now - view.created_at).days
            payload = snapshot(view) | {"volunteer_name": person.first_name, "days_waiting": waited}
            await tell_organisation_once(
                conn,
                view.organisation_id,
                f"nudge:application:{application_id}",
                "application_nudge",
                payload,
            )
            await audit.record(
                conn,
                "nudge_applications",
                actor_id=None,
                action="application.nudged",
                subject_type="application",
                subject_id=application_id,
                days_waiting=waited,
            )
            done += 1
    return done


async def flag_late_one(db: Database, application_id: int, now: datetime) -> bool:
    """Mark one application late and tell its volunteer they may look elsewhere."""
    return await flag_late_many(db, [application_id], now) == 1


async def flag_late_many(db: Database, application_ids: list[int], now: datetime) -> int:
    """Mark applications late and tell their volunteers, in one transaction."""
    done = 0
    async with db.transaction("flag_late_applications") as conn:
        for application_id in application_ids:
            if not await _claim(conn, application_id, "late_at", now):
                continue
            view = await fetch_application(conn, application_id)
            await enqueue_once(
                conn,
                f"late:application:{application_id}",
                "application_late",
                person_id=view.person_id,
                payload=snapshot(view) | {"days": ANSWER_WITHIN_DAYS},
            )
            await audit.record(
                conn,
                "flag_late_applications",
                actor_id=None,
                action="application.late",
                subject_type="application",
                subject_id=application_id,
            )
            done += 1
    return done


async def nudge_pending(renfort: Renfort, now: datetime) -> int:
    """Job: remind organisations of applications pending for 3 days."""
    ids = await _overdue(renfort.db, "nudged_at", NUDGE_AFTER_DAYS, now)
    return await nudge_many(renfort.db, ids, now) if ids else 0


async def flag_late(renfort: Renfort, now: datetime) -> int:
    """Job: mark applications pending for 7 days late and tell their volunteers."""
    ids = await _overdue(renfort.db, "late_at", ANSWER_WITHIN_DAYS, now)
    return await flag_late_many(renfort.db, ids, now) if ids else 0
