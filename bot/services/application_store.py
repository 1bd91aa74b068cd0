"""The applications table: reading an application with its slot and mission facts, locking
it, and changing its status with its history and the slot's kept places, in the caller's
transaction. Applying, deciding and letting go (applications.py) and offers (offers.py) are
written on top of it, so neither imports the other's insides.

It owns the table's writes, all of them: no other module inserts, updates or deletes an
application (tests/test_stores.py checks it)."""

from __future__ import annotations

import functools
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Row, bindparam, func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.domain import ACTIVE, ApplicationStatus
from bot.services import places
from bot.services.errors import NotFound
from storage import schema
from storage.database import Database

A, S, M, P = schema.applications, schema.slots, schema.missions, schema.people


@dataclass(frozen=True)
class ApplicationView:
    id: int
    status: ApplicationStatus
    reason: str | None
    person_id: int
    slot_id: int
    mission_id: int
    mission_title: str
    organisation_id: int
    organisation_name: str
    address: str
    remote: bool
    timezone: str
    starts_at: datetime
    ends_at: datetime
    created_at: datetime
    decided_at: datetime | None
    decided_by_name: str | None
    waitlist_position: int | None
    offer_expires_at: datetime | None = None  # a freed place is offered until then
    latitude: float | None = None
    longitude: float | None = None


@dataclass(frozen=True)
class Decision:
    """The application after the decision; `changed` is False for a second tap."""

    application: ApplicationView
    changed: bool


@functools.cache
def _view_query() -> Any:
    """Built once: building this join cost more than running it."""
    o = schema.organisations
    decider = P.alias("decider")
    return (
        select(
            A.c.id,
            A.c.status,
            A.c.reason,
            A.c.person_id,
            A.c.slot_id,
            A.c.created_at,
            A.c.decided_at,
            A.c.offer_expires_at,
            decider.c.first_name.label("decided_by_name"),
            S.c.mission_id,
            S.c.starts_at,
            S.c.ends_at,
            M.c.title.label("mission_title"),
            M.c.organisation_id,
            M.c.address,
            M.c.remote,
            M.c.latitude,
            M.c.longitude,
            M.c.timezone,
            o.c.name.label("organisation_name"),
        )
        .join(S, S.c.id == A.c.slot_id)
        .join(M, M.c.id == S.c.mission_id)
        .join(o, o.c.id == M.c.organisation_id)
        .outerjoin(decider, decider.c.id == A.c.decided_by)
    )


async def _waitlist_position(conn: AsyncConnection, row: Row[Any]) -> int | None:
    if row.status != ApplicationStatus.WAITLISTED:
        return None
    ahead = await conn.scalar(
        select(func.count()).where(
            A.c.slot_id == row.slot_id,
            A.c.status == ApplicationStatus.WAITLISTED,
            (A.c.created_at < row.created_at)
            | ((A.c.created_at == row.created_at) & (A.c.id < row.id)),
        )
    )
    return int(ahead or 0) + 1


async def _view(conn: AsyncConnection, row: Row[Any]) -> ApplicationView:
    return ApplicationView(
        id=row.id,
        status=ApplicationStatus(row.status),
        reason=row.reason,
        person_id=row.person_id,
        slot_id=row.slot_id,
        mission_id=row.mission_id,
        mission_title=row.mission_title,
        organisation_id=row.organisation_id,
        organisation_name=row.organisation_name,
        address=row.address,
        remote=row.remote,
        timezone=row.timezone,
        starts_at=row.starts_at,
        ends_at=row.ends_at,
        created_at=row.created_at,
        decided_at=row.decided_at,
        decided_by_name=row.decided_by_name,
        waitlist_position=await _waitlist_position(conn, row),
        offer_expires_at=row.offer_expires_at,
        latitude=row.latitude,
        longitude=row.longitude,
    )


_ONE_VIEW = _view_query().where(A.c.id == bindparam("id"))
_VIEWS_BY_ID = _view_query().where(A.c.id.in_(bindparam("ids", expanding=True))).order_by(A.c.id)
_PERSONS_VIEWS = (
    _view_query()
    .where(A.c.person_id == bindparam("person_id"), A.c.status.in_([*map(str, ACTIVE)]))
    .order_by(S.c.starts_at, A.c.id)
)
_PERSONS_COMING_VIEWS = (
    _view_query()
    .where(
        A.c.person_id == bindparam("person_id"),
        A.c.status.in_([*map(str, ACTIVE)]),
        S.c.ends_at > bindparam("now"),
    )
    .order_by(S.c.starts_at, A.c.id)
)


async def fetch_application(conn: AsyncConnection, application_id: int) -> ApplicationView:
    row = (await conn.execute(_ONE_VIEW, {"id": application_id})).first()
    if row is None:
        raise NotFound("application_not_found")
    return await _view(conn, row)


async def fetch_applications(
    conn: AsyncConnection, application_ids: list[int]
) -> list[ApplicationView]:
    """Several applications in one query, by id (a scheduled job's batch)."""
    if not application_ids:
        return []
    rows = (await conn.execute(_VIEWS_BY_ID, {"ids": application_ids})).all()
    return [await _view(conn, row) for row in rows]


async def get_application(db: Database, application_id: int) -> ApplicationView:
    async with db.reading("get_application") as conn:
        return await fetch_application(conn, application_id)


async def applications_of(
    db: Database, person_id: int, *, now: datetime, include_past: bool = False
) -> list[ApplicationView]:
    """The person's live applications, soonest first."""
    values: dict[str, Any]
    if include_past:
        query, values = _PERSONS_VIEWS, {"person_id": person_id}
    else:
        query, values = _PERSONS_COMING_VIEWS, {"person_id": person_id, "now": now}
    async with db.reading("applications_of") as conn:
        rows = (await conn.execute(query, values)).all()
        return [await _view(conn, r) for r in rows]


# Every change of an application runs these: built once, as building cost more than running.
_HISTORY = insert(schema.application_events)
_INSERT = insert(A).returning(A.c.id)
_BEFORE = select(A.c.slot_id, A.c.status, A.c.offer_expires_at).where(A.c.id == bindparam("id"))


async def set_status(
    conn: AsyncConnection,
    application_id: int,
    old: str | None,
    new: ApplicationStatus,
    *,
    actor_id: int | None,
    reason: str | None = None,
    decided: bool = False,
    end_offer: bool = False,
) -> None:
    """Change the application's status (`end_offer`: an offer of a freed place it had
    ends with the change), with its history line and its slot's kept places."""
    before = (await conn.execute(_BEFORE, {"id": application_id})).one()
    values: dict[str, Any] = {"status": new, "updated_at": schema.now()}
    if reason is not None:
        values["reason"] = reason
    if decided:
        values.update(decided_by=actor_id, decided_at=schema.now())
    if end_offer:
        values["offer_expires_at"] = None
    await conn.execute(update(A).where(A.c.id == application_id).values(**values))
    await _history(conn, application_id, old, new, actor_id=actor_id, reason=reason)
    offered = before.offer_expires_at is not None
    await places.shift(
        conn,
        before.slot_id,
        places.share(before.status, offered),
        places.share(new, offered and not end_offer),
    )


async def record_event(
    conn: AsyncConnection,
    application_id: int,
    old: str | None,
    new: ApplicationStatus,
    *,
    actor_id: int | None,
    slot_id: int,
    reason: str | None = None,
    offer: tuple[bool, bool] = (False, False),
) -> None:
    """One line of the history of an application just inserted (`old` None) or whose offer
    of a freed place was just made or withdrawn (`offer`: open before, open after), and its
    slot's kept places moved to match; `set_status` does both for a change of status."""
    await _history(conn, application_id, old, new, actor_id=actor_id, reason=reason)
    await places.shift(conn, slot_id, places.share(old, offer[0]), places.share(new, offer[1]))


async def _history(
    conn: AsyncConnection,
    application_id: int,
    old: str | None,
    new: ApplicationStatus,
    *,
    actor_id: int | None,
    reason: str | None,
) -> None:
    await conn.execute(
        _HISTORY,
        {
            "application_id": application_id,
            "from_status": old,
            "to_status": new,
            "actor_id": actor_id,
            "reason": reason,
            "at": schema.now(),
        },
    )


async def lock_application(conn: AsyncConnection, db: Database, application_id: int) -> Row[Any]:
    """The application with its slot and mission facts, locked until commit (PostgreSQL;
    SQLite's write transaction already excludes others)."""
    row = (
        await conn.execute(
            db.lock_for_update(
                select(
                    A.c.id,
                    A.c.status,
                    A.c.person_id,
                    A.c.slot_id,
                    A.c.offer_expires_at,
                    S.c.capacity,
                    S.c.starts_at,
                    S.c.ends_at,
                    M.c.status.label("mission_status"),
                    M.c.organisation_id,
                )
                .join(S, S.c.id == A.c.slot_id)
                .join(M, M.c.id == S.c.mission_id)
                .where(A.c.id == application_id)
            )
        )
    ).first()
    if row is None:
        raise NotFound("application_not_found")
    return row


async def insert_application(conn: AsyncConnection, values: Mapping[str, Any]) -> int:
    """A new application with `values`; returns its id. Its history line and its slot's
    kept places are the caller's, with record_event."""
    return int((await conn.execute(_INSERT, dict(values))).scalar_one())


async def change(conn: AsyncConnection, application_id: int, values: Mapping[str, Any]) -> None:
    """Set the application's columns in `values`, leaving its status and its slot's kept
    places alone (set_status and record_event change those)."""
    await conn.execute(update(A).where(A.c.id == application_id).values(**values))


async def set_offer(
    conn: AsyncConnection, application_id: int, *, slot_id: int, expires_at: datetime | None
) -> None:
    """Offer a waitlisted application a freed place until `expires_at`, or take the offer
    back (None); either way the person keeps their turn on the waiting list, and the history
    line and the slot's kept places follow."""
    await change(conn, application_id, {"offer_expires_at": expires_at})
    offered = expires_at is not None
    await record_event(
        conn,
        application_id,
        ApplicationStatus.WAITLISTED,
        ApplicationStatus.WAITLISTED,
        actor_id=None,
        slot_id=slot_id,
        reason="offer_made" if offered else "offer_withdrawn",
        offer=(not offered, offered),
    )


async def forget_attendance_steps(conn: AsyncConnection, application_ids: list[int]) -> None:
    """The applications' attendance question is to be asked again (their slot moved)."""
    await conn.execute(
        update(A)
        .where(A.c.id.in_(application_ids))
        .values(attendance_asked_at=None, attendance_flagged_at=None)
    )


async def claim_step(
    conn: AsyncConnection, application_ids: list[int], column: str, now: datetime
) -> list[int]:
    """Set the step's timestamp where still due; the ids another run got first are left out."""
    result = await conn.execute(
        update(A)
        .where(
            A.c.id.in_(application_ids),
            A.c.status == ApplicationStatus.PENDING,
            A.c[column].is_(None),
        )
        .values({column: now})
        .returning(A.c.id)
    )
    return sorted(int(i) for i in result.scalars())


async def hand_over_person(conn: AsyncConnection, *, gone: int, keep: int) -> None:
    """The applications of person `gone`, and those they decided, now say `keep` (two
    records of one person merge)."""
    await conn.execute(update(A).where(A.c.person_id == gone).values(person_id=keep))
    await conn.execute(update(A).where(A.c.decided_by == gone).values(decided_by=keep))
