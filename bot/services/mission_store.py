"""The missions table's writes, all of them: creating a mission, changing its columns
(edits, review, closing, cancelling, its keyword), claiming a review reminder, following
its organisation's reactivity and handing its creator over when two people merge. No other
module inserts, updates or deletes a mission (tests/test_stores.py checks it). Every
function runs in the caller's transaction."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from storage import schema

M, ORG = schema.missions, schema.organisations


async def insert_mission(
    conn: AsyncConnection, values: Mapping[str, Any], *, default_reactivity: int
) -> int:
    """A new mission with `values`; it ranks by its organisation's reactivity score, or
    `default_reactivity` for an organisation not judged yet. Returns its id."""
    result = await conn.execute(
        insert(M)
        .values(
            **values,
            reactivity=select(func.coalesce(ORG.c.reactivity, default_reactivity))
            .where(ORG.c.id == values["organisation_id"])
            .scalar_subquery(),
        )
        .returning(M.c.id)
    )
    return int(result.scalar_one())


async def change(conn: AsyncConnection, mission_id: int, values: Mapping[str, Any]) -> None:
    """Set the mission's columns in `values` (the caller has checked them)."""
    await conn.execute(update(M).where(M.c.id == mission_id).values(**values))


async def claim_review_reminder(conn: AsyncConnection, mission_id: int, at: datetime) -> bool:
    """Stamp the reminder of the mission's review; False when another worker did first."""
    claimed = await conn.execute(
        update(M)
        .where(M.c.id == mission_id, M.c.review_reminded_at.is_(None))
        .values(review_reminded_at=at)
    )
    return bool(claimed.rowcount)


async def set_reactivity_of_organisation(
    conn: AsyncConnection, organisation_id: int, score: int
) -> None:
    """The score every mission of the organisation ranks by in discovery."""
    await conn.execute(
        update(M).where(M.c.organisation_id == organisation_id).values(reactivity=score)
    )


async def hand_over_created(conn: AsyncConnection, *, gone: int, keep: int) -> None:
    """The missions created by person `gone` now say `keep` (two records of one person)."""
    await conn.execute(update(M).where(M.c.created_by == gone).values(created_by=keep))
