"""Applications: a volunteer applies for a slot, an organisation decides, either side can
let go of the place. Capacity and overlap rules are checked inside the transaction that
writes the change, so simultaneous applicants can never over-book a slot."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Row, bindparam, func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.domain import ACTIVE, HOLDING, REFUSAL_REASONS, ApplicationStatus, MissionStatus
from bot.messaging.outbox import Priority, enqueue
from bot.notifications.applications import ApplicationCancelled, ApplicationDecided
from bot.services import applicants, audit, offers, places, reactivity
from bot.services.conditions import to_confirm
from bot.services.errors import Conflict, InvalidInput, NotAllowed, NotFound
from bot.services.missions import count_taken
from bot.services.organisations import require_member
from bot.services.people import fetch_person
from storage import schema
from storage.database import Database, Inbound

A, S, M, P = schema.applications, schema.slots, schema.missions, schema.people
NOTE_MAX = 300  # a refusal's note: a few sentences, read on a phone


@dataclass(frozen=True)
class ApplicationView:
    id: int
    status: ApplicationStatus
    reason: str | None
    person_id: int
    slot_id: int
    mission_id: int
    mission_title: str
    organisation_id: int
    organisation_name: str
    address: str
    remote: bool
    timezone: str
    starts_at: datetime
    ends_at: datetime
    created_at: datetime
    decided_at: datetime | None
    decided_by_name: str | None
    waitlist_position: int | None
    offer_expires_at: datetime | None = None  # a freed place is offered until then


@dataclass(frozen=True)
class Decision:
    """The application after the decision; `changed` is False for a second tap."""

    application: ApplicationView
    changed: bool


def _view_query() -> Any:
    o = schema.organisations
    decider = P.alias("decider")
    return (
        select(
            A.c.id,
            A.c.status,
            A.c.reason,
            A.c.person_id,
            A.c.slot_id,
            A.c.created_at,
            A.c.decided_at,
            A.c.offer_expires_at,
            decider.c.first_name.label("decided_by_name"),
            S.c.mission_id,
            S.c.starts_at,
            S.c.ends_at,
            M.c.title.label("mission_title"),
            M.c.organisation_id,
            M.c.address,
            M.c.remote,
            M.c.timezone,
            o.c.name.label("organisation_name"),
        )
        .join(S, S.c.id == A.c.slot_id)
        .join(M, M.c.id == S.c.mission_id)
        .join(o, o.c.id == M.c.organisation_id)
        .outerjoin(decider, decider.c.id == A.c.decided_by)
    )


async def _waitlist_position(conn: AsyncConnection, row: Row[Any]) -> int | None:
    if row.status != ApplicationStatus.WAITLISTED:
        return None
    ahead = await conn.scalar(
        select(func.count()).where(
            A.c.slot_id == row.slot_id,
            A.c.status == ApplicationStatus.WAITLISTED,
            (A.c.created_at < row.created_at)
            | ((A.c.created_at == row.created_at) & (A.c.id < row.id)),
        )
    )
    return int(ahead or 0) + 1


async def _view(conn: AsyncConnection, row: Row[Any]) -> ApplicationView:
    return ApplicationView(
        id=row.id,
        status=ApplicationStatus(row.status),
        reason=row.reason,
        person_id=row.person_id,
        slot_id=row.slot_id,
        mission_id=row.mission_id,
        mission_title=row.mission_title,
        organisation_id=row.organisation_id,
        organisation_name=row.organisation_name,
        address=row.address,
        remote=row.remote,
        timezone=row.timezone,
        starts_at=row.starts_at,
        ends_at=row.ends_at,
        created_at=row.created_at,
        decided_at=row.decided_at,
        decided_by_name=row.decided_by_name,
        waitlist_position=await _waitlist_position(conn, row),
        offer_expires_at=row.offer_expires_at,
    )


async def fetch_application(conn: AsyncConnection, application_id: int) -> ApplicationView:
    row = (await conn.execute(_view_query().where(A.c.id == application_id))).first()
    if row is None:
        raise NotFound("application_not_found")
    return await _view(conn, row)


async def fetch_applications(
    conn: AsyncConnection, application_ids: list[int]
) -> list[ApplicationView]:
    """Several applications in one query, by id (a scheduled job's batch)."""
    if not application_ids:
        return []
    query = _view_query().where(A.c.id.in_(application_ids)).order_by(A.c.id)
    return [await _view(conn, row) for row in (await conn.execute(query)).all()]


async def get_application(db: Database, application_id: int) -> ApplicationView:
    async with db.reading("get_application") as conn:
        return await fetch_application(conn, application_id)


async def applications_of(
    db: Database, person_id: int, *, now: datetime, include_past: bool = False
) -> list[ApplicationView]:
    """The person's live applications, soonest first."""
    query = _view_query().where(A.c.person_id == person_id, A.c.status.in_([*map(str, ACTIVE)]))
    if not include_past:
        query = query.where(S.c.ends_at > now)
    async with db.reading("applications_of") as conn:
        rows = (await conn.execute(query.order_by(S.c.starts_at, A.c.id))).all()
        return [await _view(conn, r) for r in rows]


# Every change of an application runs these: built once, as building cost more than running.
_HISTORY = insert(schema.application_events)
_BEFORE = select(A.c.slot_id, A.c.status, A.c.offer_expires_at).where(A.c.id == bindparam("id"))


async def set_status(
    conn: AsyncConnection,
    application_id: int,
    old: str | None,
    new: ApplicationStatus,
    *,
    actor_id: int | None,
    reason: str | None = None,
    decided: bool = False,
    end_offer: bool = False,
) -> None:
    """Change the application's status (`end_offer`: an offer of a freed place it had
    ends with the change), with its history line and its slot's kept places."""
    before = (await conn.execute(_BEFORE, {"id": application_id})).one()
    values: dict[str, Any] = {"status": new, "updated_at": schema.now()}
    if reason is not None:
        values["reason"] = reason
    if decided:
        values.update(decided_by=actor_id, decided_at=schema.now())
    if end_offer:
        values["offer_expires_at"] = None
    await conn.execute(update(A).where(A.c.id == application_id).values(**values))
    await _history(conn, application_id, old, new, actor_id=actor_id, reason=reason)
    offered = before.offer_expires_at is not None
    await places.shift(
        conn,
        before.slot_id,
        places.share(before.status, offered),
        places.share(new, offered and not end_offer),
    )


async def record_event(
    conn: AsyncConnection,
    application_id: int,
    old: str | None,
    new: ApplicationStatus,
    *,
    actor_id: int | None,
    slot_id: int,
    reason: str | None = None,
    offer: tuple[bool, bool] = (False, False),
) -> None:
    """One line of the history of an application just inserted (`old` None) or whose offer
    of a freed place was just made or withdrawn (`offer`: open before, open after), and its
    slot's kept places moved to match; `set_status` does both for a change of status."""
    await _history(conn, application_id, old, new, actor_id=actor_id, reason=reason)
    await places.shift(conn, slot_id, places.share(old, offer[0]), places.share(new, offer[1]))


async def _history(
    conn: AsyncConnection,
    application_id: int,
    old: str | None,
    new: ApplicationStatus,
    *,
    actor_id: int | None,
    reason: str | None,
) -> None:
    await conn.execute(
        _HISTORY,
        {
            "application_id": application_id,
            "from_status": old,
            "to_status": new,
            "actor_id": actor_id,
            "reason": reason,
            "at": schema.now(),
        },
    )


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
        result = await conn.execute(
            insert(A)
            .values(
                slot_id=slot_id,
                person_id=person_id,
                status=status,
                conditions=list(mission_conditions or ()) or None,
                created_at=schema.now(),
                updated_at=schema.now(),
            )
            .returning(A.c.id)
        )
        application_id = int(result.scalar_one())
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


async def lock_application(conn: AsyncConnection, db: Database, application_id: int) -> Row[Any]:
    """The application with its slot and mission facts, locked until commit (PostgreSQL;
    SQLite's write transaction already excludes others)."""
    row = (
        await conn.execute(
            db.lock_for_update(
                select(
                    A.c.id,
                    A.c.status,
                    A.c.person_id,
                    A.c.slot_id,
                    A.c.offer_expires_at,
                    S.c.capacity,
                    S.c.starts_at,
                    S.c.ends_at,
                    M.c.status.label("mission_status"),
                    M.c.organisation_id,
                )
                .join(S, S.c.id == A.c.slot_id)
                .join(M, M.c.id == S.c.mission_id)
                .where(A.c.id == application_id)
            )
        )
    ).first()
    if row is None:
        raise NotFound("application_not_found")
    return row


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
    if row.status not in ACTIVE:
        raise Conflict("not_active", status=row.status)
    if row.ends_at <= now:
        raise Conflict("slot_over")
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
            await conn.execute(update(A).where(A.c.id == application_id).values(reason_note=note))
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
