"""How quickly an organisation answers applications: the share answered within 7 days
(what JeVeuxAider asks of organisations) and the median answer time, as a 0-100 score.
Coordinators see it in /stats; discovery lists better-answering organisations first among
missions at a similar distance."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import and_, case, func, literal, literal_column, or_, select, update
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.sql.elements import ColumnElement

from bot.domain import ANSWER_WITHIN_DAYS, ApplicationStatus
from bot.services import mission_store
from storage import schema

A, S, M, E = schema.applications, schema.slots, schema.missions, schema.application_events
WINDOW_DAYS = 180  # applications older than this no longer count
NEUTRAL_SCORE = 50  # an organisation nobody has applied to yet
SHARE_WEIGHT = 0.7  # the rest rewards a short median answer time
DEADLINE = timedelta(days=ANSWER_WITHIN_DAYS)


@dataclass(frozen=True)
class Reactivity:
    considered: int  # applications answered, or left waiting 7 days or more
    answered_in_time: int
    median_answer: timedelta | None

    @property
    def share_in_time(self) -> float | None:
        return None if not self.considered else self.answered_in_time / self.considered

    @property
    def score(self) -> int | None:
        """0-100, None without any application to judge by."""
        share = self.share_in_time
        if share is None:
            return None
        speed = 0.0
        if self.median_answer is not None:
            speed = max(0.0, 1 - self.median_answer / DEADLINE)
        return round(100 * (SHARE_WEIGHT * share + (1 - SHARE_WEIGHT) * speed))


EMPTY = Reactivity(0, 0, None)


def median(values: Sequence[timedelta]) -> timedelta | None:
    if not values:
        return None
    ordered = sorted(values)
    middle = len(ordered) // 2
    if len(ordered) % 2:
        return ordered[middle]
    return (ordered[middle - 1] + ordered[middle]) / 2


def _as_aware(value: object) -> datetime | None:
    """SQLite aggregates lose the column type: an ISO string comes back."""
    if value is None:
        return None
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    assert isinstance(value, datetime)
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


def answers_query(now: datetime, organisation_ids: Sequence[int] | None = None) -> Any:
    """Each application of the last WINDOW_DAYS with when it was decided or left pending.
    The answer times are looked up per application (index on application_id): grouping the
    whole status history first took seconds on a large database."""
    from_pending = E.c.from_status == ApplicationStatus.PENDING
    decided = and_(
        from_pending,
        E.c.to_status.in_([ApplicationStatus.APPROVED, ApplicationStatus.REFUSED]),
        E.c.actor_id.is_not(None),
    )
    decided_at = select(func.min(E.c.at)).where(E.c.application_id == A.c.id, decided)
    left_at = select(func.min(E.c.at)).where(E.c.application_id == A.c.id, from_pending)
    query = (
        select(
            M.c.organisation_id,
            A.c.status,
            A.c.created_at,
            decided_at.scalar_subquery().label("decided_at"),
            left_at.scalar_subquery().label("left_at"),
        )
        .select_from(A.join(S, S.c.id == A.c.slot_id).join(M, M.c.id == S.c.mission_id))
        .where(A.c.created_at >= now - timedelta(days=WINDOW_DAYS))
    )
    if organisation_ids is not None:
        query = query.where(M.c.organisation_id.in_(list(organisation_ids)))
    return query


def fold(rows: Iterable[Any], now: datetime) -> dict[int, Reactivity]:
    """The rows of answers_query summed up per organisation (absent: nothing to judge)."""
    considered: dict[int, int] = defaultdict(int)
    in_time: dict[int, int] = defaultdict(int)
    waits: dict[int, list[timedelta]] = defaultdict(list)
    for row in rows:
        org, created = row.organisation_id, _as_aware(row.created_at)
        assert created is not None
        decided_at, left_at = _as_aware(row.decided_at), _as_aware(row.left_at)
        if decided_at is not None:
            wait = decided_at - created
            considered[org] += 1
            in_time[org] += wait <= DEADLINE
            waits[org].append(wait)
            continue
        if left_at is None and row.status != ApplicationStatus.PENDING:
            continue  # never waited for an answer (e.g. waitlisted at once)
        if (left_at or now) - created >= DEADLINE:
            considered[org] += 1  # left waiting a week or more
    return {
        org: Reactivity(
            considered[org],
            in_time[org],
            median(waits[org]),
        )
        for org in considered
    }


def _week_after(created: ColumnElement[Any], dialect: str) -> ColumnElement[Any]:
    """`created` + ANSWER_WITHIN_DAYS in the database's own date arithmetic, comparable with
    the stored datetimes, to the microsecond."""
    if dialect == "sqlite":
        # Stored as 'YYYY-MM-DD HH:MM:SS.ffffff' (UTC, naive): the whole seconds are shifted
        # and the fraction kept as it is, since datetime() would round it to milliseconds.
        shifted = func.datetime(func.substr(created, 1, 19), f"+{ANSWER_WITHIN_DAYS} days")
        return shifted.op("||")(func.substr(created, 20))
    # A naive timestamp: adding days is exact, no daylight saving time in between.
    return created + literal_column(f"interval '{ANSWER_WITHIN_DAYS} days'")


def _wait_order(
    created: ColumnElement[Any], decided: ColumnElement[Any], dialect: str
) -> ColumnElement[Any]:
    """Orders answers by their wait, exactly (no floating-point julian days)."""
    if dialect == "sqlite":

        def microseconds(stamp: ColumnElement[Any]) -> ColumnElement[Any]:
            seconds = func.strftime("%s", func.substr(stamp, 1, 19))
            return seconds * 1_000_000 + func.substr(stamp, 21)

        return microseconds(decided) - microseconds(created)
    return decided - created


def measure_query(
    now: datetime, dialect: str, organisation_ids: Sequence[int] | None = None
) -> Any:
    """fold() done by the database: per organisation, the counts with the one or two middle
    answers (those the median wait is taken from), or the counts alone without any answer.
    A row or two come back instead of every application of the last WINDOW_DAYS."""
    # Materialized: each answer time is looked up once, not once per use below.
    w = answers_query(now, organisation_ids).cte("answers").prefix_with("MATERIALIZED")
    deadline = _week_after(w.c.created_at, dialect)
    decided = w.c.decided_at.is_not(None)
    waited = and_(
        w.c.decided_at.is_(None),
        or_(w.c.left_at.is_not(None), w.c.status == ApplicationStatus.PENDING),
        func.coalesce(w.c.left_at, literal(now, schema.UTCDateTime())) >= deadline,
    )
    counts = (
        select(
            w.c.organisation_id,
            func.count(case((or_(decided, waited), 1))).label("considered"),
            func.count(case((and_(decided, w.c.decided_at <= deadline), 1))).label("in_time"),
        )
        .group_by(w.c.organisation_id)
        .subquery("counts")
    )
    # Only the answered applications are sorted, by their wait.
    ranked = (
        select(
            w.c.organisation_id,
            w.c.created_at,
            w.c.decided_at,
            func.row_number()
            .over(
                partition_by=w.c.organisation_id,
                order_by=_wait_order(w.c.created_at, w.c.decided_at, dialect),
            )
            .label("rank"),
            func.count().over(partition_by=w.c.organisation_id).label("answered"),
        )
        .where(decided)
        .subquery("ranked")
    )
    r = ranked.c
    middle = (
        select(r.organisation_id, r.created_at, r.decided_at)
        .where(or_(r.rank == (r.answered + 1) // 2, r.rank == (r.answered + 2) // 2))
        .subquery("middle")
    )
    return select(
        counts.c.organisation_id,
        counts.c.considered,
        counts.c.in_time,
        middle.c.created_at,
        middle.c.decided_at,
    ).select_from(counts.outerjoin(middle, middle.c.organisation_id == counts.c.organisation_id))


async def reactivity(
    conn: AsyncConnection, *, now: datetime, organisation_ids: Sequence[int] | None = None
) -> dict[int, Reactivity]:
    """Each organisation's reactivity over the last WINDOW_DAYS (absent: nothing to judge)."""
    rows = (await conn.execute(measure_query(now, conn.dialect.name, organisation_ids))).all()
    counts: dict[int, tuple[int, int]] = {}
    middle: dict[int, list[timedelta]] = defaultdict(list)
    for row in rows:
        counts[row.organisation_id] = (int(row.considered), int(row.in_time))
        created, decided_at = _as_aware(row.created_at), _as_aware(row.decided_at)
        if created is not None and decided_at is not None:
            middle[row.organisation_id].append(decided_at - created)
    return {
        org: Reactivity(considered, in_time, median(middle[org]))
        for org, (considered, in_time) in counts.items()
        if considered
    }


async def refresh(
    conn: AsyncConnection,
    *,
    now: datetime,
    organisation_ids: Sequence[int] | None = None,
    stamp_all: bool = False,
) -> int:
    """Write the score kept on each organisation row (all of them when None); how many
    changed. Discovery ranks by the kept score and never recomputes it. `stamp_all` marks
    unchanged rows as measured too, so the scheduler moves on to others."""
    measured = await reactivity(conn, now=now, organisation_ids=organisation_ids)
    return await keep(
        conn, measured, now=now, organisation_ids=organisation_ids, stamp_all=stamp_all
    )


async def measure_soon(conn: AsyncConnection, organisation_id: int) -> None:
    """A decision changes the organisation's score: the scheduler measures it at its next
    tick (first in line), rather than the coordinator's tap paying for a measure of every
    answer of the last WINDOW_DAYS inside its write transaction."""
    o = schema.organisations
    await conn.execute(update(o).where(o.c.id == organisation_id).values(reactivity_at=None))


async def keep(
    conn: AsyncConnection,
    measured: dict[int, Reactivity],
    *,
    now: datetime,
    organisation_ids: Sequence[int] | None = None,
    stamp_all: bool = False,
) -> int:
    """refresh() with the measures already taken (in a read, so that a long measure does
    not hold the write lock)."""
    o = schema.organisations
    query = select(o.c.id, o.c.reactivity)
    if organisation_ids is not None:
        query = query.where(o.c.id.in_(list(organisation_ids)))
    changed = 0
    for row in (await conn.execute(query)).all():
        score = measured.get(row.id, EMPTY).score
        if score != row.reactivity or stamp_all:
            await conn.execute(
                update(o).where(o.c.id == row.id).values(reactivity=score, reactivity_at=now)
            )
        if score != row.reactivity:
            await mission_store.set_reactivity_of_organisation(conn, row.id, kept_score(score))
            changed += 1
    return changed


def kept_score(stored: int | None) -> int:
    """The score discovery ranks by: NEUTRAL_SCORE for an organisation not judged yet."""
    return NEUTRAL_SCORE if stored is None else stored
