"""Enqueue notifications for other people inside the service's own transaction.

Rule of thumb: reply directly; notify through the outbox. The payload is a snapshot of
plain values so rendering never needs the database."""

from __future__ import annotations

from datetime import datetime
from enum import IntEnum
from typing import Any

from sqlalchemy import insert
from sqlalchemy.ext.asyncio import AsyncConnection

from storage import schema


class Priority(IntEnum):
    """Lower goes first: answers to people who just acted before bulk traffic."""

    REPLY = 1
    NORMAL = 5
    BULK = 9


async def enqueue(
    conn: AsyncConnection,
    kind: str,
    *,
    person_id: int | None = None,
    chat_id: int | None = None,
    payload: dict[str, Any],
    priority: Priority = Priority.NORMAL,
    not_before: datetime | None = None,
) -> int:
    if (person_id is None) == (chat_id is None):
        raise ValueError("a notification goes to exactly one person or one chat")
    result = await conn.execute(
        insert(schema.outbox)
        .values(
            kind=kind,
            person_id=person_id,
            chat_id=chat_id,
            payload=payload,
            priority=int(priority),
            status="pending",
            not_before=not_before or schema.now(),
            created_at=schema.now(),
        )
        .returning(schema.outbox.c.id)
    )
    return int(result.scalar_one())
