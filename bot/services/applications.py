"""Applications: a volunteer applies for a slot, an organisation decides, either side can
let go of the place. Capacity and overlap rules are checked inside the transaction that
writes the change, so simultaneous applicants can never over-book a slot."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.domain import ACTIVE, HOLDING, REFUSAL_REASONS, ApplicationStatus, MissionStatus
from bot.messaging.outbox import Priority, enqueue
from bot.notifications.applications import ApplicationCancelled, ApplicationDecided
from bot.services import applicants, application_store, audit, offers, reactivity
from bot.services.application_store import (
    ApplicationView as ApplicationView,
)
from bot.services.application_store import (
    Decision as Decision,
)
from bot.services.application_store import (
    applications_of as applications_of,
)
from bot.services.application_store import (
    fetch_application as fetch_application,
)
from bot.services.application_store import (
    fetch_applications as fetch_applications,
)
from bot.services.application_store import (
    get_application as get_application,
)
from bot.services.application_store import (
    lock_application as lock_application,
)
from bot.services.application_store import (
    record_event as record_event,
)
from bot.services.application_store import (
    set_status as set_status,
)
from bot.services.conditions import to_confirm
from bot.services.errors import Conflict, InvalidInput, NotAllowed, NotFound
from bot.services.missions import count_taken
from bot.services.organisations import require_member
from bot.services.people import fetch_person
from storage import schema
from storage.database import Database, Inbound

A, S, M, P = schema.applications, schema.slots, schema.missions, schema.people
NOTE_MAX = 300  # a refusal's note: a few sentences, read on a phone


async def apply(
    db: Database,
    *,
    person_id: int,
    slot_id: int,
    now: datetime,
    inbound: Inbound | None = None,
    confirmed: Sequence[str] = (),
) -> ApplicationView:
    """Apply for a slot: pending while a place is free, else waitlisted with a position.
    Each of the mission's conditions must be `confirmed` now or to its organisation before."""
    async with db.transaction("apply", inbound) as conn:
        # Lock the person then the slot: concurrent applicants for the slot queue here,
        # and one person's simultaneous applications cannot both dodge the overlap check.
        await conn.execute(db.lock_for_update(select(P.c.id).where(P.c.id == person_id)))
        person = await fetch_person(conn, person_id)
        if not person.registered:
            raise NotAllowed("not_registered")
        slot = (
            await conn.execute(
                db.lock_for_update(
                    select(S, M.c.status.label("mission_status"), M.c.organisation_id)
                    .join(M, M.c.id == S.c.mission_id)
                    .where(S.c.id == slot_id)
                )
            )
        ).first()
        if slot is None:
            raise NotFound("slot_not_found")
        if slot.mission_status != MissionStatus.PUBLISHED:
            raise Conflict("mission_closed")
        if slot.cancelled_at is not None:
            raise Conflict("slot_cancelled")
        if slot.starts_at <= now:
            raise Conflict("slot_started")
        missing = [
            c for c in await to_confirm(conn, person_id, slot.mission_id) if c not in confirmed
        ]
        if missing:
            raise Conflict("conditions_unconfirmed", conditions=missing)
        mission_conditions = await conn.scalar(
            select(M.c.conditions).where(M.c.id == slot.mission_id)
        )
        existing = await conn.scalar(
            select(A.c.id).where(
                A.c.slot_id == slot_id,
                A.c.person_id == person_id,
                A.c.status.in_([*map(str, ACTIVE)]),
            )
        )
        if existing is not None:
            raise Conflict("already_applied", application_id=int(existing))
        overlapping = (
            await conn.execute(
                select(A.c.id, M.c.title)
                .join(S, S.c.id == A.c.slot_id)
                .join(M, M.c.id == S.c.mission_id)
                .where(
                    A.c.person_id == person_id,
                    A.c.status.in_([*map(str, HOLDING)]),
                    S.c.starts_at < slot.ends_at,
                    S.c.ends_at > slot.starts_at,
                )
            )
        ).first()
        if overlapping is not None:
            raise Conflict("overlap", mission_title=overlapping.title)
        taken = await count_taken(conn, slot_id)
        status = (
            ApplicationStatus.PENDING if taken < slot.capacity else ApplicationStatus.WAITLISTED
        )
        application_id = await application_store.insert_application(
            conn,
            {
                "slot_id": slot_id,
                "person_id": person_id,
                "status": status,
                "conditions": list(mission_conditions or ()) or None,
                "created_at": schema.now(),
                "updated_at": schema.now(),
            },
        )
        await record_event(conn, application_id, None, status, actor_id=person_id, slot_id=slot_id)
        await audit.record(
            conn,
            "apply",
            actor_id=person_id,
            action=f"application.{status}",
            subject_type="application",
            subject_id=application_id,
            slot_id=slot_id,
        )
        view = await fetch_application(conn, application_id)
        if status == ApplicationStatus.PENDING:
            await applicants.announce_pending(conn, view, person)
        return view


async def cancel(
    db: Database,
    *,
    person_id: int,
    application_id: int,
    now: datetime,
    inbound: Inbound | None = None,
) -> ApplicationView:
    """The volunteer withdraws; a place they held, or were offered, goes to the waitlist."""
    async with db.transaction("cancel_application", inbound) as conn:
        return await withdraw(conn, db, person_id=person_id, application_id=application_id, now=now)


async def withdraw(
    conn: AsyncConnection,
    db: Database,
    *,
    person_id: int,
    application_id: int,
    now: datetime,
    transaction: str = "cancel_application",
) -> ApplicationView:
    """`cancel` inside the caller's transaction (also used when a person is erased)."""
    row = await lock_application(conn, db, application_id)
    if row.person_id != person_id:
        raise NotFound("application_not_found")
    refuse_withdrawal(row.status, row.ends_at, now)
    held_place = row.status in HOLDING
    offered = row.offer_expires_at is not None
    await set_status(
        conn,
        application_id,
        row.status,
        ApplicationStatus.CANCELLED,
        actor_id=person_id,
        end_offer=offered,
    )
    await audit.record(
        conn,
        transaction,
        actor_id=person_id,
        action="application.cancelled",
        subject_type="application",
        subject_id=application_id,
        held_place=held_place,
    )
    view = await fetch_application(conn, application_id)
    if held_place:
        person = await fetch_person(conn, person_id)
        cancelled = ApplicationCancelled.about(view, volunteer_name=person.first_name)
        await applicants.tell_organisation(conn, view.organisation_id, cancelled)
    if held_place or offered:
        await offers.place_freed(
            conn,
            db,
            application_id=application_id,
            freed_by=offers.FreedBy.CANCELLED,
            now=now,
            transaction=transaction,
        )
    return view


def refuse_withdrawal(status: str, ends_at: datetime, now: datetime) -> None:
    """Raise why an application can no longer be let go: it is no longer active, or its
    slot is over. Checked again inside the withdrawal's own transaction, and before asking
    the person to confirm, so that a stale button is refused at once."""
    if status not in ACTIVE:
        raise Conflict("not_active", status=status)
    if ends_at <= now:
        raise Conflict("slot_over")


async def decide(
    db: Database,
    *,
    application_id: int,
    actor_id: int,
    approve: bool,
    reason: str | None = None,
    note: str | None = None,
    inbound: Inbound | None = None,
    now: datetime | None = None,
) -> Decision:
    """A coordinator approves or refuses (a refusal may carry a note in their own words);
    a second decision on the same application only reports the first one."""
    if not approve and reason not in REFUSAL_REASONS:
        raise InvalidInput("reason")
    note = None if approve else " ".join((note or "").split())[:NOTE_MAX] or None
    async with db.transaction("decide_application", inbound) as conn:
        row = await lock_application(conn, db, application_id)
        await require_member(conn, actor_id, row.organisation_id)
        if row.status != ApplicationStatus.PENDING:
            return Decision(await fetch_application(conn, application_id), changed=False)
        new = ApplicationStatus.APPROVED if approve else ApplicationStatus.REFUSED
        await set_status(
            conn,
            application_id,
            row.status,
            new,
            actor_id=actor_id,
            reason=None if approve else reason,
            decided=True,
        )
        if note is not None:
            await application_store.change(conn, application_id, {"reason_note": note})
        await reactivity.measure_soon(conn, row.organisation_id)
        await audit.record(
            conn,
            "decide_application",
            actor_id=actor_id,
            action=f"application.{new}",
            subject_type="application",
            subject_id=application_id,
            reason=reason,
        )
        view = await fetch_application(conn, application_id)
        decided = ApplicationDecided.about(
            view, status=str(new), reason=view.reason, reason_note=note
        )
        await enqueue(conn, decided, person_id=row.person_id, priority=Priority.NORMAL)
        if not approve:
            await offers.place_freed(
                conn,
                db,
                application_id=application_id,
                freed_by=offers.FreedBy.REFUSED,
                now=now or schema.now(),
                transaction="decide_application",
            )
        return Decision(view, changed=True)


async def posted_copies(db: Database, application_id: int) -> list[tuple[int, int]]:
    """(chat id, message id) of every message that showed the application to coordinators,
    so that all of them can show the decision."""
    posted = schema.posted_messages
    async with db.reading("posted_copies") as conn:
        rows = (
            await conn.execute(
                select(posted.c.chat_id, posted.c.message_id)
                .where(
                    posted.c.subject_type == "application", posted.c.subject_id == application_id
                )
                .order_by(posted.c.id)
            )
        ).all()
    return [(int(r.chat_id), int(r.message_id)) for r in rows]
