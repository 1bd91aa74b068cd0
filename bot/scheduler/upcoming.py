"""The applications a scheduled job looks at: those whose slot starts within a window,
read slots-first so the slot start index bounds the work whatever the table sizes."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

from sqlalchemy import Row, select
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.domain import ACTIVE, ApplicationStatus, MissionStatus
from storage import schema

A, S, M, ORG, P = (
    schema.applications,
    schema.slots,
    schema.missions,
    schema.organisations,
    schema.people,
)

T = TypeVar("T")


@dataclass(frozen=True)
class Upcoming:
    """One application with what its reminders and questions need, as plain values."""

    id: int
    person_id: int
    person_name: str
    status: ApplicationStatus
    attendance_asked_at: datetime | None
    attendance_flagged_at: datetime | None
    slot_id: int
    starts_at: datetime
    ends_at: datetime
    mission_id: int
    mission_title: str
    address: str
    remote: bool
    latitude: float | None
    longitude: float | None
    timezone: str
    organisation_id: int
    organisation_name: str
    remind_day_before_at: int | None
    remind_hours_before: int | None
    attendance_check: bool

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)


def _upcoming(row: Row[Any]) -> Upcoming:
    return Upcoming(
        id=row.id,
        person_id=row.person_id,
        person_name=row.first_name,
        status=ApplicationStatus(row.status),
        attendance_asked_at=row.attendance_asked_at,
        attendance_flagged_at=row.attendance_flagged_at,
        slot_id=row.slot_id,
        starts_at=row.starts_at,
        ends_at=row.ends_at,
        mission_id=row.mission_id,
        mission_title=row.title,
        address=row.address,
        remote=row.remote,
        latitude=row.latitude,
        longitude=row.longitude,
        timezone=row.timezone,
        organisation_id=row.organisation_id,
        organisation_name=row.organisation_name,
        remind_day_before_at=row.remind_day_before_at,
        remind_hours_before=row.remind_hours_before,
        attendance_check=row.attendance_check,
    )


async def starting_between(
    conn: AsyncConnection,
    after: datetime,
    until: datetime,
    statuses: Sequence[ApplicationStatus],
    *,
    extra: Sequence[Any] = (),
    limit: int | None = None,
) -> list[Upcoming]:
    """Applications in `statuses` whose slot starts in (after, until], soonest first; at
    most `limit` of them, so a backlog is read a bounded batch at a time."""
    query = (
        select(
            A.c.id,
            A.c.person_id,
            A.c.status,
            A.c.attendance_asked_at,
            A.c.attendance_flagged_at,
            S.c.id.label("slot_id"),
            S.c.starts_at,
            S.c.ends_at,
            M.c.id.label("mission_id"),
            M.c.title,
            M.c.address,
            M.c.remote,
            M.c.latitude,
            M.c.longitude,
            M.c.timezone,
            M.c.organisation_id,
            ORG.c.name.label("organisation_name"),
            ORG.c.remind_day_before_at,
            ORG.c.remind_hours_before,
            ORG.c.attendance_check,
            P.c.first_name,
        )
        .select_from(S)
        .join(A, A.c.slot_id == S.c.id)
        .join(M, M.c.id == S.c.mission_id)
        .join(ORG, ORG.c.id == M.c.organisation_id)
        .join(P, P.c.id == A.c.person_id)
        .where(
            S.c.starts_at > after,
            S.c.starts_at <= until,
            A.c.status.in_([str(s) for s in statuses]),
            M.c.status != MissionStatus.CANCELLED,
            *extra,
        )
        .order_by(S.c.starts_at, A.c.id)
        .limit(limit)
    )
    return [_upcoming(row) for row in (await conn.execute(query)).all()]


# A bounded batch is written this many rows per transaction, committed in between: an
# inbound message waits for one of these, not for the whole batch.
WRITE_CHUNK = 100


def chunks(items: Sequence[T], size: int = WRITE_CHUNK) -> list[Sequence[T]]:
    return [items[start : start + size] for start in range(0, len(items), size)]


async def list_numbers(
    conn: AsyncConnection, person_ids: Sequence[int], now: datetime
) -> dict[int, int]:
    """application id -> its number in the person's MY MISSIONS list as it reads now (the
    same order as applications_of), so an SMS can say "CANCEL 2"."""
    numbers: dict[int, int] = {}
    unique = sorted(set(person_ids))
    for start in range(0, len(unique), 500):
        rows = (
            await conn.execute(
                select(A.c.id, A.c.person_id)
                .join(S, S.c.id == A.c.slot_id)
                .where(
                    A.c.person_id.in_(unique[start : start + 500]),
                    A.c.status.in_([str(s) for s in ACTIVE]),
                    S.c.ends_at > now,
                )
                .order_by(A.c.person_id, S.c.starts_at, A.c.id)
            )
        ).all()
        counters: dict[int, int] = {}
        for row in rows:
            counters[row.person_id] = counters.get(row.person_id, 0) + 1
            numbers[row.id] = counters[row.person_id]
    return numbers
