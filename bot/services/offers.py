"""Offers: a freed place goes to the longest-waiting person on the slot's waitlist, who has
a limited time to take it. The open offer (applications.offer_expires_at) reserves the place
meanwhile, so there are never more open offers than free places and nobody applying in
between can take it. Accepting makes the application pending, like any application the
organisation has not vetted yet; declining or letting the time run out withdraws it and
offers the place to the next person."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from sqlalchemy import Row, select
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.domain import HOLDING, ApplicationStatus, MissionStatus
from bot.messaging.outbox import enqueue, enqueue_once
from bot.notifications.offers import OfferExpired, OfferMade, PlaceFreedSoon

# applications imports this module to offer freed places: use it through the module so
# that whichever of the two is imported first, the other is complete when called.
from bot.services import applicants, application_store, audit
from bot.services.errors import Conflict, NotFound
from bot.services.missions import count_taken
from bot.services.organisations import admin_chat_ids, coordinator_ids
from bot.services.people import fetch_person
from storage import schema
from storage.database import Database, Inbound

if TYPE_CHECKING:
    from bot.services.application_store import ApplicationView

A, S, M, ORG = schema.applications, schema.slots, schema.missions, schema.organisations

# Below an hour before the start nobody could reasonably answer and come: coordinators
# are told instead. An offer lasts the organisation's window, but at most half the time
# left, so the next person still has time too.
NO_OFFER_WITHIN = timedelta(hours=1)
SHORTEST_OFFER = timedelta(minutes=30)
# A place freed this close to the start is worth a coordinator's attention.
ALERT_WITHIN = timedelta(hours=6)
DUE_PER_TICK = 200


class OfferOutcome(StrEnum):
    ACCEPTED = "accepted"
    DECLINED = "declined"
    EXPIRED = "expired"  # answered too late: the place went on
    CLOSED = "closed"  # no open offer: already answered, withdrawn or never made


class FreedBy(StrEnum):
    """Why a place came free, as the coordinators' alert says it."""

    CANCELLED = "cancelled"
    REFUSED = "refused"
    OFFER_DECLINED = "offer_declined"
    OFFER_EXPIRED = "offer_expired"


@dataclass(frozen=True)
class OfferAnswer:
    application: ApplicationView
    outcome: OfferOutcome


def offer_window(window_hours: int, left: timedelta) -> timedelta | None:
    """How long an offer stays open when the slot starts in `left`; None: too late."""
    if left < NO_OFFER_WITHIN:
        return None
    return max(min(timedelta(hours=window_hours), left / 2), SHORTEST_OFFER)


async def offer_free_places(
    conn: AsyncConnection, db: Database, *, slot_id: int, now: datetime, transaction: str
) -> int:
    """Offer the slot's free places to the longest-waiting people; returns offers made."""
    # Applying locks the slot too: nobody takes a place between counting and offering.
    await conn.execute(db.lock_for_update(select(S.c.id).where(S.c.id == slot_id)))
    slot = (
        await conn.execute(
            select(S.c.capacity, S.c.starts_at, M.c.status, ORG.c.offer_window_hours)
            .join(M, M.c.id == S.c.mission_id)
            .join(ORG, ORG.c.id == M.c.organisation_id)
            .where(S.c.id == slot_id)
        )
    ).first()
    if slot is None or slot.status != MissionStatus.PUBLISHED:
        return 0
    window = offer_window(slot.offer_window_hours, slot.starts_at - now)
    free = slot.capacity - await count_taken(conn, slot_id)
    if window is None or free <= 0:
        return 0
    waiting = (
        await conn.execute(
            select(A.c.id, A.c.person_id)
            .where(
                A.c.slot_id == slot_id,
                A.c.status == ApplicationStatus.WAITLISTED,
                A.c.offer_expires_at.is_(None),
            )
            .order_by(A.c.created_at, A.c.id)
            .limit(free)
        )
    ).all()
    deadline = now + window
    for row in waiting:
        await application_store.set_offer(conn, row.id, slot_id=slot_id, expires_at=deadline)
        await audit.record(
            conn,
            transaction,
            actor_id=None,
            action="application.offered",
            subject_type="application",
            subject_id=row.id,
            expires_at=deadline.isoformat(),
        )
        view = await application_store.fetch_application(conn, row.id)
        made = OfferMade.about(view, offer_expires_at=view.offer_expires_at or deadline)
        await enqueue(conn, made, person_id=row.person_id)
    return len(waiting)


async def place_freed(
    conn: AsyncConnection,
    db: Database,
    *,
    application_id: int,
    freed_by: FreedBy,
    now: datetime,
    transaction: str,
) -> int:
    """A place was let go by `application_id`: offer it on, and alert the coordinators when
    the slot is near; returns offers made."""
    view = await application_store.fetch_application(conn, application_id)
    offered = await offer_free_places(
        conn, db, slot_id=view.slot_id, now=now, transaction=transaction
    )
    left = view.starts_at - now
    if timedelta(0) < left < ALERT_WITHIN:
        person = await fetch_person(conn, view.person_id)
        freed = PlaceFreedSoon.about(
            view,
            volunteer_name=person.first_name,
            freed_by=str(freed_by),
            offered=offered,
            too_late=left < NO_OFFER_WITHIN,
        )
        await _alert_coordinators(conn, view.organisation_id, application_id, freed)
    return offered


async def _alert_coordinators(
    conn: AsyncConnection, organisation_id: int, application_id: int, freed: PlaceFreedSoon
) -> None:
    """To the admin chats, or each coordinator privately; once per freed place, even if a
    retried transaction or a second worker gets here again."""
    key = f"{PlaceFreedSoon.kind}:application:{application_id}"
    chats = await admin_chat_ids(conn, organisation_id)
    if chats:
        for chat_id in chats:
            await enqueue_once(conn, f"{key}:chat:{chat_id}", freed, chat_id=chat_id)
        return
    for person_id in await coordinator_ids(conn, organisation_id):
        await enqueue_once(
            conn,
            f"{key}:person:{person_id}",
            freed,
            person_id=person_id,
        )


def _is_open(row: Row[Any]) -> bool:
    return bool(row.status == ApplicationStatus.WAITLISTED and row.offer_expires_at is not None)


async def end_offer(
    conn: AsyncConnection,
    db: Database,
    row: Row[Any],
    *,
    freed_by: FreedBy,
    actor_id: int | None,
    now: datetime,
    transaction: str,
) -> None:
    """Withdraw the offered person (declined or too late) and offer the place onward."""
    await application_store.set_status(
        conn,
        row.id,
        row.status,
        ApplicationStatus.CANCELLED,
        actor_id=actor_id,
        reason=str(freed_by),
        end_offer=True,
    )
    await audit.record(
        conn,
        transaction,
        actor_id=actor_id,
        action=f"application.{freed_by}",
        subject_type="application",
        subject_id=row.id,
    )
    if freed_by == FreedBy.OFFER_EXPIRED:
        view = await application_store.fetch_application(conn, row.id)
        expired = OfferExpired.about(view, offer_expires_at=view.offer_expires_at)
        await enqueue(conn, expired, person_id=row.person_id)
    await place_freed(
        conn, db, application_id=row.id, freed_by=freed_by, now=now, transaction=transaction
    )


async def _overlapping_title(conn: AsyncConnection, row: Row[Any]) -> str | None:
    """A mission the person holds a place in at the same time, if any."""
    found = await conn.scalar(
        select(M.c.title)
        .select_from(A.join(S, S.c.id == A.c.slot_id).join(M, M.c.id == S.c.mission_id))
        .where(
            A.c.person_id == row.person_id,
            A.c.id != row.id,
            A.c.status.in_([str(s) for s in HOLDING]),
            S.c.starts_at < row.ends_at,
            S.c.ends_at > row.starts_at,
        )
        .limit(1)
    )
    return None if found is None else str(found)


async def _their_offer(
    conn: AsyncConnection, db: Database, application_id: int, person_id: int
) -> tuple[Any, OfferAnswer | None]:
    """The offered application, locked; with the answer to give when its offer is no longer
    open."""
    row = await application_store.lock_application(conn, db, application_id)
    if row.person_id != person_id:
        raise NotFound("application_not_found")
    if _is_open(row):
        return row, None
    view = await application_store.fetch_application(conn, row.id)
    return row, OfferAnswer(view, OfferOutcome.CLOSED)


async def _expire(
    conn: AsyncConnection, db: Database, row: Row[Any], *, now: datetime, transaction: str
) -> None:
    """The offer ran out: it ends with nobody as its actor, and the place goes on."""
    await end_offer(
        conn,
        db,
        row,
        freed_by=FreedBy.OFFER_EXPIRED,
        actor_id=None,
        now=now,
        transaction=transaction,
    )


async def _answered_too_late(
    conn: AsyncConnection, db: Database, row: Row[Any], *, now: datetime, transaction: str
) -> OfferAnswer:
    """Accept or decline, a tap after the deadline counts as no answer: the offer expires as
    it would have without the tap."""
    await _expire(conn, db, row, now=now, transaction=transaction)
    view = await application_store.fetch_application(conn, row.id)
    return OfferAnswer(view, OfferOutcome.EXPIRED)


async def accept_offer(
    db: Database,
    *,
    person_id: int,
    application_id: int,
    now: datetime,
    inbound: Inbound | None = None,
) -> OfferAnswer:
    """The offered person takes the place: their application goes to the organisation."""
    async with db.transaction("accept_offer", inbound) as conn:
        row, closed = await _their_offer(conn, db, application_id, person_id)
        if closed is not None:
            return closed
        if row.offer_expires_at <= now:
            return await _answered_too_late(conn, db, row, now=now, transaction="accept_offer")
        if row.mission_status != MissionStatus.PUBLISHED:
            raise Conflict("mission_closed")
        busy = await _overlapping_title(conn, row)
        if busy is not None:
            raise Conflict("overlap", mission_title=busy)
        await application_store.set_status(
            conn,
            row.id,
            row.status,
            ApplicationStatus.PENDING,
            actor_id=person_id,
            reason="offer_accepted",
            end_offer=True,
        )
        await audit.record(
            conn,
            "accept_offer",
            actor_id=person_id,
            action="application.offer_accepted",
            subject_type="application",
            subject_id=row.id,
        )
        view = await application_store.fetch_application(conn, row.id)
        await applicants.announce_pending(conn, view, await fetch_person(conn, person_id))
        return OfferAnswer(view, OfferOutcome.ACCEPTED)


async def decline_offer(
    db: Database,
    *,
    person_id: int,
    application_id: int,
    now: datetime,
    inbound: Inbound | None = None,
) -> OfferAnswer:
    """The offered person lets the place go: they leave the waitlist, the next is offered."""
    async with db.transaction("decline_offer", inbound) as conn:
        row, closed = await _their_offer(conn, db, application_id, person_id)
        if closed is not None:
            return closed
        if row.offer_expires_at <= now:
            return await _answered_too_late(conn, db, row, now=now, transaction="decline_offer")
        await end_offer(
            conn,
            db,
            row,
            freed_by=FreedBy.OFFER_DECLINED,
            actor_id=person_id,
            now=now,
            transaction="decline_offer",
        )
        view = await application_store.fetch_application(conn, row.id)
        return OfferAnswer(view, OfferOutcome.DECLINED)


async def open_offer(db: Database, person_id: int, now: datetime) -> ApplicationView | None:
    """The person's open offer that ends soonest, if any."""
    async with db.reading("open_offer") as conn:
        found = await conn.scalar(
            select(A.c.id)
            .where(
                A.c.person_id == person_id,
                A.c.status == ApplicationStatus.WAITLISTED,
                A.c.offer_expires_at > now,
            )
            .order_by(A.c.offer_expires_at, A.c.id)
            .limit(1)
        )
        return (
            None if found is None else await application_store.fetch_application(conn, int(found))
        )


async def expire_due_offers(db: Database, *, now: datetime, limit: int = DUE_PER_TICK) -> int:
    """Withdraw every offer whose time ran out and offer each place onward; returns how
    many. Each runs in its own transaction and re-checks under the lock, so a second worker
    or a rerun after a crash finds nothing left to do."""
    async with db.reading("due_offers") as conn:
        due = (
            await conn.scalars(
                select(A.c.id)
                .where(A.c.offer_expires_at <= now, A.c.status == ApplicationStatus.WAITLISTED)
                .order_by(A.c.offer_expires_at, A.c.id)
                .limit(limit)
            )
        ).all()
    done = 0
    for application_id in due:
        async with db.transaction("expire_offer") as conn:
            try:
                row = await application_store.lock_application(conn, db, int(application_id))
            except NotFound:  # its slot was deleted meanwhile
                continue
            if not _is_open(row) or row.offer_expires_at > now:
                continue
            await _expire(conn, db, row, now=now, transaction="expire_offer")
            done += 1
    return done
