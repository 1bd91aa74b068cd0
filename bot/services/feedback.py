"""The day after a slot, each volunteer on it is asked whether it went well; the answer (a
thumb, or a note by SMS) goes to the audit log, where organisations can read it back."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, String, cast, literal, select

from bot.services import audit
from bot.services.errors import NotFound
from bot.services.rosters import ROSTERED
from storage import schema
from storage.database import Database, Inbound

A, S, LOG, OUTBOX = schema.applications, schema.slots, schema.audit_log, schema.outbox
ACTION = "application.feedback"
NOTE_CHARS = 500
ANSWER_WITHIN = timedelta(days=4)  # after the slot's end; later a text is just a text


KEY_PREFIX = "feedback:application:"


def request_key(application_id: int) -> str:
    """The dedupe key of the question about one application."""
    return f"{KEY_PREFIX}{application_id}"


async def record_feedback(
    db: Database,
    *,
    person_id: int,
    application_id: int,
    good: bool | None,
    note: str | None = None,
    now: datetime,
    inbound: Inbound | None = None,
) -> None:
    """Keep the volunteer's answer about their own application (a later one adds to it)."""
    async with db.transaction("record_feedback", inbound) as conn:
        owner = await conn.scalar(select(A.c.person_id).where(A.c.id == application_id))
        if owner != person_id:
            raise NotFound("application_not_found")
        await audit.record(
            conn,
            "record_feedback",
            actor_id=person_id,
            action=ACTION,
            subject_type="application",
            subject_id=application_id,
            good=good,
            note=(note or "")[:NOTE_CHARS] or None,
            answered_at=now.isoformat(),
        )


async def awaiting_answer(db: Database, *, person_id: int, now: datetime) -> int | None:
    """The application whose "Did it go well?" the person was asked and has not answered,
    so that an SMS reply can be taken as their note; None when there is none."""
    query = (
        select(A.c.id)
        .join(S, S.c.id == A.c.slot_id)
        .join(OUTBOX, OUTBOX.c.dedupe_key == key_of(A.c.id))
        .where(
            A.c.person_id == person_id,
            A.c.status.in_([*map(str, ROSTERED)]),
            S.c.ends_at <= now,
            S.c.ends_at > now - ANSWER_WITHIN,
            ~select(LOG.c.id)
            .where(
                LOG.c.subject_type == "application",
                LOG.c.subject_id == A.c.id,
                LOG.c.action == ACTION,
            )
            .exists(),
        )
        .order_by(S.c.ends_at.desc())
        .limit(1)
    )
    async with db.reading("awaiting_feedback") as conn:
        found = await conn.scalar(query)
    return None if found is None else int(found)


def key_of(application_id: ColumnElement[int]) -> ColumnElement[str]:
    """request_key() in SQL, so the question is found through the outbox's unique index."""
    return literal(KEY_PREFIX, String) + cast(application_id, String)
