"""Organisations' reactivity kept fresh: an application left unanswered for 7 days lowers
the score with no event to recompute it on, so a few organisations whose kept score is the
oldest are measured again at each tick, for at most a fraction of a second."""

from __future__ import annotations

import time
from datetime import datetime, timedelta

from sqlalchemy import or_, select

from bot.runtime import Renfort
from bot.services import reactivity
from storage import schema

ORGS = schema.organisations
REFRESH_EVERY = timedelta(hours=6)
BATCH = 20  # organisations looked at per tick, at most
# An organisation with thousands of applications takes 10-20 ms to measure, a small one
# about a millisecond: a tick stops measuring past this, after one large organisation or a
# few small ones, and the others wait for the next tick (every 30 s, so 720 organisations
# or more are still measured in REFRESH_EVERY).
BUDGET_SECONDS = 0.01


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
    measured: dict[int, reactivity.Reactivity] = {}
    done: list[int] = []
    started = time.perf_counter()
    # Measured in a read: SQLite's write lock is held only for the few updates below.
    async with renfort.db.reading("reactivity_measure") as conn:
        for organisation_id in ids:
            measured |= await reactivity.reactivity(
                conn, now=now, organisation_ids=[organisation_id]
            )
            done.append(organisation_id)
            if time.perf_counter() - started >= BUDGET_SECONDS:
                break
    async with renfort.db.transaction("refresh_reactivity") as conn:
        await reactivity.keep(conn, measured, now=now, organisation_ids=done, stamp_all=True)
    return len(done)
