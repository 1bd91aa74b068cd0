"""A coordinator's queue: the applications of their organisation still waiting for an
answer, oldest first, so that nobody who applied close to the day is forgotten."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select

from bot.domain import ApplicationStatus
from bot.services.organisations import require_member
from storage import schema
from storage.database import Database

A, S, M, P = schema.applications, schema.slots, schema.missions, schema.people
SHOWN = 10  # one message each: more would flood the group (20 messages a minute)


@dataclass(frozen=True)
class PendingApplication:
    application_id: int
    volunteer_name: str
    via_sms: bool
    mission_title: str
    starts_at: datetime
    ends_at: datetime
    timezone: str
    applied_at: datetime
    conditions: tuple[str, ...]  # the mission's conditions the volunteer confirmed


@dataclass(frozen=True)
class PendingQueue:
    items: tuple[PendingApplication, ...]
    total: int


async def pending_queue(
    db: Database, *, actor_id: int, organisation_id: int, limit: int = SHOWN
) -> PendingQueue:
    """The organisation's pending applications, oldest first; for its coordinators only."""
    mine = (M.c.organisation_id == organisation_id) & (A.c.status == ApplicationStatus.PENDING)
    query = (
        select(
            A.c.id,
            A.c.created_at,
            A.c.conditions,
            P.c.first_name,
            P.c.telegram_chat_id,
            M.c.title,
            M.c.timezone,
            S.c.starts_at,
            S.c.ends_at,
        )
        .join(S, S.c.id == A.c.slot_id)
        .join(M, M.c.id == S.c.mission_id)
        .join(P, P.c.id == A.c.person_id)
        .where(mine)
        .order_by(A.c.created_at, A.c.id)
        .limit(limit)
    )
    counted = select(func.count()).select_from(A.join(S, S.c.id == A.c.slot_id).join(M)).where(mine)
    async with db.reading("pending_queue") as conn:
        await require_member(conn, actor_id, organisation_id)
        rows = (await conn.execute(query)).all()
        total = int(await conn.scalar(counted) or 0)
    items = tuple(
        PendingApplication(
            application_id=r.id,
            volunteer_name=r.first_name or "?",
            via_sms=r.telegram_chat_id is None,
            mission_title=r.title,
            starts_at=r.starts_at,
            ends_at=r.ends_at,
            timezone=r.timezone,
            applied_at=r.created_at,
            conditions=tuple(r.conditions or ()),
        )
        for r in rows
    )
    return PendingQueue(items, total)
