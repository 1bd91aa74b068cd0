"""A referent's queue: the missions of their territories waiting for review, oldest first,
and the reminder about one that has waited two days."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select

from bot.domain import MissionStatus
from bot.messaging.outbox import enqueue_once
from bot.notifications.moderation import MissionReview
from bot.services import audit, mission_store, review
from bot.services.errors import NotAllowed
from bot.services.moderation import territories_of
from storage import schema
from storage.database import Database

M, ORG = schema.missions, schema.organisations
REMIND_AFTER = timedelta(days=2)
SHOWN = 10
BATCH = 50


@dataclass(frozen=True)
class ReviewQueue:
    reviews: tuple[MissionReview, ...]
    total: int


async def missions_to_review(db: Database, *, referent_id: int, limit: int = SHOWN) -> ReviewQueue:
    """Missions in review that this referent covers, the longest waiting first."""
    query = (
        select(M.c.id, M.c.postcode, ORG.c.postcode.label("organisation_postcode"))
        .join(ORG, ORG.c.id == M.c.organisation_id)
        .where(M.c.status == MissionStatus.IN_REVIEW)
        .order_by(M.c.submitted_at, M.c.id)
    )
    async with db.reading("missions_to_review") as conn:
        territories = await territories_of(conn, referent_id)
        if not territories:
            raise NotAllowed("not_referent")
        ids = [
            r.id
            for r in (await conn.execute(query)).all()
            if any(review.covers(t, r.postcode or r.organisation_postcode) for t in territories)
        ]
        reviews = tuple([await review.mission_review(conn, i) for i in ids[:limit]])
    return ReviewQueue(reviews, len(ids))


async def remind_referents(db: Database, now: datetime) -> int:
    """Remind the referents once of each mission waiting for review for two days."""
    due = (
        select(M.c.id, M.c.submitted_at)
        .where(
            M.c.status == MissionStatus.IN_REVIEW,
            M.c.submitted_at <= now - REMIND_AFTER,
            M.c.review_reminded_at.is_(None),
        )
        .order_by(M.c.submitted_at)
        .limit(BATCH)
    )
    async with db.reading("review_reminders_due") as conn:
        rows = (await conn.execute(due)).all()
    if not rows:
        return 0
    done = 0
    async with db.transaction("remind_referents") as conn:
        for row in rows:
            if not await mission_store.claim_review_reminder(conn, row.id, now):
                continue  # another worker reminded them
            referents = await review.referents_for(
                conn, await review.territory_postcode(conn, row.id)
            )
            days = max((now - row.submitted_at).days, 2)
            reminder = await review.mission_review(conn, row.id, waiting_days=days)
            for person_id in referents:
                await enqueue_once(
                    conn,
                    f"review_reminder:{row.id}:{row.submitted_at.isoformat()}:{person_id}",
                    reminder,
                    person_id=person_id,
                )
            await audit.record(
                conn,
                "remind_referents",
                actor_id=None,
                action="mission.review_reminded",
                subject_type="mission",
                subject_id=row.id,
                referents=referents,
            )
            done += 1
    return done
