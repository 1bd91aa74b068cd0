"""Places kept with each slot: how many are taken and how long the waiting list is.

Discovery reads these two columns instead of counting applications on every query. They are
rewritten from the slot's own applications inside every transaction that changes one (the
status-history writer calls `keep`), so they can never drift from the applications."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import ColumnElement, and_, case, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.domain import HOLDING, ApplicationStatus
from storage import schema

A, S = schema.applications, schema.slots


@dataclass(frozen=True)
class Places:
    taken: int  # holding a place, or offered a freed one until they answer
    waitlisted: int  # everyone on the waiting list, offered or not


def takes_a_place() -> ColumnElement[bool]:
    """Applications counted against capacity: holding ones, and waitlisted ones with an
    open offer, which reserves the freed place until they answer."""
    return or_(
        A.c.status.in_([str(s) for s in HOLDING]),
        and_(A.c.status == ApplicationStatus.WAITLISTED, A.c.offer_expires_at.is_not(None)),
    )


async def recount(conn: AsyncConnection, slot_id: int) -> Places:
    """The slot's places counted from its applications (index on slot_id, status)."""
    row = (
        await conn.execute(
            select(
                func.count(case((takes_a_place(), 1))).label("taken"),
                func.count(case((A.c.status == ApplicationStatus.WAITLISTED, 1))).label(
                    "waitlisted"
                ),
            ).where(A.c.slot_id == slot_id)
        )
    ).one()
    return Places(int(row.taken), int(row.waitlisted))


async def keep(conn: AsyncConnection, slot_id: int) -> Places:
    """Rewrite the slot's kept places after a change to one of its applications."""
    # Lock the slot row first, then count in a fresh statement: on PostgreSQL (read
    # committed) a concurrent change to the same slot has then committed and is counted.
    lock = select(S.c.taken, S.c.waitlisted).where(S.c.id == slot_id)
    if conn.dialect.name != "sqlite":
        lock = lock.with_for_update()
    kept = (await conn.execute(lock)).first()
    places = await recount(conn, slot_id)
    if kept is not None and (kept.taken, kept.waitlisted) != (places.taken, places.waitlisted):
        await conn.execute(
            update(S)
            .where(S.c.id == slot_id)
            .values(taken=places.taken, waitlisted=places.waitlisted)
        )
    return places


async def keep_for_application(conn: AsyncConnection, application_id: int) -> None:
    slot_id = await conn.scalar(select(A.c.slot_id).where(A.c.id == application_id))
    if slot_id is not None:
        await keep(conn, int(slot_id))
