"""Keep personal data no longer than needed: the texts of relayed messages and volunteers'
notes about missions that ended more than PURGE_AFTER_MONTHS ago are deleted; the facts
(who applied, who came) stay for statistics. The board's links and sessions go a day after
they expired (kept that long so that an expired link is told apart from a wrong one). One
audit row per run."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, func, select, update

from bot.messaging import outbox
from bot.services import audit
from bot.services.privacy import FEEDBACK_ACTION, wipe_notes
from storage import schema
from storage.database import Database

A, S, M, R, LOG = (
    schema.applications,
    schema.slots,
    schema.missions,
    schema.relay_messages,
    schema.audit_log,
)
ACTION = "privacy.purged"
EVERY = timedelta(days=1)  # the scheduler ticks often; the purge runs once a day
KEYS_KEPT = timedelta(days=1)  # after a board link or session expired


@dataclass(frozen=True)
class Purged:
    relay_messages: int
    notes: int
    board_keys: int = 0  # expired board links and sessions


def months_before(now: datetime, months: int) -> datetime:
    """The same day and time `months` months earlier (the last day of a shorter month)."""
    index = now.year * 12 + now.month - 1 - months
    year, month = divmod(index, 12)
    day = now.day
    while True:
        try:
            return now.replace(year=year, month=month + 1, day=day)
        except ValueError:
            day -= 1


async def due(db: Database, now: datetime) -> bool:
    """Whether a day has passed since the last purge."""
    async with db.reading("purge_due") as conn:
        details = await conn.scalar(
            select(LOG.c.details).where(LOG.c.action == ACTION).order_by(LOG.c.id.desc()).limit(1)
        )
    ran_at = (details or {}).get("ran_at")
    return not isinstance(ran_at, str) or now - datetime.fromisoformat(ran_at) >= EVERY


async def purge(db: Database, *, now: datetime, months: int) -> Purged:
    """Delete the texts of missions that ended more than `months` months before `now`."""
    cutoff = months_before(now, months)
    ended = select(S.c.mission_id).group_by(S.c.mission_id).having(func.max(S.c.ends_at) < cutoff)
    async with db.transaction("purge_personal_data") as conn:
        relay_ids = {
            int(i)
            for i in await conn.scalars(
                select(R.c.id).where(
                    R.c.created_at < cutoff,
                    R.c.body != "",
                    R.c.mission_id.is_(None) | R.c.mission_id.in_(ended),
                )
            )
        }
        if relay_ids:
            await conn.execute(update(R).where(R.c.id.in_(relay_ids)).values(body=""))
            await outbox.blank_relayed_texts(conn, relay_ids)
        old_applications = (
            select(A.c.id).join(S, S.c.id == A.c.slot_id).where(S.c.mission_id.in_(ended))
        )
        notes = await conn.execute(
            select(LOG.c.id, LOG.c.details).where(
                LOG.c.action == FEEDBACK_ACTION,
                LOG.c.at < cutoff,
                LOG.c.subject_id.in_(old_applications),
            )
        )
        wiped = await wipe_notes(conn, notes.all())
        keys = 0
        for table in (schema.board_links, schema.board_sessions):
            gone = await conn.execute(delete(table).where(table.c.expires_at < now - KEYS_KEPT))
            keys += max(gone.rowcount, 0)
        await audit.record(
            conn,
            "purge_personal_data",
            actor_id=None,
            action=ACTION,
            subject_type="system",
            subject_id=None,
            ran_at=now.isoformat(),
            cutoff=cutoff.isoformat(),
            relay_messages=len(relay_ids),
            notes=wiped,
            board_keys=keys,
        )
    return Purged(len(relay_ids), wiped, keys)
