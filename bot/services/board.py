"""The board: every slot of a coordinator's organisations (a referent's: of their territory)
at a glance, day by day, with who is on each and where they stand, and the missions on a map
coloured by how full their next slot is. Read in three queries however many slots there are;
the actions on it are those of the chat (applications.decide, callouts.launch,
rosters.mark_attendance), called by the web handlers."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.domain import ACTIVE, HOLDING, ApplicationStatus, MissionStatus
from bot.services.board_links import BoardSession
from bot.services.review import covers
from bot.services.rosters import MARKS
from storage import schema
from storage.database import Database

A, S, M, P, ORGS = (
    schema.applications,
    schema.slots,
    schema.missions,
    schema.people,
    schema.organisations,
)
C, CR = schema.callouts, schema.callout_recipients
MEMBERS, REFERENTS = schema.members, schema.referents
SHOWN = (*ACTIVE, *MARKS)
# Ended slots stay on the board for two days: attendance is marked after the slot.
KEPT_AFTER = timedelta(days=2)
AHEAD = timedelta(days=31)
MAX_SLOTS = 400


@dataclass(frozen=True)
class Scope:
    """The organisations a session sees, and among them those whose coordinator it is (the
    only ones it may act on: a referent looks, the organisation decides)."""

    person_id: int
    visible: frozenset[int]
    coordinated: frozenset[int]


@dataclass(frozen=True)
class BoardPerson:
    application_id: int
    first_name: str
    status: ApplicationStatus


@dataclass(frozen=True)
class BoardSlot:
    slot_id: int
    mission_id: int
    mission_title: str
    domain: str
    organisation_id: int
    organisation_name: str
    timezone: str
    starts_at: datetime
    ends_at: datetime
    capacity: int
    people: tuple[BoardPerson, ...]
    callout_needed: int | None  # an active callout's need, if one runs
    callout_yes: int

    @property
    def day(self) -> date:
        return self.starts_at.astimezone(ZoneInfo(self.timezone)).date()

    def count(self, *statuses: ApplicationStatus) -> int:
        return sum(1 for person in self.people if person.status in statuses)

    @property
    def holding(self) -> int:
        return self.count(*HOLDING)

    @property
    def approved(self) -> int:
        return self.count(
            ApplicationStatus.APPROVED,
            ApplicationStatus.CONFIRMED,
            ApplicationStatus.ATTENDED,
            ApplicationStatus.NO_SHOW,
        )

    @property
    def confirmed(self) -> int:
        return self.count(ApplicationStatus.CONFIRMED, ApplicationStatus.ATTENDED)

    @property
    def pending(self) -> int:
        return self.count(ApplicationStatus.PENDING)

    @property
    def waitlist(self) -> int:
        return self.count(ApplicationStatus.WAITLISTED)

    @property
    def missing(self) -> int:
        """Places nobody holds yet (pending applications hold theirs, as in the chat)."""
        return max(0, self.capacity - self.holding)


@dataclass(frozen=True)
class BoardMission:
    mission_id: int
    title: str
    organisation_name: str
    latitude: float
    longitude: float
    next_slot_id: int
    fill: float  # held places of its next slot over its capacity, 0 to 1


@dataclass(frozen=True)
class Board:
    scope: Scope
    organisations: tuple[tuple[int, str], ...]
    slots: tuple[BoardSlot, ...]  # by start, filtered
    missions: tuple[BoardMission, ...]  # placed on the map
    days: tuple[date, ...]  # every day with a slot, before filtering
    domains: tuple[str, ...]


async def scope_of(conn: AsyncConnection, session: BoardSession) -> Scope:
    """Read again on every request: a coordinator who left an organisation stops seeing it
    at once, whatever their session says."""
    coordinated = frozenset(
        int(i)
        for i in await conn.scalars(
            select(MEMBERS.c.organisation_id).where(MEMBERS.c.person_id == session.person_id)
        )
    )
    if session.organisation_id is not None:
        mine = frozenset({session.organisation_id}) & coordinated
        return Scope(session.person_id, mine, mine)
    territories = [
        str(t)
        for t in await conn.scalars(
            select(REFERENTS.c.territory).where(REFERENTS.c.person_id == session.person_id)
        )
    ]
    covered: set[int] = set()
    if territories:
        rows = await conn.execute(
            select(ORGS.c.id, ORGS.c.postcode, M.c.postcode.label("mission_postcode"))
            .select_from(ORGS.outerjoin(M, M.c.organisation_id == ORGS.c.id))
            .distinct()
        )
        for row in rows:
            if any(covers(t, row.postcode) or covers(t, row.mission_postcode) for t in territories):
                covered.add(int(row.id))
    return Scope(session.person_id, coordinated | covered, coordinated)


async def session_scope(db: Database, session: BoardSession) -> Scope:
    async with db.reading("board_scope") as conn:
        return await scope_of(conn, session)


async def organisation_of_slot(db: Database, slot_id: int) -> int | None:
    async with db.reading("board_slot_organisation") as conn:
        value = await conn.scalar(
            select(M.c.organisation_id).join(S, S.c.mission_id == M.c.id).where(S.c.id == slot_id)
        )
    return None if value is None else int(value)


async def organisation_of_application(db: Database, application_id: int) -> int | None:
    async with db.reading("board_application_organisation") as conn:
        value = await conn.scalar(
            select(M.c.organisation_id)
            .join(S, S.c.mission_id == M.c.id)
            .join(A, A.c.slot_id == S.c.id)
            .where(A.c.id == application_id)
        )
    return None if value is None else int(value)


async def organisation_of_mission(db: Database, mission_id: int) -> int | None:
    async with db.reading("board_mission_organisation") as conn:
        value = await conn.scalar(select(M.c.organisation_id).where(M.c.id == mission_id))
    return None if value is None else int(value)


async def _slots(
    conn: AsyncConnection, organisation_ids: Sequence[int], now: datetime | None, only: int | None
) -> list[BoardSlot]:
    where: list[ColumnElement[bool]] = [
        M.c.organisation_id.in_(list(organisation_ids)),
        S.c.cancelled_at.is_(None),
    ]
    if only is not None:
        where.append(S.c.id == only)
    elif now is not None:
        where += [
            M.c.status.in_([MissionStatus.PUBLISHED, MissionStatus.CLOSED]),
            S.c.ends_at > now - KEPT_AFTER,
            S.c.starts_at < now + AHEAD,
        ]
    heads = (
        await conn.execute(
            select(
                S.c.id,
                S.c.mission_id,
                S.c.starts_at,
                S.c.ends_at,
                S.c.capacity,
                M.c.title,
                M.c.domain,
                M.c.timezone,
                M.c.organisation_id,
                ORGS.c.name,
            )
            .join(M, M.c.id == S.c.mission_id)
            .join(ORGS, ORGS.c.id == M.c.organisation_id)
            .where(*where)
            .order_by(S.c.starts_at, M.c.title, S.c.id)
            .limit(MAX_SLOTS)
        )
    ).all()
    ids = [int(h.id) for h in heads]
    people: dict[int, list[BoardPerson]] = {}
    callouts: dict[int, tuple[int, int]] = {}
    if ids:
        lines = await conn.execute(
            select(A.c.id, A.c.slot_id, A.c.status, P.c.first_name)
            .join(P, P.c.id == A.c.person_id)
            .where(A.c.slot_id.in_(ids), A.c.status.in_([*map(str, SHOWN)]))
            .order_by(P.c.first_name, A.c.id)
        )
        for line in lines:
            people.setdefault(int(line.slot_id), []).append(
                BoardPerson(int(line.id), line.first_name or "?", ApplicationStatus(line.status))
            )
        yes = (
            select(func.count())
            .select_from(CR)
            .where(CR.c.callout_id == C.c.id, CR.c.answer == "yes")
            .scalar_subquery()
        )
        for row in await conn.execute(
            select(C.c.slot_id, C.c.needed, yes.label("yes")).where(
                C.c.slot_id.in_(ids), C.c.status == "active"
            )
        ):
            callouts[int(row.slot_id)] = (int(row.needed), int(row.yes or 0))
    return [
        BoardSlot(
            slot_id=int(h.id),
            mission_id=int(h.mission_id),
            mission_title=h.title,
            domain=h.domain,
            organisation_id=int(h.organisation_id),
            organisation_name=h.name,
            timezone=h.timezone,
            starts_at=h.starts_at,
            ends_at=h.ends_at,
            capacity=int(h.capacity),
            people=tuple(people.get(int(h.id), ())),
            callout_needed=callouts[int(h.id)][0] if int(h.id) in callouts else None,
            callout_yes=callouts[int(h.id)][1] if int(h.id) in callouts else 0,
        )
        for h in heads
    ]


async def _placed(
    conn: AsyncConnection, slots: Sequence[BoardSlot], now: datetime
) -> list[BoardMission]:
    """Missions with a place and a slot still to come, by their next slot."""
    nexts: dict[int, BoardSlot] = {}
    for slot in slots:
        if slot.ends_at > now and slot.mission_id not in nexts:
            nexts[slot.mission_id] = slot
    if not nexts:
        return []
    rows = await conn.execute(
        select(M.c.id, M.c.latitude, M.c.longitude).where(
            M.c.id.in_(list(nexts)), M.c.latitude.is_not(None), M.c.longitude.is_not(None)
        )
    )
    placed = []
    for row in rows:
        slot = nexts[int(row.id)]
        fill = 1.0 if slot.capacity == 0 else min(1.0, slot.holding / slot.capacity)
        placed.append(
            BoardMission(
                mission_id=int(row.id),
                title=slot.mission_title,
                organisation_name=slot.organisation_name,
                latitude=float(row.latitude),
                longitude=float(row.longitude),
                next_slot_id=slot.slot_id,
                fill=fill,
            )
        )
    return sorted(placed, key=lambda m: (m.title, m.mission_id))


async def board(
    db: Database,
    session: BoardSession,
    *,
    now: datetime,
    day: date | None = None,
    domain: str | None = None,
    short_only: bool = False,
    organisation_id: int | None = None,
) -> Board:
    """The board as the session may see it, filtered by day, domain, organisation and
    slots still short of people."""
    async with db.reading("board") as conn:
        scope = await scope_of(conn, session)
        chosen = sorted(scope.visible)
        if organisation_id is not None:
            chosen = [o for o in chosen if o == organisation_id]
        names = (
            (
                await conn.execute(
                    select(ORGS.c.id, ORGS.c.name)
                    .where(ORGS.c.id.in_(sorted(scope.visible)))
                    .order_by(ORGS.c.name)
                )
            ).all()
            if scope.visible
            else []
        )
        slots = await _slots(conn, chosen, now, None) if chosen else []
        missions = await _placed(conn, slots, now)
    days = tuple(sorted({s.day for s in slots}))
    domains = tuple(sorted({s.domain for s in slots}))
    shown = [
        s
        for s in slots
        if (day is None or s.day == day)
        and (domain is None or s.domain == domain)
        and (not short_only or (s.missing > 0 and s.ends_at > now))
    ]
    return Board(
        scope=scope,
        organisations=tuple((int(r.id), str(r.name)) for r in names),
        slots=tuple(shown),
        missions=tuple(missions),
        days=days,
        domains=domains,
    )


async def board_slot(db: Database, session: BoardSession, slot_id: int) -> BoardSlot | None:
    """One slot with its people (a printed roster), or None outside the session's scope."""
    async with db.reading("board_slot") as conn:
        scope = await scope_of(conn, session)
        if not scope.visible:
            return None
        found = await _slots(conn, sorted(scope.visible), None, slot_id)
    return found[0] if found else None
