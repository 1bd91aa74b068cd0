"""Relay messaging: a coordinator writes to one volunteer, a slot's or a mission's
volunteers through the bot; volunteers answer back to the organisation. Nobody learns
anyone's phone number or Telegram username: only first names travel."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, insert, select
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.domain import ACTIVE
from bot.messaging.outbox import Priority, enqueue
from bot.notifications.relay import RelayToOrganisation, RelayToVolunteer
from bot.services import audit
from bot.services.errors import InvalidInput, NotFound
from bot.services.organisations import organisation_name, require_member
from bot.services.organisers import recipients
from storage import schema
from storage.database import Database, Inbound, upsert_ignore

A, S, M, P = schema.applications, schema.slots, schema.missions, schema.people
R, B, ORG = schema.relay_messages, schema.relay_blocks, schema.organisations
POSTED = schema.posted_messages
TO_VOLUNTEER, TO_ORGANISATION = "to_volunteer", "to_organisation"
SUBJECT = "relay_message"  # posted_messages.subject_type of a relayed message's copies
REPLY_WINDOW = timedelta(days=7)  # an SMS within this after a relay answers it
MAX_BODY = 2000


@dataclass(frozen=True)
class Volunteer:
    person_id: int
    first_name: str


@dataclass(frozen=True)
class Choice:
    """A mission or a slot to pick from, with how many volunteers it has."""

    id: int
    title: str
    starts_at: datetime
    timezone: str
    volunteers: int


@dataclass(frozen=True)
class Sent:
    """What a coordinator's relay did: how many got it, who refuses the organisation's
    messages (first names)."""

    delivered: int
    blocked: tuple[str, ...]


@dataclass(frozen=True)
class Answered:
    """A volunteer's answer passed on to this organisation."""

    organisation_id: int
    organisation_name: str


@dataclass(frozen=True)
class Contact:
    """An organisation that messaged the person, and whether they block it."""

    organisation_id: int
    name: str
    blocked: bool


def clean_body(body: str) -> str:
    text = body.strip()
    if not text:
        raise InvalidInput("relay_empty")
    return text[:MAX_BODY]


def _active() -> list[str]:
    return [*map(str, ACTIVE)]


async def missions_with_volunteers(
    db: Database, *, organisation_id: int, now: datetime
) -> list[Choice]:
    """The organisation's missions with volunteers still on them, soonest first."""
    query = (
        select(
            M.c.id,
            M.c.title,
            M.c.timezone,
            func.min(S.c.starts_at).label("starts_at"),
            func.count(func.distinct(A.c.person_id)).label("volunteers"),
        )
        .join(S, S.c.mission_id == M.c.id)
        .join(A, A.c.slot_id == S.c.id)
        .where(M.c.organisation_id == organisation_id, A.c.status.in_(_active()))
        .where(S.c.ends_at > now - REPLY_WINDOW)
        .group_by(M.c.id, M.c.title, M.c.timezone)
        .order_by(func.min(S.c.starts_at), M.c.id)
    )
    async with db.reading("relay_missions") as conn:
        rows = (await conn.execute(query)).all()
    return [Choice(r.id, r.title, r.starts_at, r.timezone, int(r.volunteers)) for r in rows]


async def slots_with_volunteers(db: Database, *, mission_id: int) -> list[Choice]:
    query = (
        select(
            S.c.id,
            S.c.starts_at,
            M.c.title,
            M.c.timezone,
            func.count(A.c.id).label("volunteers"),
        )
        .join(M, M.c.id == S.c.mission_id)
        .join(A, A.c.slot_id == S.c.id)
        .where(S.c.mission_id == mission_id, A.c.status.in_(_active()))
        .group_by(S.c.id, S.c.starts_at, M.c.title, M.c.timezone)
        .order_by(S.c.starts_at, S.c.id)
    )
    async with db.reading("relay_slots") as conn:
        rows = (await conn.execute(query)).all()
    return [Choice(r.id, r.title, r.starts_at, r.timezone, int(r.volunteers)) for r in rows]


def _volunteers_query(mission_id: int, slot_id: int | None) -> Any:
    query = (
        select(P.c.id, P.c.first_name)
        .join(A, A.c.person_id == P.c.id)
        .join(S, S.c.id == A.c.slot_id)
        .where(S.c.mission_id == mission_id, A.c.status.in_(_active()), P.c.erased_at.is_(None))
        .distinct()
        .order_by(P.c.first_name, P.c.id)
    )
    return query if slot_id is None else query.where(S.c.id == slot_id)


async def volunteers_of(db: Database, *, mission_id: int, slot_id: int | None) -> list[Volunteer]:
    """The volunteers of a mission (or of one of its slots), by first name."""
    async with db.reading("relay_volunteers") as conn:
        rows = (await conn.execute(_volunteers_query(mission_id, slot_id))).all()
    return [Volunteer(r.id, r.first_name) for r in rows]


async def _blocked(conn: AsyncConnection, organisation_id: int, person_ids: list[int]) -> set[int]:
    if not person_ids:
        return set()
    rows = await conn.scalars(
        select(B.c.person_id).where(
            B.c.organisation_id == organisation_id, B.c.person_id.in_(person_ids)
        )
    )
    return {int(r) for r in rows}


async def _relay_to(
    conn: AsyncConnection,
    *,
    actor_id: int,
    organisation_id: int,
    mission_id: int | None,
    people: list[Volunteer],
    body: str,
    transaction: str,
    now: datetime,
) -> Sent:
    """Store and queue one relayed message per volunteer who accepts the organisation's."""
    name = await organisation_name(conn, organisation_id)
    title = None
    if mission_id is not None:
        title = await conn.scalar(select(M.c.title).where(M.c.id == mission_id))
    blocked = await _blocked(conn, organisation_id, [v.person_id for v in people])
    delivered = 0
    for volunteer in people:
        if volunteer.person_id in blocked:
            continue
        relay_id = await _store(
            conn,
            organisation_id,
            volunteer.person_id,
            mission_id,
            TO_VOLUNTEER,
            actor_id,
            body,
            now,
        )
        relayed = RelayToVolunteer(
            relay_id=relay_id, organisation_name=name, mission_title=title, text=body
        )
        await enqueue(conn, relayed, person_id=volunteer.person_id, priority=Priority.NORMAL)
        delivered += 1
    await audit.record(
        conn,
        transaction,
        actor_id=actor_id,
        action="relay.sent",
        subject_type="mission" if mission_id is not None else "organisation",
        subject_id=mission_id if mission_id is not None else organisation_id,
        organisation_id=organisation_id,
        delivered=delivered,
        blocked=len(blocked),
    )
    names = tuple(v.first_name for v in people if v.person_id in blocked)
    return Sent(delivered, names)


async def _store(
    conn: AsyncConnection,
    organisation_id: int,
    person_id: int,
    mission_id: int | None,
    direction: str,
    sender_id: int,
    body: str,
    at: datetime,
) -> int:
    result = await conn.execute(
        insert(R)
        .values(
            organisation_id=organisation_id,
            person_id=person_id,
            mission_id=mission_id,
            direction=direction,
            sender_id=sender_id,
            body=body,
            created_at=at,
        )
        .returning(R.c.id)
    )
    return int(result.scalar_one())


async def send_to_volunteers(
    db: Database,
    *,
    actor_id: int,
    organisation_id: int,
    mission_id: int,
    slot_id: int | None = None,
    person_id: int | None = None,
    body: str,
    now: datetime,
    inbound: Inbound | None = None,
) -> Sent:
    """A coordinator's message to one volunteer, a slot's or the whole mission's."""
    text = clean_body(body)
    async with db.transaction("relay_send", inbound) as conn:
        await require_member(conn, actor_id, organisation_id)
        owner = await conn.scalar(select(M.c.organisation_id).where(M.c.id == mission_id))
        if owner != organisation_id:
            raise NotFound("mission_not_found")
        rows = (await conn.execute(_volunteers_query(mission_id, slot_id))).all()
        people = [Volunteer(r.id, r.first_name) for r in rows]
        if person_id is not None:
            people = [v for v in people if v.person_id == person_id]
            if not people:
                raise NotFound("person_not_found")
        return await _relay_to(
            conn,
            actor_id=actor_id,
            organisation_id=organisation_id,
            mission_id=mission_id,
            people=people,
            body=text,
            transaction="relay_send",
            now=now,
        )


async def relay_of_message(conn: AsyncConnection, chat_id: int, message_id: int) -> Any:
    """The relayed message a Telegram message (a group copy or a volunteer's) shows."""
    row = (
        await conn.execute(
            select(R).where(R.c.group_chat_id == chat_id, R.c.group_message_id == message_id)
        )
    ).first()
    if row is not None:
        return row
    relay_id = await conn.scalar(
        select(POSTED.c.subject_id).where(
            POSTED.c.subject_type == SUBJECT,
            POSTED.c.chat_id == chat_id,
            POSTED.c.message_id == message_id,
        )
    )
    if relay_id is None:
        return None
    return (await conn.execute(select(R).where(R.c.id == relay_id))).first()


async def is_relay_message(db: Database, chat_id: int, message_id: int) -> bool:
    async with db.reading("is_relay_message") as conn:
        return await relay_of_message(conn, chat_id, message_id) is not None


async def answer_in_group(
    db: Database,
    *,
    actor_id: int,
    chat_id: int,
    message_id: int,
    body: str,
    now: datetime,
    inbound: Inbound | None = None,
) -> Sent | None:
    """A coordinator answers a volunteer's relayed message; None when it is not one."""
    text = clean_body(body)
    async with db.transaction("relay_answer_volunteer", inbound) as conn:
        row = await relay_of_message(conn, chat_id, message_id)
        if row is None or row.direction != TO_ORGANISATION:
            return None
        await require_member(conn, actor_id, row.organisation_id)
        person = (
            await conn.execute(
                select(P.c.id, P.c.first_name, P.c.erased_at).where(P.c.id == row.person_id)
            )
        ).one()
        people = [] if person.erased_at is not None else [Volunteer(person.id, person.first_name)]
        return await _relay_to(
            conn,
            actor_id=actor_id,
            organisation_id=row.organisation_id,
            mission_id=row.mission_id,
            people=people,
            body=text,
            transaction="relay_answer_volunteer",
            now=now,
        )


async def _latest_to(conn: AsyncConnection, person_id: int, since: datetime) -> Any:
    return (
        await conn.execute(
            select(R)
            .where(
                R.c.person_id == person_id, R.c.direction == TO_VOLUNTEER, R.c.created_at >= since
            )
            .order_by(R.c.created_at.desc(), R.c.id.desc())
            .limit(1)
        )
    ).first()


async def awaiting_answer(db: Database, *, person_id: int, now: datetime) -> bool:
    """Whether an organisation relayed a message to the person in the last 7 days."""
    async with db.reading("relay_awaiting") as conn:
        return await _latest_to(conn, person_id, now - REPLY_WINDOW) is not None


async def answer_organisation(
    db: Database,
    *,
    person_id: int,
    body: str,
    now: datetime,
    relay_id: int | None = None,
    via_sms: bool = False,
    inbound: Inbound | None = None,
) -> Answered | None:
    """A volunteer's answer to a relayed message (`relay_id`, else the latest of the last 7
    days) goes to the organisation's admin group; None when there is nothing to answer."""
    text = clean_body(body)
    async with db.transaction("relay_answer_organisation", inbound) as conn:
        if relay_id is None:
            row = await _latest_to(conn, person_id, now - REPLY_WINDOW)
        else:
            row = (await conn.execute(select(R).where(R.c.id == relay_id))).first()
        if row is None or row.person_id != person_id or row.direction != TO_VOLUNTEER:
            return None
        name = await organisation_name(conn, row.organisation_id)
        first_name = await conn.scalar(select(P.c.first_name).where(P.c.id == person_id))
        title = None
        if row.mission_id is not None:
            title = await conn.scalar(select(M.c.title).where(M.c.id == row.mission_id))
        new_id = await _store(
            conn,
            row.organisation_id,
            person_id,
            row.mission_id,
            TO_ORGANISATION,
            person_id,
            text,
            now,
        )
        answer = RelayToOrganisation(
            relay_id=new_id,
            organisation_name=name,
            mission_title=title,
            volunteer_name=first_name or "",
            volunteer_via_sms=via_sms,
            text=text,
        )
        for who, ident in await recipients(conn, row.organisation_id):
            await enqueue(
                conn,
                answer,
                chat_id=ident if who == "chat" else None,
                person_id=ident if who == "person" else None,
            )
        await audit.record(
            conn,
            "relay_answer_organisation",
            actor_id=person_id,
            action="relay.answered",
            subject_type="relay_message",
            subject_id=new_id,
            organisation_id=row.organisation_id,
        )
        return Answered(row.organisation_id, name)


async def contacts(db: Database, *, person_id: int) -> list[Contact]:
    """Organisations that messaged the person, and whether each is blocked."""
    blocked = select(B.c.id).where(B.c.person_id == person_id, B.c.organisation_id == ORG.c.id)
    query = (
        select(ORG.c.id, ORG.c.name, blocked.exists().label("blocked"))
        .where(
            ORG.c.id.in_(select(R.c.organisation_id).where(R.c.person_id == person_id))
            | ORG.c.id.in_(select(B.c.organisation_id).where(B.c.person_id == person_id))
        )
        .order_by(ORG.c.name)
    )
    async with db.reading("relay_contacts") as conn:
        rows = (await conn.execute(query)).all()
    return [Contact(r.id, r.name, bool(r.blocked)) for r in rows]


async def set_blocked(
    db: Database,
    *,
    person_id: int,
    organisation_id: int,
    blocked: bool,
    inbound: Inbound | None = None,
) -> str:
    """Refuse (or accept again) an organisation's relayed messages; returns its name."""
    async with db.transaction("relay_block", inbound) as conn:
        name = await organisation_name(conn, organisation_id)
        if blocked:
            await conn.execute(
                upsert_ignore(
                    conn,
                    B,
                    {
                        "person_id": person_id,
                        "organisation_id": organisation_id,
                        "created_at": schema.now(),
                    },
                )
            )
        else:
            await conn.execute(
                B.delete().where(B.c.person_id == person_id, B.c.organisation_id == organisation_id)
            )
        await audit.record(
            conn,
            "relay_block",
            actor_id=person_id,
            action="relay.blocked" if blocked else "relay.unblocked",
            subject_type="organisation",
            subject_id=organisation_id,
        )
        return name
