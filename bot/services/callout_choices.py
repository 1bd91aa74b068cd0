"""What a coordinator chooses from when launching a callout: the organisation's published
missions that still have a slot to come, and the admin group that will follow it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select

from bot.domain import MissionStatus
from bot.services.organisations import admin_chat_ids
from storage import schema
from storage.database import Database

M, S = schema.missions, schema.slots


@dataclass(frozen=True)
class UpcomingMission:
    id: int
    title: str
    timezone: str
    next_start: datetime
    slots: int  # slots not started yet


@dataclass(frozen=True)
class UpcomingPage:
    missions: tuple[UpcomingMission, ...]
    total: int
    offset: int


async def upcoming_missions(
    db: Database, *, organisation_id: int, now: datetime, offset: int = 0, limit: int = 6
) -> UpcomingPage:
    """One page of the organisation's published missions, soonest slot first."""
    base = (
        select(
            M.c.id,
            M.c.title,
            M.c.timezone,
            func.min(S.c.starts_at).label("next_start"),
            func.count(S.c.id).label("slots"),
        )
        .join(S, S.c.mission_id == M.c.id)
        .where(
            M.c.organisation_id == organisation_id,
            M.c.status == MissionStatus.PUBLISHED,
            S.c.starts_at > now,
            S.c.cancelled_at.is_(None),
        )
        .group_by(M.c.id, M.c.title, M.c.timezone)
    )
    counted = base.subquery("upcoming")
    async with db.reading("upcoming_missions") as conn:
        total = int(await conn.scalar(select(func.count()).select_from(counted)) or 0)
        rows = (
            await conn.execute(
                base.order_by(func.min(S.c.starts_at), M.c.id).offset(offset).limit(limit)
            )
        ).all()
    return UpcomingPage(
        tuple(UpcomingMission(r.id, r.title, r.timezone, r.next_start, int(r.slots)) for r in rows),
        total,
        offset,
    )


async def admin_group_of(db: Database, organisation_id: int) -> int | None:
    """The organisation's admin group (the first linked, if several), or None."""
    async with db.reading("callout_admin_group") as conn:
        chats = await admin_chat_ids(conn, organisation_id)
    return chats[0] if chats else None
