"""Applications nobody answered: at 3 days the organisation is reminded once, at 7 days
(JeVeuxAider's rule) the application is marked late and the volunteer told kindly that
they may look elsewhere. The *_at columns make each step happen once, whoever runs it."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import literal, select
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.domain import ANSWER_WITHIN_DAYS, NUDGE_AFTER_DAYS, ApplicationStatus
from bot.messaging.outbox import Once, enqueue_once_many
from bot.notifications import Notification
from bot.notifications.organisers import ApplicationLate, ApplicationNudge
from bot.runtime import Renfort
from bot.services import audit
from bot.services.application_store import claim_step
from bot.services.applications import ApplicationView, fetch_applications
from bot.services.organisers import copies, recipients_of
from storage import schema
from storage.database import Database

A, S, P = schema.applications, schema.slots, schema.people
BATCH = 50  # per tick and per transaction: a backlog drains at 100 a minute, ticks stay short
# Inline, not a bound parameter: SQLite uses a partial index only when the query's own
# terms repeat the index's condition literally (ix_applications_nudge_due, _late_due).
PENDING = literal(str(ApplicationStatus.PENDING), literal_execute=True)


async def _overdue(db: Database, column: str, days: int, now: datetime) -> list[int]:
    """Pending applications older than `days` whose `column` step has not happened, for
    slots still ahead (telling anyone about a slot already under way helps nobody)."""
    flag = A.c[column]
    query = (
        select(A.c.id)
        .join(S, S.c.id == A.c.slot_id)
        .where(
            A.c.status == PENDING,
            flag.is_(None),
            A.c.created_at <= now - timedelta(days=days),
            S.c.starts_at > now,
        )
        .order_by(A.c.created_at)
        .limit(BATCH)
    )
    async with db.reading(f"overdue_{column}") as conn:
        return [int(i) for i in await conn.scalars(query)]


async def first_names(conn: AsyncConnection, person_ids: set[int]) -> dict[int, str]:
    rows = await conn.execute(select(P.c.id, P.c.first_name).where(P.c.id.in_(person_ids)))
    return {int(r.id): str(r.first_name) for r in rows}


async def nudge_one(db: Database, application_id: int, now: datetime) -> bool:
    """Remind the organisation of one application waiting for 3 days."""
    return await nudge_many(db, [application_id], now) == 1


async def nudge_many(db: Database, application_ids: list[int], now: datetime) -> int:
    """Remind organisations of applications waiting for 3 days, in one transaction."""
    async with db.transaction("nudge_applications") as conn:
        claimed = await claim_step(conn, application_ids, "nudged_at", now)
        if not claimed:
            return 0
        views = await fetch_applications(conn, claimed)
        names = await first_names(conn, {v.person_id for v in views})
        nudges: list[Nudge] = []
        for view in views:
            waited = (now - view.created_at).days
            nudge = ApplicationNudge.about(
                view, volunteer_name=names.get(view.person_id, ""), days_waiting=waited
            )
            nudges.append((view, nudge, {"days_waiting": waited}))
        await nudge_organisations(conn, "nudge_applications", nudges)
        return len(views)


# An application, what its organisation is told about it, and what the audit keeps.
Nudge = tuple[ApplicationView, Notification, dict[str, Any]]


async def nudge_organisations(conn: AsyncConnection, transaction: str, nudges: list[Nudge]) -> None:
    """Tell each application's organisation (its coordinators, or its admin group) once
    about it, whichever job nudges first: the 3-day nudge and election week's nudge by the
    time left share the key, and audit it."""
    told = await recipients_of(conn, (view.organisation_id for view, _, _ in nudges))
    notices: list[Once] = []
    for view, nudge, _ in nudges:
        notices += copies(f"nudge:application:{view.id}", nudge, told[view.organisation_id])
    await enqueue_once_many(conn, notices)
    await audit.record_many(
        conn,
        transaction,
        action="application.nudged",
        subject_type="application",
        entries=[(view.id, details) for view, _, details in nudges],
    )


async def flag_late_one(db: Database, application_id: int, now: datetime) -> bool:
    """Mark one application late and tell its volunteer they may look elsewhere."""
    return await flag_late_many(db, [application_id], now) == 1


async def flag_late_many(db: Database, application_ids: list[int], now: datetime) -> int:
    """Mark applications late and tell their volunteers, in one transaction."""
    async with db.transaction("flag_late_applications") as conn:
        claimed = await claim_step(conn, application_ids, "late_at", now)
        if not claimed:
            return 0
        views = await fetch_applications(conn, claimed)
        await enqueue_once_many(
            conn,
            [
                Once(
                    f"late:application:{view.id}",
                    ApplicationLate.about(view, days=ANSWER_WITHIN_DAYS),
                    person_id=view.person_id,
                )
                for view in views
            ],
        )
        await audit.record_many(
            conn,
            "flag_late_applications",
            action="application.late",
            subject_type="application",
            entries=[(view.id, {}) for view in views],
        )
        return len(views)


async def nudge_pending(renfort: Renfort, now: datetime) -> int:
    """Job: remind organisations of applications pending for 3 days."""
    ids = await _overdue(renfort.db, "nudged_at", NUDGE_AFTER_DAYS, now)
    return await nudge_many(renfort.db, ids, now) if ids else 0


async def flag_late(renfort: Renfort, now: datetime) -> int:
    """Job: mark applications pending for 7 days late and tell their volunteers."""
    ids = await _overdue(renfort.db, "late_at", ANSWER_WITHIN_DAYS, now)
    return await flag_late_many(renfort.db, ids, now) if ids else 0
