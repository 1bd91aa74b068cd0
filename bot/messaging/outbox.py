"""The outbox's store: every write of the outbox table is here.

Services enqueue notifications for other people inside their own transaction (rule of
thumb: reply directly; notify through the outbox). A notification (bot.notifications) is
stored as its kind and its fields as plain values, so rendering never needs the database.
The dispatcher claims rows and records what sending them did; delivery reports, erasure,
callouts and rescheduled reminders change rows already queued. Each caller passes its own
connection, so these statements commit with the rest of its transaction."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import IntEnum
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Select,
    TextualSelect,
    bindparam,
    insert,
    literal,
    select,
    update,
)
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.notifications import Notification
from bot.notifications.relay import RelayToOrganisation, RelayToVolunteer
from storage import schema
from storage.database import insert_ignore, upsert_ignore
from storage.schema import UTCDateTime

OUTBOX = schema.outbox
ERROR_CHARS = 300  # the width of last_error
RELAY_KINDS = (RelayToVolunteer.kind, RelayToOrganisation.kind)


class Priority(IntEnum):
    """Lower goes first: answers to people who just acted before bulk traffic."""

    REPLY = 1
    NORMAL = 5
    BULK = 9


def _row(
    notification: Notification,
    person_id: int | None,
    chat_id: int | None,
    priority: Priority,
    not_before: datetime | None,
    dedupe_key: str | None = None,
) -> dict[str, Any]:
    if (person_id is None) == (chat_id is None):
        raise ValueError("a notification goes to exactly one person or one chat")
    return {
        "kind": notification.kind,
        "person_id": person_id,
        "chat_id": chat_id,
        "payload": notification.to_payload(),
        "priority": int(priority),
        "status": "pending",
        "not_before": not_before or schema.now(),
        "created_at": schema.now(),
        "dedupe_key": dedupe_key,
    }


async def enqueue(
    conn: AsyncConnection,
    notification: Notification,
    *,
    person_id: int | None = None,
    chat_id: int | None = None,
    priority: Priority = Priority.NORMAL,
    not_before: datetime | None = None,
) -> int:
    """Queue one notification; returns its outbox id."""
    values = _row(notification, person_id, chat_id, priority, not_before)
    result = await conn.execute(insert(OUTBOX).values(**values).returning(OUTBOX.c.id))
    return int(result.scalar_one())


async def enqueue_once(
    conn: AsyncConnection,
    dedupe_key: str,
    notification: Notification,
    *,
    person_id: int | None = None,
    chat_id: int | None = None,
    priority: Priority = Priority.NORMAL,
    not_before: datetime | None = None,
) -> int | None:
    """Queue a notification that must exist at most once (a reminder, a digest): None when
    one with the same key was queued before, by this worker or another, before or after a
    restart."""
    values = _row(notification, person_id, chat_id, priority, not_before, dedupe_key)
    statement = upsert_ignore(conn, OUTBOX, values).returning(OUTBOX.c.id)
    found = (await conn.execute(statement)).scalar_one_or_none()
    return None if found is None else int(found)


async def enqueue_many(
    conn: AsyncConnection,
    notifications: dict[int, Notification],
    *,
    priority: Priority = Priority.NORMAL,
    not_before: datetime | None = None,
) -> dict[int, int]:
    """Queue one notification per person (person id -> notification) in a single batched insert;
    returns person id -> outbox id. A callout wave can ask thousands of people at once."""
    if not notifications:
        return {}
    rows = [
        _row(notification, person_id, None, priority, not_before)
        for person_id, notification in notifications.items()
    ]
    statement = insert(OUTBOX).returning(
        OUTBOX.c.id, OUTBOX.c.person_id, sort_by_parameter_order=True
    )
    result = await conn.execute(statement, rows)
    return {int(r.person_id): int(r.id) for r in result}


async def enqueue_each(
    conn: AsyncConnection,
    notifications: Sequence[tuple[int, Notification]],
    *,
    priority: Priority = Priority.NORMAL,
) -> int:
    """Queue each (person id, notification), in order, in one batched insert: unlike
    enqueue_many, one person may get several (one per application). Returns how many."""
    if not notifications:
        return 0
    rows = [
        _row(notification, person_id, None, priority, None)
        for person_id, notification in notifications
    ]
    await conn.execute(insert(OUTBOX), rows)
    return len(rows)


@dataclass(frozen=True)
class Once:
    """One notification of a batch that must exist at most once (see enqueue_once)."""

    dedupe_key: str
    notification: Notification
    person_id: int | None = None
    chat_id: int | None = None


async def enqueue_once_many(
    conn: AsyncConnection,
    notifications: Sequence[Once],
    *,
    priority: Priority = Priority.NORMAL,
    not_before: datetime | None = None,
) -> int:
    """enqueue_once for a whole batch in one statement; keys queued before are skipped.
    Returns how many were queued."""
    if not notifications:
        return 0
    rows = [
        _row(n.notification, n.person_id, n.chat_id, priority, not_before, n.dedupe_key)
        for n in notifications
    ]
    statement = insert_ignore(conn, OUTBOX)
    result = await conn.execute(statement.returning(OUTBOX.c.id), rows)
    return len(result.all())


async def enqueue_selected(
    conn: AsyncConnection,
    kind: str,
    *,
    person_id: ColumnElement[Any],
    payload: ColumnElement[Any],
    dedupe_key: ColumnElement[Any],
    where: Sequence[ColumnElement[bool]],
    priority: Priority,
    not_before: datetime,
) -> None:
    """Queue one notification of `kind` per row that `where` picks, with INSERT ... SELECT:
    the person, payload and key are the database's expressions, nobody is read into Python
    (a callout wave asks thousands at once)."""
    queued_at = schema.now()
    await conn.execute(
        insert(OUTBOX).from_select(
            [
                "kind",
                "person_id",
                "payload",
                "priority",
                "status",
                "not_before",
                "attempts",
                "created_at",
                "dedupe_key",
            ],
            select(
                literal(kind),
                person_id,
                payload,
                literal(int(priority)),
                literal("pending"),
                literal(not_before, UTCDateTime()),
                literal(0),
                literal(queued_at, UTCDateTime()),
                dedupe_key,
            ).where(*where),
        )
    )


# ---- the dispatcher's claims and outcomes ---------------------------------------------------


async def mark_sending(
    conn: AsyncConnection, ids: Sequence[int], *, lease_until: datetime, claimed_by: int | None
) -> None:
    """Claim these rows for one dispatcher; not_before doubles as the claim's lease while a
    row is 'sending'."""
    await conn.execute(
        update(OUTBOX)
        .where(OUTBOX.c.id.in_(list(ids)))
        .values(status="sending", not_before=lease_until, claimed_by=claimed_by)
    )


async def give_back(
    conn: AsyncConnection, ids: Sequence[int], *, now: datetime, claimed_by: int | None
) -> None:
    """Claimed rows not sent go back to the queue, due now; with `claimed_by`, only those
    that claim still holds (another worker may have taken them since)."""
    mine = OUTBOX.c.status == "sending"
    if claimed_by is not None:
        mine = mine & (OUTBOX.c.claimed_by == claimed_by)
    await conn.execute(
        update(OUTBOX)
        .where(OUTBOX.c.id.in_(list(ids)), mine)
        .values(status="pending", not_before=now)
    )


@dataclass(frozen=True)
class SentRow:
    """One row sent: on which channel, under the provider's id."""

    row_id: int
    channel: str
    provider_id: str


async def mark_sent(conn: AsyncConnection, sent: Sequence[SentRow], *, sent_at: datetime) -> None:
    """The common outcome, in one statement for the whole batch."""
    await conn.execute(
        update(OUTBOX)
        .where(OUTBOX.c.id == bindparam("row_id"))
        .values(
            status="sent",
            channel=bindparam("row_channel"),
            provider_id=bindparam("row_provider_id"),
            sent_at=sent_at,
            attempts=OUTBOX.c.attempts + 1,
            last_error=None,
        ),
        [
            {"row_id": s.row_id, "row_channel": s.channel, "row_provider_id": s.provider_id}
            for s in sent
        ],
    )


async def retry_at(
    conn: AsyncConnection, row_id: int, *, attempts: int, error: str, not_before: datetime
) -> None:
    """A failed attempt, to try again at `not_before`."""
    await conn.execute(
        update(OUTBOX)
        .where(OUTBOX.c.id == row_id)
        .values(
            status="pending",
            attempts=attempts,
            last_error=error[:ERROR_CHARS],
            not_before=not_before,
        )
    )


async def due_again(conn: AsyncConnection, row_id: int, *, not_before: datetime) -> None:
    """Back to the queue unsent, no attempt counted (the chat may not receive yet)."""
    await conn.execute(
        update(OUTBOX).where(OUTBOX.c.id == row_id).values(status="pending", not_before=not_before)
    )


async def mark_failed(conn: AsyncConnection, row_id: int, *, attempts: int, error: str) -> None:
    """Given up: never sent again."""
    await conn.execute(
        update(OUTBOX)
        .where(OUTBOX.c.id == row_id)
        .values(status="failed", attempts=attempts, last_error=error[:ERROR_CHARS])
    )


async def requeue_unfinished(
    conn: AsyncConnection,
    *,
    now: datetime,
    expired_only: bool,
    live_claimers: TextualSelect | None = None,
) -> int:
    """Put rows a dead dispatcher was sending back in the queue, due now: every 'sending'
    row, or with `expired_only` those whose lease ran out or (given `live_claimers`, the
    claimers still alive) whose claimer is gone. Returns how many."""
    stuck = OUTBOX.c.status == "sending"
    if expired_only:
        expired = OUTBOX.c.not_before <= now
        if live_claimers is not None:
            expired = expired | (
                OUTBOX.c.claimed_by.is_not(None) & ~OUTBOX.c.claimed_by.in_(live_claimers)
            )
        stuck = stuck & expired
    result = await conn.execute(
        update(OUTBOX).where(stuck).values(status="pending", not_before=now)
    )
    return int(result.rowcount or 0)


async def move_to_chat(conn: AsyncConnection, old_chat_id: int, new_chat_id: int) -> None:
    """A group's unsent notifications follow it under its new id (it became a supergroup)."""
    await conn.execute(
        update(OUTBOX)
        .where(OUTBOX.c.chat_id == old_chat_id, OUTBOX.c.status.in_(("pending", "sending")))
        .values(chat_id=new_chat_id)
    )


# ---- after sending: the provider's reports --------------------------------------------------


async def note_delivery(
    conn: AsyncConnection, row_id: int, status: str, error: str | None = None
) -> None:
    """The provider's delivery status of a sent row (and its error, if it gave one)."""
    values: dict[str, Any] = {"delivery_status": status}
    if error:
        values["last_error"] = error
    await conn.execute(update(OUTBOX).where(OUTBOX.c.id == row_id).values(**values))


async def send_again(
    conn: AsyncConnection, provider_id: str, *, channel: str, now: datetime, max_attempts: int
) -> None:
    """A message the provider refused after taking it goes again now, counted as an attempt,
    unless it has had `max_attempts` already (a refusal that repeats must not loop)."""
    await conn.execute(
        update(OUTBOX)
        .where(
            OUTBOX.c.provider_id == provider_id,
            OUTBOX.c.channel == channel,
            OUTBOX.c.attempts < max_attempts,
        )
        .values(
            status="pending",
            provider_id=None,
            attempts=OUTBOX.c.attempts + 1,
            not_before=now,
        )
    )


# ---- services changing what is queued -------------------------------------------------------


async def cancel_pending(
    conn: AsyncConnection, ids: Select[Any] | Collection[int], *, reason: str
) -> int:
    """Withdraw these rows if still waiting; returns how many."""
    result = await conn.execute(
        update(OUTBOX)
        .where(OUTBOX.c.id.in_(ids), OUTBOX.c.status == "pending")
        .values(status="cancelled", last_error=reason)
    )
    return int(result.rowcount or 0)


async def cancel_pending_for_person(conn: AsyncConnection, person_id: int) -> None:
    """Nothing still waiting goes to this person any more."""
    await conn.execute(
        update(OUTBOX)
        .where(OUTBOX.c.person_id == person_id, OUTBOX.c.status == "pending")
        .values(status="cancelled")
    )


async def release_keys(conn: AsyncConnection, keys: Collection[str]) -> None:
    """Free these once-only keys for new notifications: each row holding one is renamed
    (`key:moved:id`, kept for the record) and withdrawn if still waiting."""
    rows = (
        await conn.execute(
            select(OUTBOX.c.id, OUTBOX.c.dedupe_key, OUTBOX.c.status).where(
                OUTBOX.c.dedupe_key.in_(keys)
            )
        )
    ).all()
    for row in rows:
        values: dict[str, Any] = {"dedupe_key": f"{row.dedupe_key}:moved:{row.id}"}
        if row.status == "pending":
            values["status"] = "cancelled"
        await conn.execute(update(OUTBOX).where(OUTBOX.c.id == row.id).values(**values))


async def blank_relayed_texts(conn: AsyncConnection, relay_ids: Collection[int]) -> int:
    """Blank the text (and name) in the outbox copies of these relayed messages; unsent
    ones are not sent any more. Returns how many were blanked."""
    if not relay_ids:
        return 0
    rows = await conn.execute(
        select(OUTBOX.c.id, OUTBOX.c.payload, OUTBOX.c.status).where(OUTBOX.c.kind.in_(RELAY_KINDS))
    )
    wiped = 0
    for row in rows.all():
        payload = dict(row.payload or {})
        if payload.get("relay_id") in relay_ids and payload.get("text"):
            payload.update(text="", volunteer_name="")
            status = "cancelled" if row.status == "pending" else row.status
            await conn.execute(
                update(OUTBOX).where(OUTBOX.c.id == row.id).values(payload=payload, status=status)
            )
            wiped += 1
    return wiped


async def hand_over_person(conn: AsyncConnection, *, gone: int, keep: int) -> None:
    """Two records of one person merge: the notifications of `gone` become those of `keep`."""
    await conn.execute(update(OUTBOX).where(OUTBOX.c.person_id == gone).values(person_id=keep))
