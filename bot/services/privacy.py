"""A person's rights over their data: see everything stored about them (/mydata) and have
it erased (/forget). Erasure keeps applications as anonymous counts for statistics, frees
the places they held through the ordinary cancellation (the waitlist is offered them), and
leaves no way to find the person again: a later message comes from a stranger."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import delete, or_, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.domain import ACTIVE
from bot.messaging import outbox
from bot.messaging.message import Document
from bot.services import audit, document_links, person_store
from bot.services.applications import withdraw
from bot.services.errors import NotFound
from storage import schema
from storage.database import Database, Inbound, forget_conversations

A, S, M, P = schema.applications, schema.slots, schema.missions, schema.people
R, LOG, EVENTS = schema.relay_messages, schema.audit_log, schema.application_events
FEEDBACK_ACTION = "application.feedback"
MY_DATA_FILE = "renfort-my-data.json"


@dataclass(frozen=True)
class Forgotten:
    """What erasing a person did: how many live applications were cancelled."""

    cancelled: int


def _plain(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    return value


def _record(row: Any) -> dict[str, Any]:
    return {key: _plain(value) for key, value in row._mapping.items()}


async def export(db: Database, *, person_id: int, inbound: Inbound | None = None) -> dict[str, Any]:
    """Everything stored about the person, as JSON values (their phone included: the
    document goes to them only)."""
    async with db.transaction("export_personal_data", inbound) as conn:
        person = (await conn.execute(select(P).where(P.c.id == person_id))).first()
        if person is None or person.erased_at is not None:
            raise NotFound("person_not_found")
        document = {
            "person": _record(person),
            "applications": await _applications(conn, person_id),
            "relay_messages": [
                _record(r)
                for r in await conn.execute(
                    select(R).where(R.c.person_id == person_id).order_by(R.c.id)
                )
            ],
            "relay_blocks": [
                _record(r)
                for r in await conn.execute(
                    select(schema.relay_blocks).where(schema.relay_blocks.c.person_id == person_id)
                )
            ],
            "phone_consents": [
                _record(r)
                for r in await conn.execute(
                    select(schema.phone_consents).where(
                        schema.phone_consents.c.person_id == person_id
                    )
                )
            ],
            "audit_log": [
                _record(r)
                for r in await conn.execute(
                    select(LOG).where(await _about(conn, person_id)).order_by(LOG.c.id)
                )
            ],
        }
        await audit.record(
            conn,
            "export_personal_data",
            actor_id=person_id,
            action="privacy.exported",
            subject_type="person",
            subject_id=person_id,
        )
        return document


async def my_data(db: Database, *, person_id: int, inbound: Inbound | None = None) -> Document:
    """The person's data as the file they save, whichever channel gives it to them."""
    data = await export(db, person_id=person_id, inbound=inbound)
    content = json.dumps(data, ensure_ascii=False, indent=2, sort_keys=True).encode()
    return Document(MY_DATA_FILE, "application/json", content)


async def _applications(conn: AsyncConnection, person_id: int) -> list[dict[str, Any]]:
    rows = await conn.execute(
        select(
            A,
            M.c.title.label("mission_title"),
            S.c.starts_at.label("slot_starts_at"),
            S.c.ends_at.label("slot_ends_at"),
        )
        .join(S, S.c.id == A.c.slot_id)
        .join(M, M.c.id == S.c.mission_id)
        .where(A.c.person_id == person_id)
        .order_by(A.c.id)
    )
    result = []
    for row in rows:
        history = await conn.execute(
            select(EVENTS.c.from_status, EVENTS.c.to_status, EVENTS.c.reason, EVENTS.c.at)
            .where(EVENTS.c.application_id == row.id)
            .order_by(EVENTS.c.id)
        )
        result.append(_record(row) | {"history": [_record(h) for h in history]})
    return result


async def _about(conn: AsyncConnection, person_id: int) -> Any:
    """Audit rows the person did, or about them or their applications."""
    mine = select(A.c.id).where(A.c.person_id == person_id)
    return or_(
        LOG.c.actor_id == person_id,
        (LOG.c.subject_type == "person") & (LOG.c.subject_id == person_id),
        (LOG.c.subject_type == "application") & LOG.c.subject_id.in_(mine),
    )


async def forget(
    db: Database, *, person_id: int, now: datetime, inbound: Inbound | None = None
) -> Forgotten:
    """Erase the person: live applications cancelled, personal fields wiped, the bodies
    of their relayed messages and notes deleted; counts stay for statistics."""
    async with db.transaction("forget_person", inbound) as conn:
        await conn.execute(db.lock_for_update(select(P.c.id).where(P.c.id == person_id)))
        person = (await conn.execute(select(P).where(P.c.id == person_id))).first()
        if person is None or person.erased_at is not None:
            raise NotFound("person_not_found")
        live = await conn.scalars(
            select(A.c.id)
            .join(S, S.c.id == A.c.slot_id)
            .where(A.c.person_id == person_id, A.c.status.in_([*map(str, ACTIVE)]))
            .where(S.c.ends_at > now)
            .order_by(A.c.id)
        )
        cancelled = 0
        for application_id in list(live):
            await withdraw(
                conn,
                db,
                person_id=person_id,
                application_id=int(application_id),
                now=now,
                transaction="forget_person",
            )
            cancelled += 1
        await _wipe_traces(conn, person_id)
        await _wipe_person(conn, person, now)
        await audit.record(
            conn,
            "forget_person",
            actor_id=person_id,
            action="privacy.forgotten",
            subject_type="person",
            subject_id=person_id,
            cancelled=cancelled,
        )
        return Forgotten(cancelled)


async def _wipe_person(conn: AsyncConnection, person: Any, now: datetime) -> None:
    await person_store.change(
        conn,
        person.id,
        dict(
            first_name="",
            locale=None,
            telegram_language=None,
            telegram_user_id=None,
            telegram_chat_id=None,
            telegram_unreachable_at=None,
            phone=None,
            phone_shared=False,
            sms_stopped_at=None,
            postcode=None,
            town=None,
            latitude=None,
            longitude=None,
            search_radius_km=None,
            interests=[],
            availability={},
            timezone=None,
            erased_at=now,
            updated_at=schema.now(),
        ),
    )
    keys = [str(k) for k in (person.phone, person.telegram_chat_id) if k is not None]
    await forget_conversations(conn, keys, person.telegram_user_id)


async def _wipe_traces(conn: AsyncConnection, person_id: int) -> None:
    """Relay bodies, notes, unsent notifications and memberships of the person."""
    relay_ids = {
        int(i) for i in await conn.scalars(select(R.c.id).where(R.c.person_id == person_id))
    }
    await conn.execute(update(R).where(R.c.person_id == person_id).values(body=""))
    await outbox.blank_relayed_texts(conn, relay_ids)
    await outbox.cancel_pending_for_person(conn, person_id)
    notes = await conn.execute(
        select(LOG.c.id, LOG.c.details).where(
            LOG.c.action == FEEDBACK_ACTION, LOG.c.actor_id == person_id
        )
    )
    await wipe_notes(conn, notes.all())
    await document_links.forget_person(conn, person_id)
    for table in (schema.members, schema.referents, schema.relay_blocks, schema.phone_consents):
        await conn.execute(delete(table).where(table.c.person_id == person_id))


async def wipe_notes(conn: AsyncConnection, rows: Sequence[Any]) -> int:
    """Remove the free-text note from these feedback audit rows."""
    wiped = 0
    for row in rows:
        details = dict(row.details or {})
        if details.get("note"):
            details["note"] = None
            await conn.execute(update(LOG).where(LOG.c.id == row.id).values(details=details))
            wiped += 1
    return wiped
