"""An organisation offers one of its upcoming slots to a volunteer available for a territory
alert; the volunteer accepts or declines. Accepting makes an approved application under the
slot's lock and the rules of applying (capacity, overlap): the organisation asked. A
volunteer who blocked the organisation is never offered its slots."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Row, exists, insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.domain import HOLDING, MissionStatus
from bot.messaging.outbox import Priority, enqueue
from bot.notifications.alerts import AlertOffer
from bot.services import audit, placing
from bot.services.errors import Conflict, NotAllowed, NotFound
from bot.services.missions import count_taken
from bot.services.organisations import require_member
from storage import schema
from storage.database import Database, Inbound

AL, AR, AO = schema.territory_alerts, schema.alert_recipients, schema.alert_offers
A, S, M, ORG = schema.applications, schema.slots, schema.missions, schema.organisations
P, BLOCKS = schema.people, schema.relay_blocks

REASON = "territory_alert"


@dataclass(frozen=True)
class OfferableSlot:
    slot_id: int
    mission_title: str
    starts_at: datetime
    ends_at: datetime
    timezone: str
    free: int


@dataclass(frozen=True)
class OfferMade:
    offer_id: int
    first_name: str
    mission_title: str


@dataclass(frozen=True)
class OfferAnswer:
    outcome: str  # accepted / declined / full / closed / already
    mission_title: str
    organisation_name: str
    starts_at: datetime
    ends_at: datetime
    timezone: str


async def _recipient(conn: AsyncConnection, recipient_id: int) -> Row[Any]:
    row = (
        await conn.execute(
            select(AR.c.id, AR.c.person_id, AR.c.answer, P.c.first_name)
            .join(P, P.c.id == AR.c.person_id)
            .where(AR.c.id == recipient_id)
        )
    ).first()
    if row is None or row.answer != "yes":
        raise NotFound("alert_not_found")
    return row


async def _check_not_blocked(conn: AsyncConnection, person_id: int, organisation_id: int) -> None:
    blocked = await conn.scalar(
        select(
            exists().where(
                BLOCKS.c.person_id == person_id, BLOCKS.c.organisation_id == organisation_id
            )
        )
    )
    if blocked:
        raise NotAllowed("volunteer_blocked")


def _upcoming(organisation_id: int, now: datetime) -> Any:
    return (
        select(
            S.c.id,
            S.c.capacity,
            S.c.starts_at,
            S.c.ends_at,
            M.c.title,
            M.c.timezone,
        )
        .join(M, M.c.id == S.c.mission_id)
        .where(
            M.c.organisation_id == organisation_id,
            M.c.status == MissionStatus.PUBLISHED,
            S.c.cancelled_at.is_(None),
            S.c.starts_at > now,
        )
        .order_by(S.c.starts_at, S.c.id)
    )


async def offerable_slots(
    db: Database, *, actor_id: int, recipient_id: int, organisation_id: int, now: datetime
) -> list[OfferableSlot]:
    """The organisation's upcoming slots with a free place, to offer the volunteer."""
    async with db.reading("offerable_slots") as conn:
        await require_member(conn, actor_id, organisation_id)
        person = await _recipient(conn, recipient_id)
        await _check_not_blocked(conn, person.person_id, organisation_id)
        found = []
        for row in (await conn.execute(_upcoming(organisation_id, now).limit(50))).all():
            free = row.capacity - await count_taken(conn, row.id)
            if free > 0:
                found.append(
                    OfferableSlot(row.id, row.title, row.starts_at, row.ends_at, row.timezone, free)
                )
        return found[:10]


async def offer(
    db: Database,
    *,
    actor_id: int,
    recipient_id: int,
    slot_id: int,
    now: datetime,
    inbound: Inbound | None = None,
) -> OfferMade:
    """Offer the slot to the volunteer; they get it with Accept / Decline."""
    async with db.transaction("offer_alert_slot", inbound) as conn:
        slot = (
            await conn.execute(
                select(
                    S.c.id,
                    S.c.capacity,
                    S.c.starts_at,
                    S.c.ends_at,
                    S.c.cancelled_at,
                    M.c.title,
                    M.c.address,
                    M.c.remote,
                    M.c.timezone,
                    M.c.status,
                    M.c.conditions,
                    M.c.organisation_id,
                    ORG.c.name.label("organisation_name"),
                )
                .join(M, M.c.id == S.c.mission_id)
                .join(ORG, ORG.c.id == M.c.organisation_id)
                .where(S.c.id == slot_id)
            )
        ).first()
        if slot is None:
            raise NotFound("slot_not_found")
        await require_member(conn, actor_id, slot.organisation_id)
        person = await _recipient(conn, recipient_id)
        await _check_not_blocked(conn, person.person_id, slot.organisation_id)
        if slot.status != MissionStatus.PUBLISHED or slot.cancelled_at is not None:
            raise Conflict("mission_closed")
        if slot.starts_at <= now:
            raise Conflict("slot_started")
        if slot.capacity - await count_taken(conn, slot_id) <= 0:
            raise Conflict("slot_full")
        already = await conn.scalar(
            select(AO.c.id).where(AO.c.recipient_id == recipient_id, AO.c.slot_id == slot_id)
        )
        if already is not None:
            raise Conflict("already_offered")
        offer_id = int(
            (
                await conn.execute(
                    insert(AO)
                    .values(
                        recipient_id=recipient_id,
                        slot_id=slot_id,
                        organisation_id=slot.organisation_id,
                        offered_by=actor_id,
                        status="open",
                        created_at=now,
                    )
                    .returning(AO.c.id)
                )
            ).scalar_one()
        )
        await enqueue(
            conn,
            AlertOffer(
                offer_id=offer_id,
                mission_title=slot.title,
                organisation_name=slot.organisation_name,
                address=slot.address,
                remote=slot.remote,
                starts_at=slot.starts_at,
                ends_at=slot.ends_at,
                timezone=slot.timezone,
                conditions=tuple(slot.conditions or ()),
            ),
            person_id=person.person_id,
            priority=Priority.REPLY,
        )
        await audit.record(
            conn,
            "offer_alert_slot",
            actor_id=actor_id,
            action="alert_offer.made",
            subject_type="alert_offer",
            subject_id=offer_id,
            slot_id=slot_id,
            person_id=person.person_id,
        )
        return OfferMade(offer_id, person.first_name, slot.title)


async def answer_offer(
    db: Database,
    *,
    person_id: int,
    offer_id: int,
    accept: bool,
    now: datetime,
    inbound: Inbound | None = None,
) -> OfferAnswer:
    """Accept (an approved application, if a place is still free) or decline the offer."""
    async with db.transaction("answer_alert_offer", inbound) as conn:
        # Person, then slot: the order applying uses, so no deadlock.
        await conn.execute(db.lock_for_update(select(P.c.id).where(P.c.id == person_id)))
        slot_id = await conn.scalar(
            select(AO.c.slot_id)
            .join(AR, AR.c.id == AO.c.recipient_id)
            .where(AO.c.id == offer_id, AR.c.person_id == person_id)
        )
        if slot_id is None:
            raise NotFound("offer_not_found")
        row = (
            await conn.execute(
                db.lock_for_update(
                    select(
                        AO.c.status.label("offer_status"),
                        AO.c.offered_by,
                        S.c.capacity,
                        S.c.starts_at,
                        S.c.ends_at,
                        S.c.cancelled_at,
                        M.c.title,
                        M.c.timezone,
                        M.c.status,
                        M.c.conditions,
                        ORG.c.name.label("organisation_name"),
                    )
                    .select_from(AO.join(S, S.c.id == AO.c.slot_id))
                    .join(M, M.c.id == S.c.mission_id)
                    .join(ORG, ORG.c.id == M.c.organisation_id)
                    .where(AO.c.id == offer_id)
                )
            )
        ).one()

        def result(outcome: str) -> OfferAnswer:
            return OfferAnswer(
                outcome, row.title, row.organisation_name, row.starts_at, row.ends_at, row.timezone
            )

        if row.offer_status != "open":
            return result("already")
        gone = (
            row.status != MissionStatus.PUBLISHED
            or row.cancelled_at is not None
            or row.starts_at <= now
        )
        if gone:
            outcome = "closed"
        elif not accept:
            outcome = "declined"
        else:
            outcome = await _take(conn, row, int(slot_id), person_id)
        application_id = None
        if outcome == "accepted":
            application_id = await conn.scalar(
                select(A.c.id).where(
                    A.c.slot_id == slot_id,
                    A.c.person_id == person_id,
                    A.c.status.in_([str(s) for s in HOLDING]),
                )
            )
        await conn.execute(
            update(AO)
            .where(AO.c.id == offer_id)
            .values(
                status="accepted"
                if outcome == "accepted"
                else "declined"
                if not accept
                else "closed",
                answered_at=now,
                application_id=application_id,
            )
        )
        await audit.record(
            conn,
            "answer_alert_offer",
            actor_id=person_id,
            action=f"alert_offer.{outcome}",
            subject_type="alert_offer",
            subject_id=offer_id,
        )
        return result(outcome)


async def _take(conn: AsyncConnection, row: Row[Any], slot_id: int, person_id: int) -> str:
    """Approve the person on the slot if a place is free (or already theirs)."""
    existing = await placing.application_on_slot(
        conn, person_id=person_id, slot_id=slot_id, starts_at=row.starts_at, ends_at=row.ends_at
    )
    taken = await placing.approve_if_free(
        conn,
        existing,
        person_id=person_id,
        slot_id=slot_id,
        capacity=row.capacity,
        decider=row.offered_by,
        reason=REASON,
        # Accepting the offer, shown with the mission's conditions, confirms them.
        conditions=row.conditions,
    )
    return "accepted" if taken else "full"


async def open_offer(db: Database, person_id: int, now: datetime) -> tuple[int, datetime] | None:
    """The person's latest unanswered offer whose slot has not started, and when it starts
    (a bare SMS YES/NO)."""
    async with db.reading("open_alert_offer") as conn:
        found = (
            await conn.execute(
                select(AO.c.id, S.c.starts_at)
                .join(AR, AR.c.id == AO.c.recipient_id)
                .join(S, S.c.id == AO.c.slot_id)
                .where(AR.c.person_id == person_id, AO.c.status == "open", S.c.starts_at > now)
                .order_by(AO.c.created_at.desc(), AO.c.id.desc())
                .limit(1)
            )
        ).first()
    return None if found is None else (int(found.id), found.starts_at)
