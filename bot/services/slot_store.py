"""The slots table's writes, all of them: creating a mission's slots, moving, resizing and
cancelling one, and moving its kept places. No other module inserts, updates or deletes a
slot (tests/test_stores.py checks it).

places.py keeps the rule of what one application counts in its slot's places and reads
them; the UPDATE that moves them lives here with the slot's other writes, so one module
owns the table. Every function runs in the caller's transaction."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import bindparam, insert, update
from sqlalchemy.ext.asyncio import AsyncConnection

from storage import schema

S = schema.slots

# Every change of an application runs this: built once, as building cost more than running.
_SHIFT = (
    update(S)
    .where(S.c.id == bindparam("slot"))
    .values(taken=S.c.taken + bindparam("taken"), waitlisted=S.c.waitlisted + bindparam("waiting"))
)


async def shift_places(conn: AsyncConnection, slot_id: int, taken: int, waitlisted: int) -> None:
    """Add `taken` and `waitlisted` (either may be negative) to the slot's kept places."""
    await conn.execute(_SHIFT, {"slot": slot_id, "taken": taken, "waiting": waitlisted})


async def insert_slots(
    conn: AsyncConnection, mission_id: int, slots: Iterable[tuple[datetime, datetime, int]]
) -> None:
    """New slots of the mission, each (starts_at, ends_at, capacity), in one statement."""
    await conn.execute(
        insert(S),
        [
            {
                "mission_id": mission_id,
                "starts_at": starts_at,
                "ends_at": ends_at,
                "capacity": capacity,
                "created_at": schema.now(),
            }
            for starts_at, ends_at, capacity in slots
        ],
    )


async def set_capacity(conn: AsyncConnection, slot_id: int, capacity: int) -> None:
    await conn.execute(update(S).where(S.c.id == slot_id).values(capacity=capacity))


async def move(conn: AsyncConnection, slot_id: int, starts_at: datetime, ends_at: datetime) -> None:
    await conn.execute(
        update(S).where(S.c.id == slot_id).values(starts_at=starts_at, ends_at=ends_at)
    )


async def cancel(conn: AsyncConnection, slot_id: int, *, at: datetime, reason: str) -> None:
    """The slot is cancelled: no place left in it, with when and why."""
    await conn.execute(
        update(S).where(S.c.id == slot_id).values(capacity=0, cancelled_at=at, cancel_reason=reason)
    )
