"""A volunteer's answer to a callout. A yes takes a place first come, first served, under
the slot's lock and the capacity rules of applications: the application is approved at once,
since the organisation asked. Once the need is met, later yeses join the waiting list; a no
that leaves too few possible yeses brings the next wave forward.

A mission with conditions ("on the electoral roll") asks a yes to confirm those not yet
confirmed to the organisation first. The place is not held meanwhile: the answer stays open,
so the person still counts as a possible yes, and the place goes to whoever completes first.
A hold with a grace period would let someone who walks away block a place in a crisis, and
would need a job to release it; confirming takes one or two taps."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Row, bindparam, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.domain import ApplicationStatus, MissionStatus
from bot.services import application_store, applications, audit, conditions, placing
from bot.services.callout_views import (
    OPEN,
    CalloutAnswer,
    facts_of,
    lock_callout,
    must_load,
)
from bot.services.callout_waves import C, R, counts, settle
from bot.services.errors import NotFound
from storage import schema
from storage.database import Database, Inbound

A, S, M, P = schema.applications, schema.slots, schema.missions, schema.people
TRANSACTION = "answer_callout"

# A burst of answers runs these by the thousand: built once, as building cost more than running.
_ASKED = select(R.c.id, R.c.answer).where(
    R.c.callout_id == bindparam("callout_id"), R.c.person_id == bindparam("person_id")
)
_ANSWERED = (
    update(R)
    .where(R.c.id == bindparam("recipient_id"))
    .values(answer=bindparam("said"), answered_at=bindparam("now"), outcome=bindparam("became"))
)
_TOUCHED = update(C).where(C.c.id == bindparam("callout_id")).values(updated_at=bindparam("now"))


async def answer(
    db: Database,
    *,
    person_id: int,
    callout_id: int,
    available: bool,
    now: datetime,
    inbound: Inbound | None = None,
    confirmed: Sequence[str] = (),
) -> CalloutAnswer:
    """Record the person's yes or no; outcome taken, waitlisted, declined, closed, already,
    or conditions (nothing recorded: the mission's conditions still to confirm are returned)."""
    async with db.transaction(TRANSACTION, inbound) as conn:
        # Person, then slot, then callout: the order applying uses, so no deadlock.
        await db.lock_rows(conn, select(P.c.id).where(P.c.id == person_id))
        row = await lock_callout(conn, db, callout_id)
        asked = (
            await conn.execute(_ASKED, {"callout_id": callout_id, "person_id": person_id})
        ).first()
        if asked is None:
            raise NotFound("callout_not_found")
        if asked.answer is not None:
            return CalloutAnswer("already", facts_of(row))
        gone = row.starts_at <= now or row.mission_status != MissionStatus.PUBLISHED
        if row.status == "stopped" or gone:
            return CalloutAnswer("closed", facts_of(row))
        if available and row.mission_conditions:
            missing = [
                c
                for c in await conditions.to_confirm(conn, person_id, row.mission_id)
                if c not in confirmed
            ]
            if missing:
                return CalloutAnswer("conditions", facts_of(row), tuple(missing))
        if not available:
            outcome = "declined"
        elif row.status in OPEN:
            outcome = await _take_place(conn, row, person_id)
        else:  # filled: thanked and kept on the waiting list in case a place frees up
            outcome = await _waitlist(conn, row, person_id)
        said = "yes" if available else "no"
        await conn.execute(
            _ANSWERED, {"recipient_id": asked.id, "said": said, "now": now, "became": outcome}
        )
        await conn.execute(_TOUCHED, {"callout_id": callout_id, "now": now})
        await audit.record(
            conn,
            TRANSACTION,
            actor_id=person_id,
            action=f"callout.{outcome}",
            subject_type="callout",
            subject_id=callout_id,
        )
        closed = hurried = False
        if outcome == "taken" or (outcome == "waitlisted" and row.status in OPEN):
            # The row read under the lock is still the callout's: only settle changes it.
            closed = await settle(conn, row, now=now, transaction=TRANSACTION)
        elif outcome == "declined":
            hurried = await _hurry_if_short(conn, row, now)
        # The person's reply needs only their outcome and the callout's own facts; counting
        # every recipient for it cost more than the rest of a tap at a few thousand asked.
        if closed or hurried:
            row = await must_load(conn, callout_id)
        return CalloutAnswer(outcome, facts_of(row), queued=closed)


async def _existing(conn: AsyncConnection, row: Row[Any], person_id: int) -> Row[Any] | None:
    return await placing.application_on_slot(
        conn, person_id=person_id, slot_id=row.slot_id, starts_at=row.starts_at, ends_at=row.ends_at
    )


async def _take_place(conn: AsyncConnection, row: Row[Any], person_id: int) -> str:
    """Approve the person on the slot if a place is free (or already theirs), else waitlist."""
    existing = await _existing(conn, row, person_id)
    taken = await placing.approve_if_free(
        conn,
        existing,
        person_id=person_id,
        slot_id=row.slot_id,
        capacity=row.capacity,
        # The coordinator who launched the callout made the decision by asking.
        decider=row.created_by,
        reason="callout",
        conditions=row.mission_conditions,
    )
    return "taken" if taken else await _join_waitlist(conn, row, person_id, existing)


async def _waitlist(conn: AsyncConnection, row: Row[Any], person_id: int) -> str:
    """Put the person on the slot's waiting list, where freed places are offered in turn."""
    return await _join_waitlist(conn, row, person_id, await _existing(conn, row, person_id))


async def _join_waitlist(
    conn: AsyncConnection, row: Row[Any], person_id: int, existing: Row[Any] | None
) -> str:
    if existing is None:
        application_id = await application_store.insert_application(
            conn,
            {
                "slot_id": row.slot_id,
                "person_id": person_id,
                "status": ApplicationStatus.WAITLISTED,
                "reason": "callout",
                # Kept with the application, as applying does, so they are asked only once.
                "conditions": list(row.mission_conditions or ()) or None,
                "decided_by": None,
                "decided_at": None,
                "created_at": schema.now(),
                "updated_at": schema.now(),
            },
        )
        await applications.record_event(
            conn,
            application_id,
            None,
            ApplicationStatus.WAITLISTED,
            actor_id=person_id,
            slot_id=row.slot_id,
            reason="callout",
        )
    return "waitlisted"


async def _hurry_if_short(conn: AsyncConnection, row: Row[Any], now: datetime) -> bool:
    """Bring the next wave forward when the people still silent could not fill the need;
    whether it did."""
    if row.status != "active":
        return False
    tally = await counts(conn, row.id)
    if int(tally.possible) >= row.needed - int(tally.taken):
        return False
    result = await conn.execute(
        update(C)
        .where(C.c.id == row.id, C.c.status == "active", C.c.next_wave_at > now)
        .values(next_wave_at=now, updated_at=now)
    )
    return bool(result.rowcount)
