"""Where a new mission goes: published at once, or to the referents of its territory.

A referent covers a postcode prefix or a département ("52", "521", "2A"). With one covering
the mission's postcode (or its organisation's), a new mission waits in review, unless it was
made from a template by a verified organisation that lets template missions skip review.
Used inside the caller's transaction by every way of creating a mission."""

from __future__ import annotations

import difflib
from datetime import datetime
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.domain import GeoPoint, MissionStatus
from bot.geo import fold, haversine_km
from bot.messaging import outbox
from bot.notifications.moderation import DuplicateHint, MissionReview, ReviewSlot
from bot.services import audit, mission_store
from storage import schema

DUPLICATE_RADIUS_KM = 2.0
DUPLICATE_TITLE_RATIO = 0.8
MAX_HINTS = 3
# Corsica's départements are letters, its postcodes start with 20.
CORSICA = {"2A": "20", "2B": "20"}


def normalise_territory(text: str) -> str | None:
    """A postcode prefix (2 to 5 digits) or a département, in the form stored; None if not."""
    value = text.strip().upper()
    if value in CORSICA or (value.isascii() and value.isdigit() and 2 <= len(value) <= 5):
        return value
    return None


def covers(territory: str, postcode: str | None) -> bool:
    return bool(postcode) and str(postcode).startswith(CORSICA.get(territory, territory))


async def referents_for(conn: AsyncConnection, postcode: str | None) -> list[int]:
    """The people who review missions at this postcode."""
    if not postcode:
        return []
    r = schema.referents
    rows = (await conn.execute(select(r.c.person_id, r.c.territory))).all()
    return sorted({row.person_id for row in rows if covers(row.territory, postcode)})


async def territory_postcode(conn: AsyncConnection, mission_id: int) -> str | None:
    """The postcode deciding who reviews a mission: its own, else its organisation's."""
    m, o = schema.missions, schema.organisations
    row = (
        await conn.execute(
            select(m.c.postcode, o.c.postcode.label("organisation_postcode"))
            .join(o, o.c.id == m.c.organisation_id)
            .where(m.c.id == mission_id)
        )
    ).first()
    return None if row is None else (row.postcode or row.organisation_postcode)


async def organisation_postcode(conn: AsyncConnection, organisation_id: int) -> str | None:
    o = schema.organisations
    value = await conn.scalar(select(o.c.postcode).where(o.c.id == organisation_id))
    return None if value is None else str(value)


async def may_launch_callouts(conn: AsyncConnection, organisation_id: int) -> bool:
    """Verified organisations may; so may any where no referent covers the territory."""
    o = schema.organisations
    row = (
        await conn.execute(select(o.c.verified, o.c.postcode).where(o.c.id == organisation_id))
    ).first()
    if row is None:
        return False
    return bool(row.verified) or not await referents_for(conn, row.postcode)


async def initial_status(
    conn: AsyncConnection, organisation_id: int, postcode: str | None, template_id: int | None
) -> MissionStatus:
    """Published, or in review when a referent covers the place (see the module's doc)."""
    o = schema.organisations
    row = (
        await conn.execute(
            select(o.c.verified, o.c.templates_skip_review, o.c.postcode).where(
                o.c.id == organisation_id
            )
        )
    ).first()
    if row is None:
        return MissionStatus.PUBLISHED
    if template_id is not None and row.verified and row.templates_skip_review:
        return MissionStatus.PUBLISHED
    if await referents_for(conn, postcode or row.postcode):
        return MissionStatus.IN_REVIEW
    return MissionStatus.PUBLISHED


async def submit(
    conn: AsyncConnection, mission_id: int, *, actor_id: int | None, transaction: str
) -> list[int]:
    """Put a mission in review and send it to its referents; returns their person ids."""
    await mission_store.change(
        conn,
        mission_id,
        {
            "status": MissionStatus.IN_REVIEW,
            "submitted_at": schema.now(),
            "review_reminded_at": None,
        },
    )
    referents = await referents_for(conn, await territory_postcode(conn, mission_id))
    review = await mission_review(conn, mission_id)
    for person_id in referents:
        await outbox.enqueue(conn, review, person_id=person_id)
    await audit.record(
        conn,
        transaction,
        actor_id=actor_id,
        action="mission.submitted",
        subject_type="mission",
        subject_id=mission_id,
        referents=referents,
    )
    return referents


async def mission_review(
    conn: AsyncConnection, mission_id: int, *, waiting_days: int | None = None
) -> MissionReview:
    """What a referent reads: the mission, its slots, and likely duplicates."""
    m, o, s = schema.missions, schema.organisations, schema.slots
    row = (
        await conn.execute(
            select(m, o.c.name.label("organisation_name"), o.c.verified)
            .join(o, o.c.id == m.c.organisation_id)
            .where(m.c.id == mission_id)
        )
    ).one()
    slots = (
        await conn.execute(
            select(s.c.starts_at, s.c.ends_at, s.c.capacity)
            .where(s.c.mission_id == mission_id)
            .order_by(s.c.starts_at)
        )
    ).all()
    first = slots[0] if slots else None
    hints = await duplicate_hints(conn, row, [(r.starts_at, r.ends_at) for r in slots])
    return MissionReview(
        mission_id=mission_id,
        mission_title=row.title,
        description=row.description,
        organisation_name=row.organisation_name,
        organisation_verified=bool(row.verified),
        address=row.address,
        postcode=row.postcode,
        remote=row.remote,
        timezone=row.timezone,
        starts_at=first.starts_at if first else None,
        ends_at=first.ends_at if first else None,
        slots=tuple(
            ReviewSlot(starts_at=r.starts_at, ends_at=r.ends_at, capacity=r.capacity) for r in slots
        ),
        duplicates=tuple(DuplicateHint.from_payload(hint) for hint in hints),
        waiting_days=waiting_days,
    )


def similar_titles(a: str, b: str) -> bool:
    return difflib.SequenceMatcher(None, fold(a), fold(b)).ratio() >= DUPLICATE_TITLE_RATIO


async def duplicate_hints(
    conn: AsyncConnection, mission: Any, periods: list[tuple[datetime, datetime]]
) -> list[dict[str, Any]]:
    """Missions in review or published, by the same organisation or within 2 km, with a
    similar title and dates overlapping this one's."""
    if not periods:
        return []
    m, o, s = schema.missions, schema.organisations, schema.slots
    start, end = min(p[0] for p in periods), max(p[1] for p in periods)
    near = None if mission.latitude is None else GeoPoint(mission.latitude, mission.longitude)
    place = [m.c.organisation_id == mission.organisation_id]
    if near is not None:
        place.append(m.c.latitude.is_not(None))
    rows = (
        await conn.execute(
            select(
                m.c.id,
                m.c.title,
                m.c.organisation_id,
                m.c.latitude,
                m.c.longitude,
                o.c.name.label("organisation_name"),
            )
            .distinct()
            .join(o, o.c.id == m.c.organisation_id)
            .join(s, s.c.mission_id == m.c.id)
            .where(
                m.c.id != mission.id,
                m.c.status.in_([MissionStatus.IN_REVIEW, MissionStatus.PUBLISHED]),
                or_(*place),
                s.c.starts_at < end,
                s.c.ends_at > start,
            )
            .order_by(m.c.id)
        )
    ).all()
    hints = []
    for row in rows:
        close = row.organisation_id == mission.organisation_id or (
            near is not None
            and row.latitude is not None
            and haversine_km(near, GeoPoint(row.latitude, row.longitude)) <= DUPLICATE_RADIUS_KM
        )
        if close and similar_titles(row.title, mission.title):
            hints.append(
                {"mission_id": row.id, "title": row.title, "organisation": row.organisation_name}
            )
    return hints[:MAX_HINTS]
