"""Missions and their slots: creating them, and discovering the ones near a volunteer."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, Row, and_, func, insert, or_, select
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.domain import DOMAINS, HOLDING, ApplicationStatus, GeoPoint, MissionStatus
from bot.geo import bounding_box, haversine_km
from bot.services import audit, reactivity, review
from bot.services.errors import InvalidInput, NotFound
from bot.services.organisations import require_member
from storage import schema
from storage.database import Database, Inbound

MAX_CAPACITY = 10_000
BAND_KM = 2  # discovery: missions this close in distance count as equally near


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


@dataclass(frozen=True)
class DiscoveryPage:
    cards: tuple[MissionCard, ...]
    total: int
    offset: int


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
    result = await conn.execute(
        insert(schema.missions)
        .values(
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
        )
        .returning(schema.missions.c.id)
    )
    mission_id = int(result.scalar_one())
    await conn.execute(
        insert(schema.slots),
        [
            {
                "mission_id": mission_id,
                "starts_at": s.starts_at,
                "ends_at": s.ends_at,
                "capacity": s.capacity,
                "created_at": schema.now(),
            }
            for s in spec.slots
        ],
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


def takes_a_place() -> ColumnElement[bool]:
    """Applications counted against capacity: holding ones, and waitlisted ones with an
    open offer, which reserves the freed place until they answer."""
    a = schema.applications
    return or_(
        a.c.status.in_([str(s) for s in HOLDING]),
        and_(a.c.status == ApplicationStatus.WAITLISTED, a.c.offer_expires_at.is_not(None)),
    )


def _taken_subquery() -> Any:
    a = schema.applications
    return (
        select(a.c.slot_id, func.count().label("taken"))
        .where(takes_a_place())
        .group_by(a.c.slot_id)
        .subquery("taken")
    )


async def count_taken(conn: AsyncConnection, slot_id: int) -> int:
    a = schema.applications
    return int(
        await conn.scalar(select(func.count()).where(a.c.slot_id == slot_id, takes_a_place())) or 0
    )


async def discover(
    db: Database,
    *,
    now: datetime,
    near: GeoPoint | None,
    radius_km: int | None,
    domains: Sequence[str] = (),
    date_from: datetime | None = None,
    date_to: datetime | None = None,
    offset: int = 0,
    limit: int = 5,
) -> DiscoveryPage:
    """Published missions with a free place in a future slot: nearest first, remote ones
    after the local ones, within the radius (None: everywhere)."""
    m, s, o = schema.missions, schema.slots, schema.organisations
    taken = _taken_subquery()
    free = s.c.capacity - func.coalesce(taken.c.taken, 0)
    conditions: list[Any] = [
        m.c.status == MissionStatus.PUBLISHED,
        s.c.starts_at > (date_from if date_from and date_from > now else now),
        free > 0,
    ]
    if date_to is not None:
        conditions.append(s.c.starts_at < date_to)
    if domains:
        conditions.append(m.c.domain.in_(list(domains)))
    if near is not None and radius_km is not None:
        lat_min, lat_max, lon_min, lon_max = bounding_box(near, radius_km)
        conditions.append(
            or_(
                m.c.remote.is_(True),
                and_(
                    m.c.latitude.between(lat_min, lat_max),
                    m.c.longitude.between(lon_min, lon_max),
                ),
            )
        )
    query = (
        select(
            m.c.id,
            m.c.title,
            m.c.domain,
            m.c.organisation_id,
            o.c.name.label("organisation_name"),
            m.c.address,
            m.c.postcode,
            m.c.remote,
            m.c.timezone,
            m.c.latitude,
            m.c.longitude,
            func.min(s.c.starts_at).label("next_start"),
            func.sum(free).label("free_places"),
            func.count(s.c.id).label("open_slots"),
        )
        .select_from(
            m.join(s, s.c.mission_id == m.c.id)
            .join(o, o.c.id == m.c.organisation_id)
            .outerjoin(taken, taken.c.slot_id == s.c.id)
        )
        .where(*conditions)
        .group_by(m.c.id, o.c.name)
    )
    async with db.reading("discover") as conn:
        rows = (await conn.execute(query)).all()
        cards = [_card(row, near) for row in rows]
        if near is not None and radius_km is not None:
            cards = [c for c in cards if c.remote or (c.distance_km or 0) <= radius_km]
        score = await reactivity.scores(conn, sorted({c.organisation_id for c in cards}), now=now)

    def order(card: MissionCard) -> tuple[int, float, int, float, datetime]:
        # Within the same 2 km band, organisations that answer quickly come first.
        distance = card.distance_km if card.distance_km is not None else float("inf")
        band = distance // BAND_KM if distance != float("inf") else distance
        reactive = -score[card.organisation_id]
        return (1 if card.remote else 0, band, reactive, distance, card.next_start)

    cards.sort(key=order)
    return DiscoveryPage(tuple(cards[offset : offset + limit]), len(cards), offset)


def _card(row: Row[Any], near: GeoPoint | None) -> MissionCard:
    distance = None
    if near is not None and not row.remote and row.latitude is not None:
        distance = haversine_km(near, GeoPoint(row.latitude, row.longitude))
    next_start = row.next_start
    if isinstance(next_start, str):  # SQLite aggregates lose the column type
        next_start = datetime.fromisoformat(next_start)
    if next_start.tzinfo is None:
        next_start = next_start.replace(tzinfo=ZoneInfo("UTC"))
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
        distance_km=distance,
        next_start=next_start,
        free_places=int(row.free_places),
        open_slots=int(row.open_slots),
    )


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
    taken = _taken_subquery()
    slot_rows = (
        await conn.execute(
            select(s, func.coalesce(taken.c.taken, 0).label("taken"))
            .outerjoin(taken, taken.c.slot_id == s.c.id)
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
            SlotView(r.id, r.mission_id, r.starts_at, r.ends_at, r.capacity, int(r.taken))
            for r in slot_rows
        ),
        conditions=tuple(row.conditions or ()),
    )


async def mission_detail(db: Database, mission_id: int) -> MissionDetail:
    async with db.reading("mission_detail") as conn:
        return await fetch_detail(conn, mission_id)


async def mission_of_slot(db: Database, slot_id: int) -> MissionDetail:
    async with db.reading("mission_of_slot") as conn:
        mission_id = await conn.scalar(
            select(schema.slots.c.mission_id).where(schema.slots.c.id == slot_id)
        )
        if mission_id is None:
            raise NotFound("slot_not_found")
        return await fetch_detail(conn, int(mission_id))
