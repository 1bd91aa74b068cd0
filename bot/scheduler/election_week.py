"""Applications made days, not weeks, before their slot (election week): the 3-day nudge
would come too late, so the organisation is nudged by the time left (half the time between
the application and the start, at least 2 hours after it was made); the evening before, at
18:00, the admin group gets the list of tomorrow's applications still without an answer and
each of their volunteers hears that the answer is still awaited, with a way to cancel.
The *_at columns make each step happen once, whoever runs it."""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime, time, timedelta
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.domain import NUDGE_AFTER_DAYS, ApplicationStatus
from bot.messaging.outbox import enqueue_once
from bot.notifications.election import (
    ApplicationNudgeSoon,
    ApplicationStillPending,
    PendingTomorrow,
)
from bot.notifications.facts import ApplicationLine, application_fields
from bot.runtime import Renfort
from bot.services import audit
from bot.services.applications import fetch_application
from bot.services.organisers import tell_organisation_once
from bot.services.people import fetch_person
from storage import schema
from storage.database import Database

A, S, M = schema.applications, schema.slots, schema.missions
BATCH = 50
# Beyond this the 3-day nudge comes before half the time left: bot.scheduler.nudges does it.
SOON_HORIZON = timedelta(days=2 * NUDGE_AFTER_DAYS)
# A coordinator gets at least this long to answer on their own before being nudged.
FIRST_NUDGE_AFTER = timedelta(hours=2)
EVENING = time(18, 0)


def nudge_due(created_at: datetime, starts_at: datetime) -> datetime:
    """When an application close to its slot is nudged."""
    return created_at + max((starts_at - created_at) / 2, FIRST_NUDGE_AFTER)


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


async def _due_soon(db: Database, now: datetime) -> list[int]:
    query = (
        select(A.c.id, A.c.created_at, S.c.starts_at)
        .join(S, S.c.id == A.c.slot_id)
        .where(
            A.c.status == ApplicationStatus.PENDING,
            A.c.nudged_at.is_(None),
            A.c.created_at <= now - FIRST_NUDGE_AFTER,
            S.c.starts_at > now,
            S.c.starts_at <= now + SOON_HORIZON,
        )
        .order_by(S.c.starts_at, A.c.id)
    )
    async with db.reading("nudge_soon_due") as conn:
        rows = (await conn.execute(query)).all()
    return [r.id for r in rows if nudge_due(r.created_at, r.starts_at) <= now][:BATCH]


async def nudge_before_start(renfort: Renfort, now: datetime) -> int:
    """Job: nudge the organisation about pending applications whose slot comes soon."""
    ids = await _due_soon(renfort.db, now)
    if not ids:
        return 0
    done = 0
    async with renfort.db.transaction("nudge_soon") as conn:
        for application_id in ids:
            if not await _claim(conn, application_id, "nudged_at", now):
                continue
            view = await fetch_application(conn, application_id)
            person = await fetch_person(conn, view.person_id)
            hours_left = max(int((view.starts_at - now).total_seconds() // 3600), 1)
            nudge = ApplicationNudgeSoon.about(
                view,
                volunteer_name=person.first_name,
                volunteer_via_sms=person.telegram_chat_id is None,
                hours_left=hours_left,
            )
            await tell_organisation_once(
                conn,
                view.organisation_id,
                f"nudge:application:{application_id}",
                nudge,
            )
            await audit.record(
                conn,
                "nudge_soon",
                actor_id=None,
                action="application.nudged",
                subject_type="application",
                subject_id=application_id,
                hours_left=hours_left,
            )
            done += 1
    return done


async def _tomorrow_pending(db: Database, now: datetime, renfort: Renfort) -> list[Any]:
    zone = renfort.settings.timezone
    today = now.astimezone(zone).date()
    tomorrow = today + timedelta(days=1)
    start = datetime.combine(tomorrow, time(0), zone)
    end = datetime.combine(tomorrow + timedelta(days=1), time(0), zone)
    # Applications made after 18:00 were just announced: no list of one for each of them.
    cutoff = datetime.combine(today, EVENING, zone)
    query = (
        select(A.c.id, M.c.organisation_id)
        .join(S, S.c.id == A.c.slot_id)
        .join(M, M.c.id == S.c.mission_id)
        .where(
            A.c.status == ApplicationStatus.PENDING,
            A.c.evening_listed_at.is_(None),
            A.c.created_at < cutoff,
            S.c.starts_at >= start,
            S.c.starts_at < end,
        )
        .order_by(M.c.organisation_id, S.c.starts_at, A.c.created_at, A.c.id)
        .limit(BATCH * 4)
    )
    async with db.reading("evening_pending_due") as conn:
        return list((await conn.execute(query)).all())


async def evening_lists(renfort: Renfort, now: datetime) -> int:
    """Job: from 18:00, tomorrow's applications without an answer, to their organisation
    (one list) and to each volunteer (still waiting; cancel if plans changed)."""
    zone = renfort.settings.timezone
    local = now.astimezone(zone)
    if local.time() < EVENING:
        return 0
    rows = await _tomorrow_pending(renfort.db, now, renfort)
    if not rows:
        return 0
    by_organisation: dict[int, list[int]] = defaultdict(list)
    for row in rows:
        by_organisation[row.organisation_id].append(row.id)
    tomorrow = (local.date() + timedelta(days=1)).isoformat()
    done = 0
    async with renfort.db.transaction("evening_lists") as conn:
        for organisation_id, ids in by_organisation.items():
            items: list[ApplicationLine] = []
            organisation_name = ""
            for application_id in ids:
                if not await _claim(conn, application_id, "evening_listed_at", now):
                    continue
                view = await fetch_application(conn, application_id)
                person = await fetch_person(conn, view.person_id)
                organisation_name = view.organisation_name
                items.append(
                    ApplicationLine(
                        **application_fields(view),
                        volunteer_name=person.first_name,
                        volunteer_via_sms=person.telegram_chat_id is None,
                    )
                )
                await enqueue_once(
                    conn,
                    f"still_pending:application:{application_id}",
                    ApplicationStillPending.about(view),
                    person_id=view.person_id,
                )
            if not items:
                continue
            await tell_organisation_once(
                conn,
                organisation_id,
                f"evening:{organisation_id}:{tomorrow}:{now.isoformat()}",
                PendingTomorrow(
                    organisation_name=organisation_name, date=tomorrow, items=tuple(items)
                ),
            )
            await audit.record(
                conn,
                "evening_lists",
                actor_id=None,
                action="organisation.pending_listed",
                subject_type="organisation",
                subject_id=organisation_id,
                applications=[i.application_id for i in items],
            )
            done += len(items)
    return done
