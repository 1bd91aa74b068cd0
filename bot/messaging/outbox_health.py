"""How far behind the outbox is, for the metrics: rows waiting and the oldest one's age."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select

from storage import schema
from storage.database import Database

OUTBOX = schema.outbox


@dataclass(frozen=True)
class OutboxHealth:
    pending: int  # waiting to be sent, due or not
    sending: int  # claimed by a dispatcher, outcome not written yet
    oldest_due_seconds: float  # how long the oldest due row has waited (0 when none)


async def outbox_health(db: Database, now: datetime) -> OutboxHealth:
    """One read of the outbox's backlog (the due index serves it)."""
    async with db.reading("outbox_health") as conn:
        rows = (
            await conn.execute(
                select(OUTBOX.c.status, func.count(), func.min(OUTBOX.c.not_before))
                .where(OUTBOX.c.status.in_(("pending", "sending")))
                .group_by(OUTBOX.c.status)
            )
        ).all()
    counts = {row[0]: int(row[1]) for row in rows}
    oldest = next((row[2] for row in rows if row[0] == "pending"), None)
    waited = max(0.0, (now - oldest).total_seconds()) if oldest is not None else 0.0
    return OutboxHealth(counts.get("pending", 0), counts.get("sending", 0), waited)
