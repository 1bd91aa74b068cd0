"""What the Monday digest tells an organisation: the applications waiting for an answer,
the slots of the next two weeks still short of people, and last week's no-shows."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import case, func, select
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.domain import ANSWER_WITHIN_DAYS, HOLDING, ApplicationStatus, MissionStatus
from bot.notifications.organisers import DigestPending, DigestSlot, WeeklyDigest
from storage import schema

A, S, M, P = schema.applications, schema.slots, schema.missions, schema.people
OLDEST = 5  # pending applications shown by name
SLOTS_SHOWN = 8
NO_SHOWS_SHOWN = 15
AHEAD = timedelta(days=14)


async def _pending(conn: AsyncConnection, organisation_id: int, now: datetime) -> dict[str, Any]:
    mine = (
        select(A.c.id, A.c.created_at, P.c.first_name, M.c.title)
        .join(S, S.c.id == A.c.slot_id)
        .join(M, M.c.id == S.c.mission_id)
        .join(P, P.c.id == A.c.person_id)
        .where(M.c.organisation_id == organisation_id, A.c.status == ApplicationStatus.PENDING)
    )
    late_cutoff = now - timedelta(days=ANSWER_WITHIN_DAYS)
    counted = mine.subquery()
    # Both counts in one pass over the organisation's pending applications.
    total, late = (
        await conn.execute(
            select(
                func.count(),
                func.coalesce(func.sum(case((counted.c.created_at <= late_cutoff, 1), else_=0)), 0),
            ).select_from(counted)
        )
    ).one()
    rows = (await conn.execute(mine.order_by(A.c.created_at, A.c.id).limit(OLDEST))).all()
    return {
        "pending_count": int(total or 0),
        "late_count": int(late or 0),
        "oldest": tuple(
            DigestPending(name=r.first_name, mission_title=r.title, days=(now - r.created_at).days)
            for r in rows
        ),
    }


async def _underfilled(
    conn: AsyncConnection, organisation_id: int, now: datetime
) -> dict[str, Any]:
    taken = (
        select(func.count())
        .where(A.c.slot_id == S.c.id, A.c.status.in_([*map(str, HOLDING)]))
        .scalar_subquery()
    )
    left = (S.c.capacity - taken).label("left")
    rows = (
        await conn.execute(
            select(M.c.title, M.c.timezone, S.c.starts_at, S.c.ends_at, left)
            .join(M, M.c.id == S.c.mission_id)
            .where(
                M.c.organisation_id == organisation_id,
                M.c.status == MissionStatus.PUBLISHED,
                S.c.starts_at > now,
                S.c.starts_at <= now + AHEAD,
                S.c.capacity > taken,
            )
            .order_by(S.c.starts_at, S.c.id)
        )
    ).all()
    return {
        "underfilled_count": len(rows),
        "places_left": sum(int(r.left) for r in rows),
        "underfilled": tuple(
            DigestSlot(
                mission_title=r.title,
                timezone=r.timezone,
                starts_at=r.starts_at,
                ends_at=r.ends_at,
                places_left=int(r.left),
            )
            for r in rows[:SLOTS_SHOWN]
        ),
    }


async def _no_shows(
    conn: AsyncConnection, organisation_id: int, since: datetime, until: datetime
) -> list[str]:
    """First names only: the digest is read by the whole group."""
    rows = await conn.scalars(
        select(P.c.first_name)
        .join(A, A.c.person_id == P.c.id)
        .join(S, S.c.id == A.c.slot_id)
        .join(M, M.c.id == S.c.mission_id)
        .where(
            M.c.organisation_id == organisation_id,
            A.c.status == ApplicationStatus.NO_SHOW,
            S.c.starts_at >= since,
            S.c.starts_at < until,
        )
        .order_by(S.c.starts_at, A.c.id)
        .limit(NO_SHOWS_SHOWN)
    )
    return [str(name) for name in rows]


async def weekly_digest(
    conn: AsyncConnection,
    organisation_id: int,
    organisation_name: str,
    *,
    now: datetime,
    week_start: datetime,
    week: str,
) -> WeeklyDigest:
    """The digest; `week_start` is this Monday's midnight in the organisation's zone."""
    no_shows = await _no_shows(conn, organisation_id, week_start - timedelta(days=7), week_start)
    return WeeklyDigest(
        organisation_name=organisation_name,
        week=week,
        **await _pending(conn, organisation_id, now),
        **await _underfilled(conn, organisation_id, now),
        no_shows=tuple(no_shows),
    )
