"""Organisations' reactivity kept fresh: an application left unanswered for 7 days lowers
the score with no event to recompute it on, so a few organisations whose kept score is the
oldest are measured again at each tick."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import or_, select

from bot.runtime import Renfort
from bot.services import reactivity
from storage import schema

ORGS = schema.organisations
REFRESH_EVERY = timedelta(hours=6)
BATCH = 20  # organisations per tick (about 20 ms each on a large database)


async def refresh_reactivity(renfort: Renfort, now: datetime) -> int:
    """Measure again the organisations whose kept score is older than REFRESH_EVERY."""
    due = (
        select(ORGS.c.id)
        .where(or_(ORGS.c.reactivity_at.is_(None), ORGS.c.reactivity_at <= now - REFRESH_EVERY))
        .order_by(ORGS.c.reactivity_at.is_not(None), ORGS.c.reactivity_at, ORGS.c.id)
        .limit(BATCH)
    )
    async with renfort.db.reading("reactivity_due") as conn:
        ids = [int(i) for i in await conn.scalars(due)]
    if not ids:
        return 0
    async with renfort.db.transaction("refresh_reactivity") as conn:
        await reactivity.refresh(conn, now=now, organisation_ids=ids, stamp_all=True)
    return len(ids)
