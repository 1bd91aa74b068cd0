"""Enqueue notifications for other people inside the service's own transaction.

Rule of thumb: reply directly; notify through the outbox. A notification (bot.notifications)
is stored as its kind and its fields as plain values, so rendering never needs the database."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import IntEnum
from typing import Any

from sqlalchemy import insert
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.notifications import Notification
from storage import schema
from storage.database import insert_ignore, upsert_ignore


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
    result = await conn.execute(
        insert(schema.outbox).values(**values).returning(schema.outbox.c.id)
    )
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
    statement = upsert_ignore(conn, schema.outbox, values).returning(schema.outbox.c.id)
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
    table = schema.outbox
    statement = insert(table).returning(table.c.id, table.c.person_id, sort_by_parameter_order=True)
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
    await conn.execute(insert(schema.outbox), rows)
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
    statement = insert_ignore(conn, schema.outbox)
    result = await conn.execute(statement.returning(schema.outbox.c.id), rows)
    return len(result.all())
