"""Missions close by themselves once their last slot has ended; applications still waiting
for an answer are then refused with the reason "mission over" and their volunteers told,
as JeVeuxAider does, so nobody waits for a reply that will never come."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select

from bot.domain import ApplicationStatus, MissionStatus
from bot.messaging.outbox import enqueue
from bot.notifications.applications import ApplicationDecided
from bot.services import audit, mission_store
from bot.services.applications import fetch_application, set_status
from storage import schema
from storage.database import Database

A, S, M = schema.applications, schema.slots, schema.missions
REASON = "mission_over"
UNANSWERED = (ApplicationStatus.PENDING, ApplicationStatus.WAITLISTED)


@dataclass(frozen=True)
class Closed:
    mission_id: int
    refused: tuple[int, ...]  # applications refused because the mission is over


async def finished_missions(db: Database, *, now: datetime, limit: int = 100) -> list[int]:
    """Published missions whose every slot has ended."""
    # Two probes of the (mission, end) index per published mission, rather than grouping
    # every slot of the table on each tick.
    has_slot = select(S.c.id).where(S.c.mission_id == M.c.id).exists()
    still_on = select(S.c.id).where(S.c.mission_id == M.c.id, S.c.ends_at > now).exists()
    query = (
        select(M.c.id)
        .where(M.c.status == MissionStatus.PUBLISHED, has_slot, ~still_on)
        .order_by(M.c.id)
        .limit(limit)
    )
    async with db.reading("finished_missions") as conn:
        return [int(i) for i in await conn.scalars(query)]


async def close_mission(db: Database, *, mission_id: int, now: datetime) -> Closed | None:
    """Close one finished mission and refuse its unanswered applications; None when it is
    not (or no longer) a published mission whose slots have all ended."""
    async with db.transaction("close_mission") as conn:
        status = await conn.scalar(
            db.lock_for_update(select(M.c.status).where(M.c.id == mission_id))
        )
        last_end = await conn.scalar(
            select(func.max(S.c.ends_at)).where(S.c.mission_id == mission_id)
        )
        if status != MissionStatus.PUBLISHED or last_end is None or last_end > now:
            return None
        await mission_store.change(
            conn, mission_id, {"status": MissionStatus.CLOSED, "closed_at": now}
        )
        rows = (
            await conn.execute(
                select(A.c.id, A.c.status, A.c.person_id, A.c.offer_expires_at)
                .join(S, S.c.id == A.c.slot_id)
                .where(S.c.mission_id == mission_id, A.c.status.in_([*map(str, UNANSWERED)]))
                .order_by(A.c.id)
            )
        ).all()
        for row in rows:
            # A place offered from the waitlist goes with the mission; the offers job must
            # not see it as still open.
            await set_status(
                conn,
                row.id,
                row.status,
                ApplicationStatus.REFUSED,
                actor_id=None,
                reason=REASON,
                decided=True,
                end_offer=row.offer_expires_at is not None,
            )
            await audit.record(
                conn,
                "close_mission",
                actor_id=None,
                action="application.refused",
                subject_type="application",
                subject_id=row.id,
                reason=REASON,
            )
            view = await fetch_application(conn, row.id)
            await enqueue(
                conn,
                ApplicationDecided.about(view, status="refused", reason=REASON),
                person_id=row.person_id,
            )
        await audit.record(
            conn,
            "close_mission",
            actor_id=None,
            action="mission.closed",
            subject_type="mission",
            subject_id=mission_id,
            refused=len(rows),
        )
        return Closed(mission_id, tuple(int(r.id) for r in rows))
