"""Applications made days, not weeks, before their slot (election week): the 3-day nudge
would come too late, so the organisation is nudged by the time left (half the time between
the application and the start, at least 2 hours after it was made); the evening before, at
18:00, the admin group gets the list of tomorrow's applications still without an answer and
each of their volunteers hears that the answer is still awaited, with a way to cancel.
The *_at columns make each step happen once, whoever runs it."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from typing import Any

from sqlalchemy import select, tuple_
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.domain import NUDGE_AFTER_DAYS, ApplicationStatus
from bot.messaging.outbox import Once, enqueue_once_many
from bot.notifications.election import (
    ApplicationNudgeSoon,
    ApplicationStillPending,
    PendingTomorrow,
)
from bot.notifications.facts import ApplicationLine, application_fields
from bot.runtime import Renfort
from bot.scheduler.nudges import Nudge, nudge_organisations
from bot.services import audit
from bot.services.application_store import claim_step
from bot.services.applications import ApplicationView, fetch_applications
from bot.services.organisers import copies, recipients_of
from storage import schema
from storage.database import Database

A, S, M, P = schema.applications, schema.slots, schema.missions, schema.people
BATCH = 50
# Pending applications of the coming days are read this many at a time, soonest slot first,
# until a batch of due ones is found: most are due at once, so one page usually does.
PAGE = BATCH * 4
# Beyond this the 3-day nudge comes before half the time left: bot.scheduler.nudges does it.
SOON_HORIZON = timedelta(days=2 * NUDGE_AFTER_DAYS)
# A coordinator gets at least this long to answer on their own before being nudged.
FIRST_NUDGE_AFTER = timedelta(hours=2)
EVENING = time(18, 0)


def nudge_due(created_at: datetime, starts_at: datetime) -> datetime:
    """When an application close to its slot is nudged."""
    return created_at + max((starts_at - created_at) / 2, FIRST_NUDGE_AFTER)


@dataclass(frozen=True)
class _Volunteer:
    first_name: str
    via_sms: bool


async def _volunteers(conn: AsyncConnection, person_ids: set[int]) -> dict[int, _Volunteer]:
    rows = await conn.execute(
        select(P.c.id, P.c.first_name, P.c.telegram_chat_id).where(P.c.id.in_(person_ids))
    )
    return {int(r.id): _Volunteer(str(r.first_name), r.telegram_chat_id is None) for r in rows}


async def _claimed_views(
    conn: AsyncConnection, application_ids: list[int], column: str, now: datetime
) -> tuple[list[ApplicationView], dict[int, _Volunteer]]:
    """The applications whose step this run claimed, and their volunteers."""
    claimed = await claim_step(conn, application_ids, column, now)
    if not claimed:
        return [], {}
    views = await fetch_applications(conn, claimed)
    return views, await _volunteers(conn, {v.person_id for v in views})


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
        .limit(PAGE)
    )
    due: list[int] = []
    async with db.reading("nudge_soon_due") as conn:
        page = query
        while True:
            rows = (await conn.execute(page)).all()
            due += [r.id for r in rows if nudge_due(r.created_at, r.starts_at) <= now]
            if len(due) >= BATCH or len(rows) < PAGE:
                return due[:BATCH]
            last = rows[-1]
            page = query.where(tuple_(S.c.starts_at, A.c.id) > (last.starts_at, last.id))


async def nudge_before_start(renfort: Renfort, now: datetime) -> int:
    """Job: nudge the organisation about pending applications whose slot comes soon."""
    ids = await _due_soon(renfort.db, now)
    if not ids:
        return 0
    async with renfort.db.transaction("nudge_soon") as conn:
        views, volunteers = await _claimed_views(conn, ids, "nudged_at", now)
        if not views:
            return 0
        nudges: list[Nudge] = []
        for view in views:
            hours_left = max(int((view.starts_at - now).total_seconds() // 3600), 1)
            person = volunteers[view.person_id]
            nudge = ApplicationNudgeSoon.about(
                view,
                volunteer_name=person.first_name,
                volunteer_via_sms=person.via_sms,
                hours_left=hours_left,
            )
            nudges.append((view, nudge, {"hours_left": hours_left}))
        await nudge_organisations(conn, "nudge_soon", nudges)
    return len(views)


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
    tomorrow = (local.date() + timedelta(days=1)).isoformat()
    order = {row.id: n for n, row in enumerate(rows)}
    async with renfort.db.transaction("evening_lists") as conn:
        views, volunteers = await _claimed_views(
            conn, [row.id for row in rows], "evening_listed_at", now
        )
        if not views:
            return 0
        views.sort(key=lambda view: order[view.id])
        listed: dict[int, list[ApplicationView]] = defaultdict(list)
        for view in views:
            listed[view.organisation_id].append(view)
        told = await recipients_of(conn, listed)
        notices: list[Once] = []
        entries: list[tuple[int, dict[str, Any]]] = []
        for organisation_id, mine in listed.items():
            notices += [
                Once(
                    f"still_pending:application:{view.id}",
                    ApplicationStillPending.about(view),
                    person_id=view.person_id,
                )
                for view in mine
            ]
            items = tuple(
                ApplicationLine(
                    **application_fields(view),
                    volunteer_name=volunteers[view.person_id].first_name,
                    volunteer_via_sms=volunteers[view.person_id].via_sms,
                )
                for view in mine
            )
            pending = PendingTomorrow(
                organisation_name=mine[-1].organisation_name, date=tomorrow, items=items
            )
            key = f"evening:{organisation_id}:{tomorrow}:{now.isoformat()}"
            notices += copies(key, pending, told[organisation_id])
            entries.append((organisation_id, {"applications": [view.id for view in mine]}))
        await enqueue_once_many(conn, notices)
        await audit.record_many(
            conn,
            "evening_lists",
            action="organisation.pending_listed",
            subject_type="organisation",
            entries=entries,
        )
    return len(views)
