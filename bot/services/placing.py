"""A place given on the organisation's word already spoken: the coordinator who launched a
callout, or who offered a slot to a volunteer available after a territory alert, decided by
asking. Whoever says yes is approved at once while a place is free, without a review; both
ways treat an application the person already has on the slot alike."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Row, and_, bindparam, or_, select
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.domain import ACTIVE, HOLDING, ApplicationStatus
from bot.services import application_store
from bot.services.errors import Conflict
from bot.services.missions import count_taken
from storage import schema

A, S, M = schema.applications, schema.slots, schema.missions

# The person's application on the slot and any place they hold elsewhere at that time, in
# one read: a burst of callout answers runs it by the thousand, built once.
_MINE = (
    select(A.c.id, A.c.slot_id, A.c.status, A.c.offer_expires_at, M.c.title)
    .select_from(A.join(S, S.c.id == A.c.slot_id).join(M, M.c.id == S.c.mission_id))
    .where(
        A.c.person_id == bindparam("person_id"),
        or_(
            and_(
                A.c.slot_id == bindparam("slot_id"),
                A.c.status.in_([str(s) for s in ACTIVE]),
            ),
            and_(
                A.c.slot_id != bindparam("slot_id"),
                A.c.status.in_([str(s) for s in HOLDING]),
                S.c.starts_at < bindparam("ends_at"),
                S.c.ends_at > bindparam("starts_at"),
            ),
        ),
    )
)


async def application_on_slot(
    conn: AsyncConnection, *, person_id: int, slot_id: int, starts_at: datetime, ends_at: datetime
) -> Row[Any] | None:
    """The person's active application on the slot, once sure they hold no place elsewhere
    at that time (someone who does cannot take this one)."""
    mine = (
        await conn.execute(
            _MINE,
            {
                "person_id": person_id,
                "slot_id": slot_id,
                "ends_at": ends_at,
                "starts_at": starts_at,
            },
        )
    ).all()
    elsewhere = next((a for a in mine if a.slot_id != slot_id), None)
    if elsewhere is not None:
        raise Conflict("overlap", mission_title=str(elsewhere.title))
    return next((a for a in mine if a.slot_id == slot_id), None)


async def approve_if_free(
    conn: AsyncConnection,
    existing: Row[Any] | None,
    *,
    person_id: int,
    slot_id: int,
    capacity: int,
    decider: int | None,
    reason: str,
    conditions: Sequence[str] | None,
) -> bool:
    """Approve the person on the slot, decided by `decider`, if a place is free or already
    theirs; False when the slot is full. `existing` is their application on it, from
    application_on_slot; a new one keeps the mission's `conditions`, shown with the question
    and so confirmed by the yes."""
    if existing is not None and existing.status in (
        ApplicationStatus.APPROVED,
        ApplicationStatus.CONFIRMED,
    ):
        return True
    # A pending application, or an open offer of a freed place, already counts as taken.
    holds = existing is not None and (
        existing.status == ApplicationStatus.PENDING or existing.offer_expires_at is not None
    )
    if not holds and capacity - await count_taken(conn, slot_id) <= 0:
        return False
    if existing is not None:
        await application_store.set_status(
            conn,
            existing.id,
            existing.status,
            ApplicationStatus.APPROVED,
            actor_id=decider,
            reason=reason,
            decided=True,
            end_offer=existing.offer_expires_at is not None,
        )
        return True
    application_id = await application_store.insert_application(
        conn,
        {
            "slot_id": slot_id,
            "person_id": person_id,
            "status": ApplicationStatus.APPROVED,
            "reason": reason,
            "conditions": list(conditions or ()) or None,
            "decided_by": decider,
            "decided_at": schema.now(),
            "created_at": schema.now(),
            "updated_at": schema.now(),
        },
    )
    await application_store.record_event(
        conn,
        application_id,
        None,
        ApplicationStatus.APPROVED,
        actor_id=person_id,
        slot_id=slot_id,
        reason=reason,
    )
    return True
