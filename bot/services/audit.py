"""The audit log: who changed what, written in the same transaction as the change."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import insert
from sqlalchemy.ext.asyncio import AsyncConnection

from storage import schema

# Built once: every change writes a line, and building the statement cost more than running it.
_INSERT = insert(schema.audit_log)


async def record(
    conn: AsyncConnection,
    transaction: str,
    *,
    actor_id: int | None,
    action: str,
    subject_type: str,
    subject_id: int | None,
    **details: Any,
) -> None:
    await conn.execute(
        _INSERT,
        {
            "at": schema.now(),
            "transaction": transaction,
            "actor_id": actor_id,
            "action": action,
            "subject_type": subject_type,
            "subject_id": subject_id,
            "details": details,
        },
    )


async def record_many(
    conn: AsyncConnection,
    transaction: str,
    *,
    action: str,
    subject_type: str,
    entries: Sequence[tuple[int, dict[str, Any]]],
) -> None:
    """The same unattended action (actor None) on many subjects: (subject id, details) each,
    in one batched insert."""
    if not entries:
        return
    at = schema.now()
    await conn.execute(
        insert(schema.audit_log),
        [
            {
                "at": at,
                "transaction": transaction,
                "actor_id": None,
                "action": action,
                "subject_type": subject_type,
                "subject_id": subject_id,
                "details": details,
            }
            for subject_id, details in entries
        ],
    )
