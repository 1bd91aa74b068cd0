"""An organisation's reminder and attendance settings, which its coordinators adjust."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.services import audit
from bot.services.errors import InvalidInput, NotFound
from bot.services.organisations import require_member
from storage import schema
from storage.database import Database, Inbound

ORG = schema.organisations
UNCHANGED: Any = object()
# The scheduler looks this far ahead for the short reminder (see reminders.HORIZON).
MAX_HOURS_BEFORE = 24


@dataclass(frozen=True)
class ReminderSettings:
    organisation_id: int
    organisation_name: str
    remind_day_before_at: int | None  # local hour the day before; None: off
    remind_hours_before: int | None  # None: off
    attendance_check: bool


async def _fetch(conn: AsyncConnection, organisation_id: int) -> ReminderSettings:
    row = (
        await conn.execute(
            select(
                ORG.c.id,
                ORG.c.name,
                ORG.c.remind_day_before_at,
                ORG.c.remind_hours_before,
                ORG.c.attendance_check,
            ).where(ORG.c.id == organisation_id)
        )
    ).first()
    if row is None:
        raise NotFound("organisation_not_found")
    return ReminderSettings(
        row.id, row.name, row.remind_day_before_at, row.remind_hours_before, row.attendance_check
    )


async def reminder_settings(
    db: Database, *, actor_id: int, organisation_id: int
) -> ReminderSettings:
    """The settings as a member sees them."""
    async with db.reading("reminder_settings") as conn:
        await require_member(conn, actor_id, organisation_id)
        return await _fetch(conn, organisation_id)


def _validated(day_before: Any, hours_before: Any, attendance: Any) -> dict[str, Any]:
    changes: dict[str, Any] = {}
    if day_before is not UNCHANGED:
        if day_before is not None and not (isinstance(day_before, int) and 0 <= day_before <= 23):
            raise InvalidInput("remind_day_before_at")
        changes["remind_day_before_at"] = day_before
    if hours_before is not UNCHANGED:
        if hours_before is not None and not (
            isinstance(hours_before, int) and 1 <= hours_before <= MAX_HOURS_BEFORE
        ):
            raise InvalidInput("remind_hours_before")
        changes["remind_hours_before"] = hours_before
    if attendance is not UNCHANGED:
        if not isinstance(attendance, bool):
            raise InvalidInput("attendance_check")
        changes["attendance_check"] = attendance
    return changes


async def update_reminder_settings(
    db: Database,
    *,
    actor_id: int,
    organisation_id: int,
    remind_day_before_at: int | None = UNCHANGED,
    remind_hours_before: int | None = UNCHANGED,
    attendance_check: bool = UNCHANGED,
    inbound: Inbound | None = None,
) -> ReminderSettings:
    """Change any of the three settings (None switches a reminder off); members only."""
    changes = _validated(remind_day_before_at, remind_hours_before, attendance_check)
    async with db.transaction("update_reminder_settings", inbound) as conn:
        await require_member(conn, actor_id, organisation_id)
        before = await _fetch(conn, organisation_id)
        changed = {k: v for k, v in changes.items() if getattr(before, k) != v}
        if not changed:
            return before
        await conn.execute(update(ORG).where(ORG.c.id == organisation_id).values(**changed))
        await audit.record(
            conn,
            "update_reminder_settings",
            actor_id=actor_id,
            action="organisation.reminder_settings",
            subject_type="organisation",
            subject_id=organisation_id,
            **{k: {"from": getattr(before, k), "to": v} for k, v in changed.items()},
        )
        return await _fetch(conn, organisation_id)
