"""Changing a slot after it is published: its capacity, which can grow (the new places are
offered to the waitlist at once) or shrink down to the places already taken."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Row, select
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.services import audit, offers, slot_store
from bot.services.errors import Conflict, InvalidInput, NotFound
from bot.services.missions import MAX_CAPACITY, SlotView, count_taken
from bot.services.organisations import require_member
from storage import schema
from storage.database import Database, Inbound

S, M = schema.slots, schema.missions


async def set_capacity(
    db: Database,
    *,
    actor_id: int,
    slot_id: int,
    capacity: int,
    now: datetime,
    inbound: Inbound | None = None,
) -> SlotView:
    """A coordinator sets how many people the slot needs; freed places go to the waitlist."""
    if not 1 <= capacity <= MAX_CAPACITY:
        raise InvalidInput("capacity")
    async with db.transaction("set_capacity", inbound) as conn:
        slot = (
            await conn.execute(
                db.lock_for_update(
                    select(S, M.c.organisation_id)
                    .join(M, M.c.id == S.c.mission_id)
                    .where(S.c.id == slot_id)
                )
            )
        ).first()
        if slot is None:
            raise NotFound("slot_not_found")
        await require_member(conn, actor_id, slot.organisation_id)
        if slot.starts_at <= now:
            raise Conflict("slot_started")
        # Open offers count as taken: shrinking under them would break the promise made.
        taken = await count_taken(conn, slot_id)
        if capacity < taken:
            raise Conflict("capacity_below_taken", taken=taken)
        view, _ = await apply_capacity(
            conn, db, slot, capacity, actor_id=actor_id, now=now, transaction="set_capacity"
        )
        return view


async def apply_capacity(
    conn: AsyncConnection,
    db: Database,
    slot: Row[Any],
    capacity: int,
    *,
    actor_id: int,
    now: datetime,
    transaction: str,
    **details: Any,
) -> tuple[SlotView, int]:
    """Store a checked capacity (audited with `details` when it changed) and offer any new
    places to the waitlist at once: the slot as it now stands, and how many were offered."""
    if capacity != slot.capacity:
        await slot_store.set_capacity(conn, slot.id, capacity)
        await audit.record(
            conn,
            transaction,
            actor_id=actor_id,
            action="slot.capacity",
            subject_type="slot",
            subject_id=slot.id,
            before=slot.capacity,
            after=capacity,
            **details,
        )
    offered = 0
    if capacity > slot.capacity:
        offered = await offers.offer_free_places(
            conn, db, slot_id=slot.id, now=now, transaction=transaction
        )
    taken = await count_taken(conn, slot.id)
    view = SlotView(slot.id, slot.mission_id, slot.starts_at, slot.ends_at, capacity, taken)
    return view, offered
