"""Rosters: who is expected on a slot, and after it, who came. A coordinator marks each
volunteer present or absent with one tap; the person's attended and no-show counts follow
every mark, a change of mind included, since coordinators see them when deciding."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Row, select
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.domain import ACTIVE, ApplicationStatus, MissionStatus
from bot.notifications import organisers
from bot.notifications.organisers import FeedbackRequest, SlotRoster
from bot.services import application_store, audit, person_store
from bot.services.applications import set_status
from bot.services.errors import Conflict, NotFound
from bot.services.organisations import require_member
from storage import schema
from storage.database import Database, Inbound

A, S, M, P, ORGS = (
    schema.applications,
    schema.slots,
    schema.missions,
    schema.people,
    schema.organisations,
)
# Who a coordinator expects on the day, and then marks.
ROSTERED = (
    ApplicationStatus.APPROVED,
    ApplicationStatus.CONFIRMED,
    ApplicationStatus.ATTENDED,
    ApplicationStatus.NO_SHOW,
)
MARKS = (ApplicationStatus.ATTENDED, ApplicationStatus.NO_SHOW)
COUNTERS = {
    ApplicationStatus.ATTENDED: "attended_count",
    ApplicationStatus.NO_SHOW: "no_show_count",
}


@dataclass(frozen=True)
class RosterLine:
    application_id: int
    person_id: int
    first_name: str
    status: ApplicationStatus
    conditions: tuple[str, ...] = ()  # the mission's conditions they confirmed


@dataclass(frozen=True)
class Roster:
    slot_id: int
    mission_title: str
    organisation_id: int
    organisation_name: str
    timezone: str
    starts_at: datetime
    ends_at: datetime
    capacity: int
    lines: tuple[RosterLine, ...]

    def notification(self) -> SlotRoster:
        """The roster as its organisers read it (outbox rows and edits alike)."""
        return SlotRoster(
            **self._slot_facts(),
            volunteers=tuple(
                organisers.RosterLine(
                    application_id=line.application_id, name=line.first_name, status=line.status
                )
                for line in self.lines
            ),
        )

    def feedback_request(self, application_id: int) -> FeedbackRequest:
        """The question to one volunteer of the slot; never who else came."""
        return FeedbackRequest(application_id=application_id, **self._slot_facts())

    def _slot_facts(self) -> dict[str, Any]:
        """What both notifications say of the slot."""
        return {
            "slot_id": self.slot_id,
            "mission_title": self.mission_title,
            "organisation_name": self.organisation_name,
            "timezone": self.timezone,
            "starts_at": self.starts_at,
            "ends_at": self.ends_at,
            "capacity": self.capacity,
        }


@dataclass(frozen=True)
class Marked:
    """The slot's roster after a tap; `changed` is False when the mark was already so."""

    roster: Roster
    changed: bool


# A roster's heading: the slot, its mission and organisation.
_SLOT_HEADINGS = (
    select(
        S.c.id,
        S.c.starts_at,
        S.c.ends_at,
        S.c.capacity,
        M.c.title,
        M.c.timezone,
        M.c.organisation_id,
        ORGS.c.name,
    )
    .join(M, M.c.id == S.c.mission_id)
    .join(ORGS, ORGS.c.id == M.c.organisation_id)
)


def _roster(slot: Row[Any], lines: Sequence[RosterLine]) -> Roster:
    """A roster from a row of `_SLOT_HEADINGS` and its lines."""
    return Roster(
        slot_id=slot.id,
        mission_title=slot.title,
        organisation_id=slot.organisation_id,
        organisation_name=slot.name,
        timezone=slot.timezone,
        starts_at=slot.starts_at,
        ends_at=slot.ends_at,
        capacity=slot.capacity,
        lines=tuple(lines),
    )


async def fetch_roster(
    conn: AsyncConnection, slot_id: int, statuses: Sequence[ApplicationStatus] = ROSTERED
) -> Roster:
    slot = (await conn.execute(_SLOT_HEADINGS.where(S.c.id == slot_id))).first()
    if slot is None:
        raise NotFound("slot_not_found")
    rows = (
        await conn.execute(
            select(A.c.id, A.c.person_id, A.c.status, A.c.conditions, P.c.first_name)
            .join(P, P.c.id == A.c.person_id)
            .where(A.c.slot_id == slot_id, A.c.status.in_([*map(str, statuses)]))
            .order_by(P.c.first_name, A.c.id)
        )
    ).all()
    return _roster(
        slot,
        [
            RosterLine(
                r.id,
                r.person_id,
                r.first_name,
                ApplicationStatus(r.status),
                tuple(r.conditions or ()),
            )
            for r in rows
        ],
    )


async def get_roster(db: Database, slot_id: int) -> Roster:
    async with db.reading("get_roster") as conn:
        return await fetch_roster(conn, slot_id)


async def upcoming_rosters(
    db: Database, *, organisation_id: int, now: datetime, days: int = 14, limit: int = 10
) -> list[Roster]:
    """The organisation's next slots with everyone still in play, for /roster."""
    query = (
        select(S.c.id)
        .join(M, M.c.id == S.c.mission_id)
        .where(
            M.c.organisation_id == organisation_id,
            M.c.status == MissionStatus.PUBLISHED,
            S.c.cancelled_at.is_(None),
            S.c.ends_at > now,
            S.c.starts_at <= now + timedelta(days=days),
        )
        .order_by(S.c.starts_at, S.c.id)
        .limit(limit)
    )
    async with db.reading("upcoming_rosters") as conn:
        return [await fetch_roster(conn, int(i), ACTIVE) for i in await conn.scalars(query)]


async def mark_attendance(
    db: Database,
    *,
    actor_id: int,
    application_id: int,
    present: bool,
    now: datetime,
    inbound: Inbound | None = None,
) -> Marked:
    """Mark a rostered volunteer present or absent once the slot has begun; a member of the
    organisation may change the mark, and the person's counts move with it."""
    new = ApplicationStatus.ATTENDED if present else ApplicationStatus.NO_SHOW
    async with db.transaction("mark_attendance", inbound) as conn:
        row = await application_store.lock_application(conn, db, application_id)
        await require_member(conn, actor_id, row.organisation_id)
        old = ApplicationStatus(row.status)
        if old not in ROSTERED:
            raise Conflict("not_active", status=row.status)
        if row.starts_at > now:
            raise Conflict("slot_not_started")
        if old == new:
            return Marked(await fetch_roster(conn, row.slot_id), changed=False)
        steps = {COUNTERS[new]: 1}
        if old in MARKS:
            steps[COUNTERS[old]] = -1
        await person_store.step_counters(conn, row.person_id, steps)
        await set_status(conn, application_id, old, new, actor_id=actor_id)
        await audit.record(
            conn,
            "mark_attendance",
            actor_id=actor_id,
            action=f"application.{new}",
            subject_type="application",
            subject_id=application_id,
            previous=str(old),
        )
        return Marked(await fetch_roster(conn, row.slot_id), changed=True)


def _ended(now: datetime, within: timedelta) -> tuple[Any, ...]:
    """Slots that ended in (now - within, now]."""
    return (
        # A slot that ended has started: both bounds keep the starts index range short.
        S.c.starts_at >= now - within - timedelta(days=7),
        S.c.starts_at < now,
        S.c.ends_at <= now,
        S.c.ends_at > now - within,
    )


async def ended_slot_ids(
    db: Database, *, now: datetime, within: timedelta
) -> list[tuple[int, int]]:
    """(slot, organisation) of every slot that ended in the last `within`, without its
    volunteers: enough to see whose roster is still to send."""
    query = (
        select(S.c.id, M.c.organisation_id)
        .join(M, M.c.id == S.c.mission_id)
        .where(*_ended(now, within))
        .order_by(S.c.ends_at, S.c.id)
    )
    async with db.reading("ended_slot_ids") as conn:
        return [(int(r.id), int(r.organisation_id)) for r in await conn.execute(query)]


async def ended_slots(
    db: Database,
    *,
    now: datetime,
    within: timedelta,
    only: Sequence[int] | None = None,
    slots_where: Sequence[Any] = (),
    lines_where: Sequence[Any] = (),
) -> list[Roster]:
    """Slots that ended in the last `within`, among `only` if given and matching
    `slots_where` (on slots and missions), with their volunteers matching `lines_where`,
    leaving out slots with nobody: two queries for all of them, however many slots ended
    (a tick reads this every time)."""
    ended = _ended(now, within)
    chosen = (*slots_where, *(() if only is None else (S.c.id.in_(list(only)),)))
    slot_query = _SLOT_HEADINGS.where(*ended, *chosen).order_by(S.c.ends_at, S.c.id)
    line_query = (
        select(A.c.id, A.c.slot_id, A.c.person_id, A.c.status, P.c.first_name)
        .join(P, P.c.id == A.c.person_id)
        .join(S, S.c.id == A.c.slot_id)
        .join(M, M.c.id == S.c.mission_id)
        .where(*ended, *chosen, A.c.status.in_([*map(str, ROSTERED)]), *lines_where)
        .order_by(P.c.first_name, A.c.id)
    )
    async with db.reading("ended_slots") as conn:
        lines: dict[int, list[RosterLine]] = {}
        for r in await conn.execute(line_query):
            line = RosterLine(r.id, r.person_id, r.first_name, ApplicationStatus(r.status))
            lines.setdefault(int(r.slot_id), []).append(line)
        slots = (await conn.execute(slot_query)).all() if lines else []
    return [_roster(slot, lines[slot.id]) for slot in slots if slot.id in lines]
