"""An organisation's figures: how full its missions are, applications per week, how fast
it answers, and how many volunteers came. Plain values; the chart and the words are
someone else's."""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.domain import HOLDING, ApplicationStatus, MissionStatus
from bot.services.reactivity import EMPTY, Reactivity, reactivity
from storage import schema
from storage.database import Database

A, S, M, ORGS = schema.applications, schema.slots, schema.missions, schema.organisations
# Applications that took a place: still holding one, or marked after the slot.
TAKING = (*HOLDING, ApplicationStatus.ATTENDED, ApplicationStatus.NO_SHOW)
COUNTED_MISSIONS = (MissionStatus.PUBLISHED, MissionStatus.CLOSED)
WEEKS = 12


def _rate(part: int, whole: int) -> float | None:
    return None if whole == 0 else part / whole


@dataclass(frozen=True)
class MissionFill:
    mission_id: int
    title: str
    taken: int  # places taken over all its slots, each slot capped at its capacity
    capacity: int
    upcoming_taken: int
    upcoming_capacity: int

    @property
    def rate(self) -> float | None:
        return _rate(self.taken, self.capacity)

    @property
    def past_taken(self) -> int:
        return self.taken - self.upcoming_taken

    @property
    def past_capacity(self) -> int:
        return self.capacity - self.upcoming_capacity


@dataclass(frozen=True)
class OrganisationStats:
    organisation_id: int
    name: str
    missions: tuple[MissionFill, ...]
    weekly: tuple[tuple[date, int], ...]  # Monday of each week, applications created
    applications: int
    attended: int
    no_show: int
    reactivity: Reactivity = field(default=EMPTY)

    @property
    def taken(self) -> int:
        return sum(m.taken for m in self.missions)

    @property
    def capacity(self) -> int:
        return sum(m.capacity for m in self.missions)

    @property
    def fill_rate(self) -> float | None:
        return _rate(self.taken, self.capacity)

    @property
    def attendance_rate(self) -> float | None:
        return _rate(self.attended, self.attended + self.no_show)

    @property
    def no_show_rate(self) -> float | None:
        return _rate(self.no_show, self.attended + self.no_show)

    @property
    def median_answer(self) -> timedelta | None:
        return self.reactivity.median_answer

    @property
    def score(self) -> int | None:
        return self.reactivity.score


def week_of(day: date) -> date:
    return day - timedelta(days=day.weekday())


async def _fills(conn: AsyncConnection, organisation_id: int, now: datetime) -> list[MissionFill]:
    taken = (
        select(A.c.slot_id, func.count().label("n"))
        .where(A.c.status.in_([str(s) for s in TAKING]))
        .group_by(A.c.slot_id)
        .subquery("taken")
    )
    rows = (
        await conn.execute(
            select(
                M.c.id,
                M.c.title,
                S.c.capacity,
                S.c.starts_at,
                func.coalesce(taken.c.n, 0).label("n"),
            )
            .select_from(
                M.join(S, S.c.mission_id == M.c.id).outerjoin(taken, taken.c.slot_id == S.c.id)
            )
            .where(
                M.c.organisation_id == organisation_id,
                M.c.status.in_([str(s) for s in COUNTED_MISSIONS]),
            )
            .order_by(M.c.id, S.c.starts_at)
        )
    ).all()
    titles: dict[int, str] = {}
    sums: dict[int, list[int]] = defaultdict(lambda: [0, 0, 0, 0])
    for r in rows:
        titles[r.id] = r.title
        used = min(int(r.n), r.capacity)
        total = sums[r.id]
        total[0] += used
        total[1] += r.capacity
        if r.starts_at > now:
            total[2] += used
            total[3] += r.capacity
    return [MissionFill(i, titles[i], *sums[i]) for i in titles]


async def _applications(
    conn: AsyncConnection, organisation_id: int, now: datetime, zone: ZoneInfo, weeks: int
) -> tuple[tuple[tuple[date, int], ...], Counter[str]]:
    rows = (
        await conn.execute(
            select(A.c.status, A.c.created_at)
            .join(S, S.c.id == A.c.slot_id)
            .join(M, M.c.id == S.c.mission_id)
            .where(M.c.organisation_id == organisation_id)
        )
    ).all()
    this_week = week_of(now.astimezone(zone).date())
    first = this_week - timedelta(weeks=weeks - 1)
    per_week: Counter[date] = Counter()
    for r in rows:
        week = week_of(r.created_at.astimezone(zone).date())
        if first <= week <= this_week:
            per_week[week] += 1
    weekly = tuple(
        (first + timedelta(weeks=k), per_week[first + timedelta(weeks=k)]) for k in range(weeks)
    )
    return weekly, Counter(r.status for r in rows)


async def organisation_stats(
    db: Database, organisation_id: int, *, now: datetime, zone: ZoneInfo, weeks: int = WEEKS
) -> OrganisationStats:
    """Every figure of one organisation, weeks counted in `zone`."""
    async with db.reading("organisation_stats") as conn:
        name = await conn.scalar(select(ORGS.c.name).where(ORGS.c.id == organisation_id))
        fills = await _fills(conn, organisation_id, now)
        weekly, statuses = await _applications(conn, organisation_id, now, zone, weeks)
        found = await reactivity(conn, now=now, organisation_ids=[organisation_id])
    return OrganisationStats(
        organisation_id=organisation_id,
        name=str(name or ""),
        missions=tuple(fills),
        weekly=weekly,
        applications=sum(statuses.values()),
        attended=statuses[ApplicationStatus.ATTENDED],
        no_show=statuses[ApplicationStatus.NO_SHOW],
        reactivity=found.get(organisation_id, EMPTY),
    )


async def all_stats(db: Database, *, now: datetime, zone: ZoneInfo) -> list[OrganisationStats]:
    """The figures of every organisation, by name."""
    async with db.reading("organisation_ids") as conn:
        ids = [int(i) for i in await conn.scalars(select(ORGS.c.id).order_by(ORGS.c.name))]
    return [await organisation_stats(db, i, now=now, zone=zone) for i in ids]
