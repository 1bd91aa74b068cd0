"""Places kept with each slot: how many are taken and how long the waiting list is.

Discovery and the capacity rules read these two columns instead of counting applications.
Every change of an application moves them by what that one application counted before and
counts after, in the transaction that makes the change (the status-history writer in
application_store.py does it): an UPDATE adding the difference, which on PostgreSQL waits for
a concurrent change of the same slot to commit and adds to its result, so they never drift
from a count of the applications (`recount`, which the tests compare them with).

This module keeps the rule and reads the counts; the UPDATE itself is slot_store.py's,
which owns every write of the slots table."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import ColumnElement, and_, bindparam, case, func, or_, select
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.domain import HOLDING, ApplicationStatus
from bot.services import slot_store
from storage import schema

A, S = schema.applications, schema.slots
_HOLDING = frozenset(str(s) for s in HOLDING)


@dataclass(frozen=True)
class Places:
    taken: int  # holding a place, or offered a freed one until they answer
    waitlisted: int  # everyone on the waiting list, offered or not


NOTHING = Places(0, 0)
# Every change of an application runs this: built once, as building cost more than running.
_KEPT = select(S.c.taken, S.c.waitlisted).where(S.c.id == bindparam("slot"))


def takes_a_place() -> ColumnElement[bool]:
    """Applications counted against capacity: holding ones, and waitlisted ones with an
    open offer, which reserves the freed place until they answer."""
    return or_(
        A.c.status.in_([str(s) for s in HOLDING]),
        and_(A.c.status == ApplicationStatus.WAITLISTED, A.c.offer_expires_at.is_not(None)),
    )


def share(status: str | None, offered: bool) -> Places:
    """What one application in `status` counts in its slot's places (`offered`: a freed
    place is offered to it); the same rule as `takes_a_place`, for one row in hand."""
    if status in _HOLDING:
        return Places(1, 0)
    if status == ApplicationStatus.WAITLISTED:
        return Places(1 if offered else 0, 1)
    return NOTHING


async def shift(conn: AsyncConnection, slot_id: int, before: Places, after: Places) -> None:
    """Move the slot's kept places by one application's change from `before` to `after`."""
    taken, waitlisted = after.taken - before.taken, after.waitlisted - before.waitlisted
    if taken == 0 and waitlisted == 0:
        return
    await slot_store.shift_places(conn, slot_id, taken, waitlisted)


async def kept(conn: AsyncConnection, slot_id: int) -> Places:
    """The slot's kept places; exact inside a transaction holding the slot's lock."""
    row = (await conn.execute(_KEPT, {"slot": slot_id})).first()
    return NOTHING if row is None else Places(int(row.taken), int(row.waitlisted))


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
