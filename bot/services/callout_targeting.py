"""Who a callout asks, nearest and most reliable first: registered people within the radius,
interested in the domains, reachable on an allowed channel, free at that time, not asked
too often lately. Quiet hours decide when a non-urgent wave may go. A territory alert uses
the same targeting without a slot, limited to the territory's postcodes; alerts and callouts
share the weekly cap.

The whole rule is one SQL query: the radius's bounding box narrows the people, the
haversine distance and the ranking are computed by the database, and the exclusion sets
(busy, on the slot, capped, already asked) are anti-joins it builds once. A preview is a
COUNT over it and a wave reads only its own first rows, so a register of a million people
never travels into Python."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Float, String, and_, case, cast, func, null, or_, select, true
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.domain import HOLDING, ApplicationStatus, GeoPoint
from bot.geo import EARTH_RADIUS_KM, bounding_box
from bot.services.review import CORSICA
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


def _excluded(target: Target, now: datetime) -> list[Any]:
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
    if target.slot_id is None or target.starts_at is None or target.ends_at is None:
        return [capped]
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
    queries = [busy, on_slot, capped, blocking]
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
    return queries


def _distance(point: GeoPoint) -> Any:
    """haversine_km in SQL, term for term (SQLite's math functions and PostgreSQL's agree
    with Python's libm), so the database ranks exactly as the Python version did."""
    lat1, lon1 = math.radians(point.latitude), math.radians(point.longitude)
    lat2, lon2 = func.radians(P.c.latitude), func.radians(P.c.longitude)
    h = func.power(func.sin((lat2 - lat1) / 2), 2) + math.cos(lat1) * func.cos(lat2) * func.power(
        func.sin((lon2 - lon1) / 2), 2
    )
    return 2 * EARTH_RADIUS_KM * func.asin(func.sqrt(h))


def _interested(domains: Sequence[str]) -> Any:
    """interests (a JSON list of domain keys) holds one of `domains`: the quoted key in its
    text, which no other key contains."""
    text = cast(P.c.interests, String)
    return or_(*(text.like(f'%"{domain}"%') for domain in domains))


def _in_territory(target: Target) -> Any:
    """The person lives in the territory; someone who shared a location has no postcode, so
    within a radius the distance alone places them."""
    prefix = CORSICA.get(target.territory or "", target.territory or "")
    inside = P.c.postcode.like(f"{prefix}%")
    if target.point is not None and target.radius_km is not None:
        return or_(P.c.postcode.is_(None), P.c.postcode == "", inside)
    return inside


def _pool(target: Target, now: datetime) -> tuple[Any, Any]:
    """Everyone the callout may still ask as a subquery with their distance (NULL where it
    does not matter or is unknown), and the term keeping those within the radius. The
    terms go cheapest first: the bounding box, the flags, the exclusions. OFFSET 0 keeps
    the database from inlining the subquery, which would compute the distance again for
    every place it is used."""
    conditions: list[Any] = []
    distance: Any = cast(null(), Float)  # typed, or PostgreSQL cannot round it
    if target.point is not None:
        distance = case((P.c.latitude.is_(None), null()), else_=_distance(target.point))
    if target.point is not None and target.radius_km is not None:
        lat_min, lat_max, lon_min, lon_max = bounding_box(target.point, target.radius_km)
        conditions += [
            P.c.latitude.between(lat_min, lat_max),
            P.c.longitude.between(lon_min, lon_max),
        ]
    conditions += [P.c.registered_at.is_not(None), _reachable(target.channels)]
    if target.domains:
        conditions.append(_interested(target.domains))
    if target.territory is not None:
        conditions.append(_in_territory(target))
    conditions += [P.c.id.not_in(query) for query in _excluded(target, now)]
    pool = (
        select(P.c.id, P.c.no_show_count, P.c.attended_count, distance.label("distance_km"))
        .where(*conditions)
        .offset(0)
        .subquery("pool")
    )
    if target.point is None or target.radius_km is None:
        return pool, true()
    return pool, pool.c.distance_km <= target.radius_km


def _order(pool: Any) -> list[Any]:
    """Reliable before unreliable, then by steps of distance, experience, distance, id."""
    distance = pool.c.distance_km
    return [
        case((pool.c.no_show_count >= UNRELIABLE_FROM, 1), else_=0),
        func.coalesce(func.round(distance / DISTANCE_STEP_KM), 0),
        -pool.c.attended_count,
        func.coalesce(distance, 0.0),
        pool.c.id,
    ]


def ranked(target: Target, now: datetime, limit: int | None = None) -> Any:
    """The candidates as a SELECT of (person_id, distance_km, position), best first; what a
    wave inserts from without reading it. The first `limit` are picked by a bounded sort,
    then numbered: numbering the whole pool would sort all of it."""
    pool, within = _pool(target, now)
    keys = [key.label(f"key_{n}") for n, key in enumerate(_order(pool))]
    best = (
        select(pool.c.id.label("person_id"), pool.c.distance_km, *keys)
        .where(within)
        .order_by(*keys)
        .limit(limit)
        .subquery()
    )
    order = [best.c[key.name] for key in keys]
    return select(
        best.c.person_id,
        best.c.distance_km,
        func.row_number().over(order_by=order).label("position"),
    ).order_by(*order)


async def count_matching(conn: AsyncConnection, target: Target, now: datetime) -> int:
    """How many people the callout may still ask."""
    pool, within = _pool(target, now)
    return int(await conn.scalar(select(func.count()).select_from(pool).where(within)) or 0)


async def candidates(
    conn: AsyncConnection, target: Target, now: datetime, *, limit: int | None = None
) -> list[Candidate]:
    """Everyone the callout may still ask (the first `limit`), in the order they should be
    asked."""
    result = await conn.stream(ranked(target, now, limit))
    found: list[Candidate] = []
    async for rows in result.partitions(5000):
        found.extend(Candidate(int(r.person_id), r.distance_km) for r in rows)
    return found
