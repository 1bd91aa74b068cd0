"""Who a callout asks, nearest and most reliable first: registered people within the radius,
interested in the domains, reachable on an allowed channel, free at that time, not asked
too often lately. Quiet hours decide when a non-urgent wave may go. A territory alert uses
the same targeting without a slot, limited to the territory's postcodes; alerts and callouts
share the weekly cap.

One pass reads the people inside the radius's bounding box (a single indexed-free scan
SQLite does fast) and the few exclusion sets, then measures and ranks in Python: correlated
subqueries per person cost more than the whole pass on a large register."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import and_, func, or_, select
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.domain import HOLDING, ApplicationStatus, GeoPoint
from bot.geo import bounding_box, haversine_km
from bot.services.review import covers
from storage import schema

P, A, S, R = schema.people, schema.applications, schema.slots, schema.callout_recipients
M, BLOCKS, AR = schema.missions, schema.relay_blocks, schema.alert_recipients

# Nobody is asked more often than this, whatever the crisis: people who get too many
# alerts stop reading them.
CAP_PER_WEEK = 3
CAP_WINDOW = timedelta(days=7)
QUIET_FROM = time(21, 0)
QUIET_UNTIL = time(8, 0)
# Distances within this many km count as equally near, so reliability decides among them.
DISTANCE_STEP_KM = 2.0
UNRELIABLE_FROM = 2  # no-shows from which a person is asked after everyone else
CHANNELS = ("telegram", "sms")


@dataclass(frozen=True)
class Target:
    """What the targeting needs to know about a callout and its slot (a territory alert has
    no slot: nobody is busy for it)."""

    slot_id: int | None
    starts_at: datetime | None
    ends_at: datetime | None
    point: GeoPoint | None  # None: remote mission, distance does not matter
    radius_km: int | None  # None: everywhere
    domains: tuple[str, ...]
    channels: tuple[str, ...]
    callout_id: int | None = None  # people it already asked are left out
    territory: str | None = None  # only people whose postcode it covers


@dataclass(frozen=True)
class Candidate:
    person_id: int
    distance_km: float | None


def quiet_until(now: datetime, zone: ZoneInfo) -> datetime | None:
    """When quiet hours end if `now` falls in them on the mission's clock, else None."""
    local = now.astimezone(zone)
    if QUIET_UNTIL <= local.time() < QUIET_FROM:
        return None
    day = local.date() + timedelta(days=1) if local.time() >= QUIET_FROM else local.date()
    return datetime.combine(day, QUIET_UNTIL, zone)


def _reachable(channels: Sequence[str]) -> Any:
    ways = []
    if "telegram" in channels:
        ways.append(and_(P.c.telegram_chat_id.is_not(None), P.c.telegram_unreachable_at.is_(None)))
    if "sms" in channels:
        ways.append(and_(P.c.phone.is_not(None), P.c.sms_stopped_at.is_(None)))
    return or_(*ways) if ways else P.c.id.is_(None)


async def _excluded(conn: AsyncConnection, target: Target, now: datetime) -> set[int]:
    """People busy at that time, already on the slot, already asked, asked enough, or who
    blocked the organisation."""
    recent = now - CAP_WINDOW
    asked = (
        select(R.c.person_id.label("person_id"))
        .where(R.c.created_at > recent)
        .union_all(select(AR.c.person_id).where(AR.c.created_at > recent))
        .subquery()
    )
    capped = (
        select(asked.c.person_id).group_by(asked.c.person_id).having(func.count() >= CAP_PER_WEEK)
    )
    excluded: set[int] = set(await conn.scalars(capped))
    if target.slot_id is None or target.starts_at is None or target.ends_at is None:
        return excluded
    busy = (
        select(A.c.person_id)
        .join(S, S.c.id == A.c.slot_id)
        .where(
            A.c.status.in_([str(s) for s in HOLDING]),
            S.c.starts_at < target.ends_at,
            S.c.ends_at > target.starts_at,
        )
    )
    # A refusal stands; someone who cancelled may be asked again.
    on_slot = select(A.c.person_id).where(
        A.c.slot_id == target.slot_id, A.c.status != ApplicationStatus.CANCELLED
    )
    # /block means no message at all from that organisation, alerts included.
    blocking = (
        select(BLOCKS.c.person_id)
        .join(M, M.c.organisation_id == BLOCKS.c.organisation_id)
        .join(S, S.c.mission_id == M.c.id)
        .where(S.c.id == target.slot_id)
    )
    queries = [busy, on_slot, blocking]
    if target.callout_id is not None:
        # Someone whose call was withdrawn unsent never heard of it: they may be asked again.
        outbox = schema.outbox
        heard = or_(
            R.c.outbox_id.is_(None), outbox.c.status != "cancelled", R.c.answer.is_not(None)
        )
        queries.append(
            select(R.c.person_id)
            .select_from(R.outerjoin(outbox, outbox.c.id == R.c.outbox_id))
            .where(R.c.callout_id == target.callout_id, heard)
        )
    for query in queries:
        excluded.update(await conn.scalars(query))
    return excluded


def _in_territory(target: Target, row: Any, measured: bool) -> bool:
    """Whether the person lives in the territory; someone who shared a location has no
    postcode, so within a radius the distance alone places them."""
    if measured and not row.postcode:
        return True
    return target.territory is not None and covers(target.territory, row.postcode)


def _rank(row: Any, distance: float | None) -> tuple[bool, int, int, float, int]:
    step = 0 if distance is None else round(distance / DISTANCE_STEP_KM)
    return (
        row.no_show_count >= UNRELIABLE_FROM,
        step,
        -row.attended_count,
        distance or 0.0,
        row.id,
    )


async def candidates(conn: AsyncConnection, target: Target, now: datetime) -> list[Candidate]:
    """Everyone the callout may still ask, in the order they should be asked."""
    columns = [P.c.id, P.c.latitude, P.c.longitude, P.c.no_show_count, P.c.attended_count]
    if target.domains:
        columns.append(P.c.interests)
    if target.territory is not None:
        columns.append(P.c.postcode)
    conditions: list[Any] = [P.c.registered_at.is_not(None), _reachable(target.channels)]
    measured = target.point is not None and target.radius_km is not None
    if measured:
        assert target.point is not None and target.radius_km is not None
        lat_min, lat_max, lon_min, lon_max = bounding_box(target.point, target.radius_km)
        conditions += [
            P.c.latitude.between(lat_min, lat_max),
            P.c.longitude.between(lon_min, lon_max),
        ]
    excluded = await _excluded(conn, target, now)
    wanted = set(target.domains)
    ranked: list[tuple[tuple[bool, int, int, float, int], Candidate]] = []
    result = await conn.stream(select(*columns).where(*conditions))
    async for rows in result.partitions(5000):
        for row in rows:
            if row.id in excluded:
                continue
            if wanted and not wanted.intersection(row.interests or ()):
                continue
            if target.territory is not None and not _in_territory(target, row, measured):
                continue
            distance = None
            if target.point is not None and row.latitude is not None:
                distance = haversine_km(target.point, GeoPoint(row.latitude, row.longitude))
            if measured and (distance is None or distance > (target.radius_km or 0)):
                continue
            ranked.append((_rank(row, distance), Candidate(row.id, distance)))
    ranked.sort(key=lambda item: item[0])
    return [candidate for _, candidate in ranked]
