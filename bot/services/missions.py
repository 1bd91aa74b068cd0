"""Missions and their slots: creating them, and discovering the ones near a volunteer."""

from __future__ import annotations

import functools
import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import (
    Float,
    Integer,
    Row,
    Select,
    String,
    bindparam,
    case,
    exists,
    func,
    select,
    type_coerce,
)
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.domain import DOMAINS, GeoPoint, MissionStatus
from bot.geo import EARTH_RADIUS_KM, bounding_box, distances_from, haversine_km
from bot.services import audit, mission_store, places, reactivity, review, slot_store
from bot.services.discovery_cache import TABLES as DISCOVERY_TABLES
from bot.services.discovery_cache import KeptPages
from bot.services.errors import InvalidInput, NotFound
from bot.services.organisations import require_member
from storage import schema
from storage.database import Database, Inbound
from storage.recent import PerDatabase

MAX_CAPACITY = 10_000
BAND_KM = 2  # discovery: missions this close in distance count as equally near
RING_START_KM = 4  # discovery looks this far first, then up to RING_GROWTH times further
RING_GROWTH = 4.0
# The next ring is as wide as the missions found so far say the page needs (their number
# grows with the area), with this margin; at least MIN_RING_GROWTH times wider.
RING_MARGIN = 1.25
MIN_RING_GROWTH = 1.5
REMOTE_CHUNK = 16  # remote missions read at least at a time, by descending organisation score
# A later page leaves out the missions in the square inside the circle its cursor's distance
# band starts at (they all come before it): the square's half side is this share of the
# radius (1/sqrt(2), less a margin for the longitudes narrowing northwards), up to this far.
INNER_SQUARE_SHARE = 0.6
INNER_SQUARE_MAX_KM = 300
EVERYWHERE_KM = 2_500  # a ring this wide covers metropolitan France: read everything instead
# A ring is read nearest first, this many missions at first, then more (as many as the next
# distance band needs at the density found, between twice and NEAREST_GROWTH_MAX times as
# many) while the page is not settled: a sparse area's wide ring, or a dense town's, holds
# hundreds of missions for the six a page needs. Only rings up to NEAREST_MAX_KM wide:
# beyond, the flat distance the database orders by drifts too far from the real one.
NEAREST_FIRST = 48
NEAREST_GROWTH_MAX = 16
NEAREST_MAX_KM = 300
# The flat distance (the longitudes scaled at the ring's edge nearest the pole) is at most
# this much longer than the real one within NEAREST_MAX_KM, at France's latitudes: a mission
# left unread is at least this share of the farthest one read away.
FLAT_SHARE = 0.97
KM_PER_DEGREE = math.radians(1) * EARTH_RADIUS_KM


@dataclass(frozen=True)
class SlotSpec:
    starts_at: datetime
    ends_at: datetime
    capacity: int


@dataclass(frozen=True)
class MissionSpec:
    """Everything needed to create a mission, as plain values."""

    organisation_id: int
    title: str
    domain: str
    description: str = ""
    address: str = ""
    postcode: str | None = None
    point: GeoPoint | None = None
    remote: bool = False
    timezone: str = "Europe/Paris"
    slots: tuple[SlotSpec, ...] = ()
    template_id: int | None = None
    conditions: tuple[str, ...] = ()  # what a volunteer confirms before applying


@dataclass(frozen=True)
class SlotView:
    id: int
    mission_id: int
    starts_at: datetime
    ends_at: datetime
    capacity: int
    taken: int
    waitlisted: int = 0

    @property
    def free(self) -> int:
        return max(self.capacity - self.taken, 0)


@dataclass(frozen=True)
class MissionCard:
    """A mission as discovery lists it."""

    id: int
    title: str
    domain: str
    organisation_id: int
    organisation_name: str
    address: str
    postcode: str | None
    remote: bool
    timezone: str
    distance_km: float | None
    next_start: datetime
    free_places: int
    open_slots: int
    waitlisted: int = 0  # people on the waiting lists of its slots in the dates asked

    @property
    def full(self) -> bool:
        """No free place left: still listed, to join the waiting list."""
        return self.free_places == 0

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)


@dataclass(frozen=True)
class MissionDetail:
    id: int
    title: str
    description: str
    domain: str
    status: MissionStatus
    organisation_id: int
    organisation_name: str
    address: str
    postcode: str | None
    point: GeoPoint | None
    remote: bool
    timezone: str
    slots: tuple[SlotView, ...]
    conditions: tuple[str, ...] = ()

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)


Key = tuple[Any, ...]  # (full, remote, band, -score, distance, next start, id): see _ranked


@dataclass(frozen=True)
class Cursor:
    """Where a page ended: the last card's place in the list, and the ring that settled it,
    so the next page starts after that card without re-reading the rings from the centre."""

    key: Key
    reach: float = RING_START_KM

    def data(self) -> list[Any]:
        """As JSON (a button payload, an SMS conversation): no infinities, dates as text."""
        full, remote, band, score, distance, next_start, mission_id = self.key
        return [
            bool(full),
            bool(remote),
            _finite(band),
            score,
            _finite(distance),
            next_start.isoformat(),
            mission_id,
            self.reach,
        ]

    @classmethod
    def of(cls, data: Any) -> Cursor | None:
        """The cursor kept by `data`; None for anything else (an old or damaged payload)."""
        try:
            full, remote, band, score, distance, next_start, mission_id, reach = data
            key = (
                bool(full),
                bool(remote),
                _infinite(band),
                float(score),
                _infinite(distance),
                _aware(datetime.fromisoformat(str(next_start))),
                int(mission_id),
            )
            reach = float(reach)
        except (TypeError, ValueError):
            return None
        if not math.isfinite(reach):  # the rings would never reach the radius
            return None
        return cls(key, max(reach, RING_START_KM))


def _finite(value: float) -> float | None:
    return None if value == float("inf") else value


def _infinite(value: Any) -> float:
    return float("inf") if value is None else float(value)


@dataclass(frozen=True)
class DiscoveryPage:
    cards: tuple[MissionCard, ...]
    # How many match from this page's first card on; None when more match than were read:
    # counting a whole radius is what made discovery slow, and the list only needs to know
    # whether there is a next page.
    total: int | None
    more: bool = False
    # Where the list goes on after each card (a channel may show fewer than were read).
    cursors: tuple[Cursor, ...] = ()

    @property
    def next(self) -> Cursor | None:
        """Where the next page starts; None on the last page."""
        return self.cursors[-1] if self.more and self.cursors else None


def validate_spec(spec: MissionSpec, now: datetime) -> None:
    """Raise InvalidInput with the field at fault."""
    if not spec.title.strip():
        raise InvalidInput("title")
    if spec.domain not in DOMAINS:
        raise InvalidInput("domain", domain=spec.domain)
    if not spec.remote and spec.point is None:
        raise InvalidInput("place")
    try:
        ZoneInfo(spec.timezone)
    except (KeyError, ValueError):
        raise InvalidInput("timezone") from None
    if not spec.slots:
        raise InvalidInput("slots")
    for slot in spec.slots:
        validate_slot(slot, now)


def validate_slot(slot: SlotSpec, now: datetime) -> None:
    if slot.ends_at <= slot.starts_at:
        raise InvalidInput("slot_order")
    if slot.starts_at <= now:
        raise InvalidInput("slot_past")
    if not 1 <= slot.capacity <= MAX_CAPACITY:
        raise InvalidInput("capacity")


async def insert_mission(
    conn: AsyncConnection, spec: MissionSpec, *, actor_id: int | None, transaction: str
) -> int:
    """Write one mission and its slots inside the caller's transaction: published, or in
    review when a referent covers its territory (see review.initial_status)."""
    status = await review.initial_status(
        conn, spec.organisation_id, spec.postcode, spec.template_id
    )
    mission_id = await mission_store.insert_mission(
        conn,
        dict(
            organisation_id=spec.organisation_id,
            title=" ".join(spec.title.split())[:200],
            description=spec.description.strip(),
            domain=spec.domain,
            address=spec.address.strip()[:300],
            postcode=spec.postcode,
            latitude=None if spec.point is None else spec.point.latitude,
            longitude=None if spec.point is None else spec.point.longitude,
            remote=spec.remote,
            timezone=spec.timezone,
            status=MissionStatus.DRAFT if status == MissionStatus.IN_REVIEW else status,
            template_id=spec.template_id,
            conditions=[c.strip() for c in spec.conditions if c.strip()],
            created_by=actor_id,
            created_at=schema.now(),
            published_at=schema.now() if status == MissionStatus.PUBLISHED else None,
        ),
        default_reactivity=reactivity.NEUTRAL_SCORE,
    )
    await slot_store.insert_slots(
        conn, mission_id, [(s.starts_at, s.ends_at, s.capacity) for s in spec.slots]
    )
    await audit.record(
        conn,
        transaction,
        actor_id=actor_id,
        action="mission.published" if status == MissionStatus.PUBLISHED else "mission.created",
        subject_type="mission",
        subject_id=mission_id,
        slots=len(spec.slots),
    )
    if status == MissionStatus.IN_REVIEW:
        await review.submit(conn, mission_id, actor_id=actor_id, transaction=transaction)
    return mission_id


async def create_mission(
    db: Database,
    spec: MissionSpec,
    *,
    actor_id: int | None,
    now: datetime,
    inbound: Inbound | None = None,
) -> int:
    """Create a mission: published, or sent to the territory's referents for review."""
    validate_spec(spec, now)
    async with db.transaction("create_mission", inbound) as conn:
        if actor_id is not None:
            await require_member(conn, actor_id, spec.organisation_id)
        return await insert_mission(conn, spec, actor_id=actor_id, transaction="create_mission")


async def count_taken(conn: AsyncConnection, slot_id: int) -> int:
    """Places taken on the slot, as kept with it: the capacity rules read it after taking
    the slot's lock, when no other change of its applications can be under way."""
    return (await places.kept(conn, slot_id)).taken


@dataclass(frozen=True)
class _Search:
    """What a discovery asks for, besides the place."""

    start: datetime
    date_to: datetime | None
    domains: tuple[str, ...]


S_ = schema.slots
HAS_FREE = S_.c.capacity > S_.c.taken


@functools.cache
def _summaries(scope: str, dated: bool, filtered: bool) -> Select[Any]:
    """One row per published mission with a slot in the dates: its free places, read from
    the places kept on the slots, and its next slot (with a free place, if any). `scope`:
    "ids" (:ids, found published already) or "all". Near a place, missions are found and
    ranked from lighter rows (_nearby), and only a page's are summed. Built once per shape;
    the values go in as parameters (see _summaries_of)."""
    m, o = schema.missions, schema.organisations
    conditions: list[Any] = [S_.c.starts_at > bindparam("start"), S_.c.cancelled_at.is_(None)]
    if scope != "ids":
        # Ids come from a published mission already; with the status here SQLite would
        # walk the status index over every published mission instead of the ids.
        conditions.append(m.c.status == MissionStatus.PUBLISHED)
    if dated:
        conditions.append(S_.c.starts_at < bindparam("date_to"))
    if filtered:
        conditions.append(m.c.domain.in_(bindparam("domains", expanding=True)))
    if scope == "ids":
        conditions.append(m.c.id.in_(bindparam("ids", expanding=True)))
    return (
        select(
            m.c.id,
            m.c.title,
            m.c.domain,
            m.c.organisation_id,
            o.c.name.label("organisation_name"),
            m.c.reactivity,
            m.c.address,
            m.c.postcode,
            m.c.remote,
            m.c.timezone,
            m.c.latitude,
            m.c.longitude,
            func.min(case((HAS_FREE, S_.c.starts_at))).label("next_open"),
            func.min(S_.c.starts_at).label("next_start"),
            func.sum(case((HAS_FREE, S_.c.capacity - S_.c.taken), else_=0)).label("free_places"),
            func.count(case((HAS_FREE, 1))).label("open_slots"),
            func.sum(S_.c.waitlisted).label("waitlisted"),
        )
        .select_from(m.join(S_, S_.c.mission_id == m.c.id).join(o, o.c.id == m.c.organisation_id))
        .where(*conditions)
        .group_by(m.c.id, o.c.name)
    )


def _in_box(*, annulus: bool) -> list[Any]:
    """Missions within :lat_min..:lon_max; with `annulus`, outside :in_lat_min..:in_lon_max."""
    m = schema.missions
    conditions: list[Any] = [
        m.c.latitude.between(bindparam("lat_min"), bindparam("lat_max")),
        m.c.longitude.between(bindparam("lon_min"), bindparam("lon_max")),
    ]
    if annulus:
        conditions.append(
            ~(
                m.c.latitude.between(bindparam("in_lat_min"), bindparam("in_lat_max"))
                & m.c.longitude.between(bindparam("in_lon_min"), bindparam("in_lon_max"))
            )
        )
    return conditions


@functools.cache
def _nearby(scope: str, dated: bool, filtered: bool, nearest: bool) -> Select[Any]:
    """Local published missions with only what ranking needs: their place, their
    organisation's score, and their next slot in the dates and next one with a free place
    (None: no slot in the dates), each a single step down the slots' index instead of
    summing every slot (the summary is read for a page's missions only). `scope`: "box"
    (within :lat_min..:lon_max), "annulus" (the box but outside :in_lat_min..:in_lon_max)
    or "local".

    With `nearest`, only the :nearest missions nearest :lat, :lon by the flat distance (the
    longitudes scaled by :lon_scale), chosen from the coordinates' index alone before any
    table row or slot is looked at: a remote one among them comes back too, for the caller
    to leave out after counting how far the read reached."""
    m = schema.missions
    conditions: list[Any] = [m.c.status == MissionStatus.PUBLISHED]
    if filtered:
        conditions.append(m.c.domain.in_(bindparam("domains", expanding=True)))
    if scope in ("box", "annulus"):
        conditions += _in_box(annulus=scope == "annulus")
    near = select(m.c.id, m.c.latitude, m.c.longitude).where(*conditions)
    if nearest:
        north = m.c.latitude - bindparam("lat", type_=Float)
        east = (m.c.longitude - bindparam("lon", type_=Float)) * bindparam("lon_scale", type_=Float)
        near = near.order_by(north * north + east * east).limit(bindparam("nearest", type_=Integer))
    found = near.subquery("found")

    def first_start(*only: Any) -> Any:
        where = [
            S_.c.mission_id == found.c.id,
            S_.c.starts_at > bindparam("start"),
            S_.c.cancelled_at.is_(None),
            *only,
        ]
        if dated:
            where.append(S_.c.starts_at < bindparam("date_to"))
        first = select(S_.c.starts_at).where(*where).order_by(S_.c.starts_at).limit(1)
        # As stored: only the one ranking uses is read as a date (see _Found.light).
        return type_coerce(first.scalar_subquery(), String)

    return (
        select(
            found,
            m.c.reactivity,
            m.c.remote,
            first_start().label("next_start"),
            first_start(HAS_FREE).label("next_open"),
        )
    ).join_from(found, m, m.c.id == found.c.id)


async def _summaries_of(
    conn: AsyncConnection, search: _Search, scope: str, **values: Any
) -> Sequence[Row[Any]]:
    query = _summaries(scope, search.date_to is not None, bool(search.domains))
    return (await conn.execute(query, {**_parameters(search), **values})).all()


def _parameters(search: _Search) -> dict[str, Any]:
    parameters: dict[str, Any] = {"start": search.start}
    if search.date_to is not None:
        parameters["date_to"] = search.date_to
    if search.domains:
        parameters["domains"] = list(search.domains)
    return parameters


Ranked = tuple[Key, "_Found"]


def _rank(ranked: Ranked) -> Key:
    return ranked[0]


class _Found:
    """A mission found, with what ranking needs. Its card needs its summary, every slot in
    the dates summed: local missions are ranked from light rows (see _nearby), and only the
    page's are summed; remote ones come with theirs (see _remote)."""

    __slots__ = ("distance_km", "id", "next_start", "open", "reactivity", "remote", "summary")

    def __init__(
        self,
        mission_id: int,
        reactivity: int,
        distance_km: float | None,
        *,
        open_: bool,
        next_start: datetime,
        summary: Row[Any] | None,
    ) -> None:
        self.id = mission_id
        self.remote = summary is not None and bool(summary.remote)
        self.reactivity = reactivity
        self.distance_km = distance_km
        self.open = open_
        self.next_start = next_start
        self.summary = summary

    @classmethod
    def summed(cls, row: Row[Any], near: GeoPoint | None) -> _Found:
        """From a summary (_summaries)."""
        distance = None
        if near is not None and not row.remote and row.latitude is not None:
            distance = haversine_km(near, GeoPoint(row.latitude, row.longitude))
        open_ = int(row.free_places or 0) > 0
        start = _aware(row.next_open if open_ else row.next_start)
        return cls(row.id, row.reactivity, distance, open_=open_, next_start=start, summary=row)

    @classmethod
    def light(cls, row: Row[Any], distance_km: float) -> _Found:
        """From a light row (_nearby) that has a slot in the dates."""
        open_ = row.next_open is not None
        start = _aware(row.next_open if open_ else row.next_start)
        return cls(row.id, row.reactivity, distance_km, open_=open_, next_start=start, summary=None)

    @property
    def full(self) -> bool:
        return not self.open

    def card(self, row: Row[Any]) -> MissionCard:
        """The card, from the mission's summary."""
        return MissionCard(
            id=row.id,
            title=row.title,
            domain=row.domain,
            organisation_id=row.organisation_id,
            organisation_name=row.organisation_name,
            address=row.address,
            postcode=row.postcode,
            remote=row.remote,
            timezone=row.timezone,
            distance_km=self.distance_km,
            next_start=self.next_start,
            free_places=int(row.free_places or 0),
            open_slots=int(row.open_slots or 0),
            waitlisted=int(row.waitlisted or 0),
        )


def _ranked(found: _Found) -> Ranked:
    """The mission and its place in the list: missions with a free place first, local before
    remote, nearest 2 km band first, then the better-answering organisation, then nearest,
    then soonest."""
    distance = found.distance_km if found.distance_km is not None else float("inf")
    band = distance // BAND_KM if found.distance_km is not None else distance
    key = (found.full, found.remote, band, -found.reactivity, distance, found.next_start, found.id)
    return key, found


@dataclass(frozen=True)
class _Ring:
    ranked: list[Ranked]  # the missions read within the ring, ranked
    complete: bool  # every mission of the ring was read
    cover_km: float  # every mission of the ring this near was read


async def _local(
    conn: AsyncConnection,
    search: _Search,
    near: GeoPoint,
    within_km: float | None,
    beyond_km: float = 0,
    nearest: int | None = None,
) -> _Ring:
    """Missions with a slot, within `within_km` of `near` (None: all of them), ranked; with
    `nearest`, only that many of the nearest (on rings up to NEAREST_MAX_KM).
    The bounding box on the indexed coordinates leaves the exact distance to few rows.
    With `beyond_km`, some of those nearer than that are left out: the square inside that
    circle, with a margin for the meridians drawing closer."""
    values: dict[str, Any] = {}
    scope = "local"
    limited = False
    if within_km is not None:
        lat_min, lat_max, lon_min, lon_max = bounding_box(near, within_km)
        values = {"lat_min": lat_min, "lat_max": lat_max, "lon_min": lon_min, "lon_max": lon_max}
        scope = "box"
        if BAND_KM <= beyond_km <= INNER_SQUARE_MAX_KM:
            inner = bounding_box(near, beyond_km * INNER_SQUARE_SHARE)
            names = ("in_lat_min", "in_lat_max", "in_lon_min", "in_lon_max")
            values.update(zip(names, inner, strict=True))
            scope = "annulus"
        limited = nearest is not None and within_km <= NEAREST_MAX_KM
        if limited:
            poleward = min(max(abs(lat_min), abs(lat_max)), 89.0)
            values.update(
                lat=near.latitude,
                lon=near.longitude,
                lon_scale=math.cos(math.radians(poleward)),
                nearest=nearest,
            )
    query = _nearby(scope, search.date_to is not None, bool(search.domains), limited)
    rows = (await conn.execute(query, {**_parameters(search), **values})).all()
    distance = distances_from(near)
    ranked = [
        _ranked(_Found.light(row, km))
        for row in rows
        if row.next_start is not None
        and not row.remote
        and (km := distance(row.latitude, row.longitude)) <= (within_km or math.inf)
    ]
    if within_km is None:
        return _Ring(sorted(ranked, key=_rank), True, math.inf)
    complete = not limited or len(rows) < (nearest or 0)
    cover = within_km
    if not complete:
        scale = values["lon_scale"]
        farthest = max(
            math.hypot(row.latitude - near.latitude, (row.longitude - near.longitude) * scale)
            for row in rows
        )
        cover = min(within_km, FLAT_SHARE * KM_PER_DEGREE * farthest)
        complete = cover == within_km  # the rest of the box lies beyond the circle
    return _Ring(sorted(ranked, key=_rank), complete, cover)


@dataclass(frozen=True)
class _RemoteRead:
    cards: list[Ranked]  # the first ones asked for
    every: bool  # whether `cards` holds all of this kind
    others: list[Ranked] | None  # all of the other kind (open or full), when read on the way


async def _remote(
    conn: AsyncConnection, search: _Search, limit: int, after: Key | None, *, full: bool
) -> _RemoteRead:
    """The first `limit` remote missions ranked after `after`, with a free place or full
    ones; the list goes on until all are read when fewer match.

    Everyone gets the same remote missions, so there are many of them. The rank starts with
    the organisation's kept score, so they are read by descending score (from the cursor's
    one on), in growing chunks, and reading stops once `limit` of them are settled: no
    mission further down can have a higher score."""
    m = schema.missions
    by_score = (
        select(m.c.id, m.c.reactivity.label("score"))
        .where(m.c.remote.is_(True), m.c.status == MissionStatus.PUBLISHED)
        .order_by(m.c.reactivity.desc(), m.c.id.desc())  # down ix_missions_remote_rank
    )
    if search.domains:
        by_score = by_score.where(m.c.domain.in_(list(search.domains)))
    # Only those with a slot in the dates: with a date filter, most remote missions have none,
    # and each chunk read in vain is one more round trip.
    in_dates = [S_.c.mission_id == m.c.id, S_.c.starts_at > search.start]
    if search.date_to is not None:
        in_dates.append(S_.c.starts_at < search.date_to)
    by_score = by_score.where(exists().where(*in_dates, S_.c.cancelled_at.is_(None)))
    capped = after is not None and after[:2] == (full, True)
    if capped and after is not None:
        by_score = by_score.where(m.c.reactivity <= -after[3])
    found: list[Ranked] = []
    seen: list[Ranked] = []
    last: tuple[int, int] | None = None
    size = max(REMOTE_CHUNK, 2 * limit)
    while True:
        query = by_score.limit(size)
        if last is not None:
            score, before_id = last
            query = query.where(
                (m.c.reactivity < score) | ((m.c.reactivity == score) & (m.c.id < before_id))
            )
        size *= 2  # few of them in the dates asked: fewer round trips
        chunk = (await conn.execute(query)).all()
        if not chunk:  # every remote one read (from the cursor's score on, if capped)
            others = None if capped else sorted((r for r in seen if r[1].full != full), key=_rank)
            return _RemoteRead(found, True, others)
        rows = await _summaries_of(conn, search, "ids", ids=[r.id for r in chunk])
        ranked = _past([_ranked(_Found.summed(row, None)) for row in rows], after)
        seen += ranked
        fresh = [r for r in ranked if r[1].full == full]
        found = sorted([*found, *fresh], key=_rank)
        last = (int(chunk[-1].score), int(chunk[-1].id))
        # key[3] is minus the score: the limit-th card is settled once every mission of its
        # score has been read.
        if len(found) >= limit and -found[limit - 1][0][3] > last[0]:
            return _RemoteRead(found[:limit], False, None)


_kept_pages: PerDatabase[KeptPages[DiscoveryPage]] = PerDatabase(KeptPages)
NOW_STEP_SECONDS = 5  # pages asked for within the same few seconds are the same page


async def discover(
    db: Database,
    *,
    now: datetime,
    near: GeoPoint | None,
    radius_km: int | None,
    domains: Sequence[str] = (),
    date_from: datetime | None = None,
    date_to: datetime | None = None,
    after: Cursor | None = None,
    limit: int = 5,
) -> DiscoveryPage:
    """The page `_discover` reads, kept a moment for the next person asking the same."""
    step = now.timestamp() // NOW_STEP_SECONDS
    key = (step, near, radius_km, tuple(domains), date_from, date_to, after, limit)
    version = db.changes.version(DISCOVERY_TABLES)
    kept = _kept_pages.of(db)
    page = kept.get(key, version)
    if page is None:
        page = await _discover(
            db,
            now=now,
            near=near,
            radius_km=radius_km,
            domains=domains,
            date_from=date_from,
            date_to=date_to,
            after=after,
            limit=limit,
        )
        kept.put(key, version, page)
    return page


async def _discover(
    db: Database,
    *,
    now: datetime,
    near: GeoPoint | None,
    radius_km: int | None,
    domains: Sequence[str],
    date_from: datetime | None,
    date_to: datetime | None,
    after: Cursor | None,
    limit: int,
) -> DiscoveryPage:
    """Published missions with a future slot: those with a free place first (nearest first,
    remote ones after the local ones), then the full ones, whose waiting list one can still
    join; within the radius (None: everywhere); the page after the `after` cursor.

    Near a place, rings of growing size are read until this page and the next mission are
    settled: a mission beyond a ring can only come after the distance bands the ring fully
    covers, so the whole radius is read only when few missions match. A later page starts
    at the ring that settled the one before, and the list goes on in four runs (open local,
    open remote, full local, full remote): a run the cursor is past is not read at all."""
    search = _Search(
        start=date_from if date_from is not None and date_from > now else now,
        date_to=date_to,
        domains=tuple(domains),
    )
    key = None if after is None else after.key
    wanted = limit + 1  # one more tells whether there is a next page
    reach = float(RING_START_KM) if after is None else after.reach
    async with db.reading("discover") as conn:
        if near is None:
            rows = await _summaries_of(conn, search, "all")
            ranked = sorted((_ranked(_Found.summed(row, None)) for row in rows), key=_rank)
            return await _page(conn, search, _past(ranked, key), limit, reach, counted=True)
        listed: list[Ranked] = []
        whole: list[Ranked] | None = None  # the whole radius, once read
        if key is None or key[:2] < (False, True):
            # Those nearer than the cursor's band come before it: a later page skips them,
            # and reads the full ones near the centre only if it gets to them.
            beyond = 0.0 if key is None else key[2] * BAND_KM
            inside = -1  # open ones in the ring before
            nearest = NEAREST_FIRST
            while True:
                done = reach >= (EVERYWHERE_KM if radius_km is None else radius_km)
                within = float(radius_km) if radius_km is not None and done else reach
                ring = await _local(
                    conn,
                    search,
                    near,
                    None if done and radius_km is None else within,
                    beyond,
                    nearest,
                )
                if done and ring.complete:
                    whole = ring.ranked if beyond == 0 else None
                    break
                covered_bands = ring.cover_km // BAND_KM
                settled = [
                    r for r in _past(ring.ranked, key) if not r[1].full and r[0][2] < covered_bands
                ]
                if len(settled) >= wanted:
                    return await _page(conn, search, settled, limit, reach, counted=False)
                if not ring.complete:  # the same ring, further out
                    nearest = _more_nearest(nearest, ring.cover_km)
                    continue
                found = sum(1 for r in _past(ring.ranked, key) if not r[1].full)
                # A ring holding no more than the one inside it says the missions thin out
                # (a commune's few, all near its centre): the next one is as much wider as
                # after an empty ring, instead of creeping out by the area's rule.
                thinning = found <= inside
                inside = found
                reach *= RING_GROWTH if thinning else _growth(found, wanted)
            listed = [r for r in _past(ring.ranked, key) if not r[1].full]
        counted = True
        full_remote: list[Ranked] | None = None  # all of them, when read on the way
        if key is None or key[:2] < (True, False):
            read = await _remote(conn, search, wanted, key, full=False)
            listed += read.cards
            counted, full_remote = read.every, read.others
        if key is None or key[:2] < (True, True):
            if len(listed) >= wanted:  # the page is settled: the full ones are not needed
                return await _page(conn, search, listed, limit, reach, counted=False)
            if whole is None:
                radius = None if radius_km is None else float(radius_km)
                whole = (await _local(conn, search, near, radius)).ranked
            listed += [r for r in _past(whole, key) if r[1].full]
        if full_remote is None:
            if len(listed) >= wanted:
                return await _page(conn, search, listed, limit, reach, counted=False)
            read = await _remote(conn, search, wanted, key, full=True)
            full_remote, counted = read.cards, counted and read.every
        listed += full_remote
        return await _page(conn, search, listed, limit, reach, counted=counted)


def _growth(found: int, wanted: int) -> float:
    """How much wider the next ring is, from the `found` open missions within this one: in
    dense places a ring four times wider would read sixteen times as many missions, and with
    filters that find few, a ring too narrow costs one more read."""
    if found == 0:
        return RING_GROWTH
    return min(max(math.sqrt(wanted / found) * RING_MARGIN, MIN_RING_GROWTH), RING_GROWTH)


def _more_nearest(nearest: int, cover_km: float) -> int:
    """How many of the nearest to read after `nearest` of them reached only `cover_km`: as
    many as reach the next distance band at the density found (their number grows with the
    area), with a margin."""
    edge = (cover_km // BAND_KM + 1) * BAND_KM / FLAT_SHARE
    needed = nearest * (edge / max(cover_km, 0.1)) ** 2 * RING_MARGIN
    return math.ceil(min(max(needed, 2 * nearest), NEAREST_GROWTH_MAX * nearest))


def _past(ranked: list[Ranked], key: Key | None) -> list[Ranked]:
    """The missions ranked after the cursor's."""
    return ranked if key is None else [r for r in ranked if r[0] > key]


async def _page(
    conn: AsyncConnection,
    search: _Search,
    listed: list[Ranked],
    limit: int,
    reach: float,
    *,
    counted: bool,
) -> DiscoveryPage:
    """`listed` ranked from the cursor on; `counted` when it holds every matching one. The
    page's local missions are summed here, in one read."""
    shown = listed[:limit]
    summaries: dict[int, Row[Any]] = {}
    unsummed = [found.id for _, found in shown if found.summary is None]
    if unsummed:
        rows = await _summaries_of(conn, search, "ids", ids=unsummed)
        summaries = {row.id: row for row in rows}
    cards: list[MissionCard] = []
    cursors: list[Cursor] = []
    for key, found in shown:
        summary = found.summary or summaries.get(found.id)
        if summary is None:  # unpublished, or its slots moved, between the two reads
            continue
        cards.append(found.card(summary))
        cursors.append(Cursor(key, reach))
    return DiscoveryPage(
        cards=tuple(cards),
        total=len(listed) if counted else None,
        more=len(listed) > limit,
        cursors=tuple(cursors),
    )


def _aware(value: datetime | str) -> datetime:
    if isinstance(value, str):  # SQLite aggregates lose the column type
        value = datetime.fromisoformat(value)
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


async def fetch_detail(conn: AsyncConnection, mission_id: int) -> MissionDetail:
    m, s, o = schema.missions, schema.slots, schema.organisations
    row = (
        await conn.execute(
            select(m, o.c.name.label("organisation_name"))
            .join(o, o.c.id == m.c.organisation_id)
            .where(m.c.id == mission_id)
        )
    ).first()
    if row is None:
        raise NotFound("mission_not_found")
    slot_rows = (
        await conn.execute(
            select(s)
            .where(s.c.mission_id == mission_id, s.c.cancelled_at.is_(None))
            .order_by(s.c.starts_at, s.c.id)
        )
    ).all()
    point = None if row.latitude is None else GeoPoint(row.latitude, row.longitude)
    return MissionDetail(
        id=row.id,
        title=row.title,
        description=row.description,
        domain=row.domain,
        status=MissionStatus(row.status),
        organisation_id=row.organisation_id,
        organisation_name=row.organisation_name,
        address=row.address,
        postcode=row.postcode,
        point=point,
        remote=row.remote,
        timezone=row.timezone,
        slots=tuple(
            SlotView(r.id, r.mission_id, r.starts_at, r.ends_at, r.capacity, r.taken, r.waitlisted)
            for r in slot_rows
        ),
        conditions=tuple(row.conditions or ()),
    )


async def mission_detail(db: Database, mission_id: int) -> MissionDetail:
    async with db.reading("mission_detail") as conn:
        return await fetch_detail(conn, mission_id)


async def upcoming_slots(
    db: Database, mission_ids: Sequence[int], now: datetime
) -> dict[int, list[SlotView]]:
    """The slots of each mission still to start, soonest first, as its detail lists them:
    one read for a whole page of missions."""
    s = schema.slots
    found: dict[int, list[SlotView]] = {mission_id: [] for mission_id in mission_ids}
    if not found:
        return found
    async with db.reading("upcoming_slots") as conn:
        rows = (
            await conn.execute(
                select(s)
                .where(
                    s.c.mission_id.in_(list(found)),
                    s.c.cancelled_at.is_(None),
                    s.c.starts_at > now,
                )
                .order_by(s.c.mission_id, s.c.starts_at, s.c.id)
            )
        ).all()
    for r in rows:
        found[r.mission_id].append(
            SlotView(r.id, r.mission_id, r.starts_at, r.ends_at, r.capacity, r.taken, r.waitlisted)
        )
    return found


async def mission_of_slot(db: Database, slot_id: int) -> MissionDetail:
    async with db.reading("mission_of_slot") as conn:
        mission_id = await conn.scalar(
            select(schema.slots.c.mission_id).where(schema.slots.c.id == slot_id)
        )
        if mission_id is None:
            raise NotFound("slot_not_found")
        return await fetch_detail(conn, int(mission_id))
