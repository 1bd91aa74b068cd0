"""Callout waves that are due: the next group asked when the need is still not met after the
wait (or sooner, after too many noes), a held wave sent when quiet hours end. Each callout
runs in its own transaction and claims its wave with `UPDATE ... WHERE waves_sent = k`, so
a second worker or a rerun after a crash sends nothing twice."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select

from bot.runtime import Renfort
from bot.services.callout_waves import C, load, run_wave

DUE_PER_TICK = 50


async def send_due_waves(renfort: Renfort, now: datetime) -> int:
    """Run every callout wave due by `now`; returns how many people were asked."""
    db = renfort.db
    async with db.reading("due_callout_waves") as conn:
        due = (
            await conn.scalars(
                select(C.c.id)
                .where(C.c.status == "active", C.c.next_wave_at <= now)
                .order_by(C.c.next_wave_at, C.c.id)
                .limit(DUE_PER_TICK)
            )
        ).all()
    asked = 0
    for callout_id in due:
        async with db.transaction("callout_wave") as conn:
            row = await load(conn, int(callout_id))
            # Re-read inside the write transaction: another worker may have sent it.
            if row is None or row.status != "active" or row.next_wave_at is None:
                continue
            if row.next_wave_at > now:
                continue
            asked += await run_wave(conn, row, now=now, transaction="callout_wave")
    return asked
