"""Coordinators change what is published: a mission's title, description or place, a slot's
times or capacity, new slots, cancelling a slot or the whole mission. Each call is one
transaction: the rule checks, the change, its audit row and a notification to everyone
concerned (applicants pending, approved or confirmed, and the waitlist), who read it in
their language on their channel.

The rule with referents: a mission still in review goes back to its referents with the
change, so they approve what will really be published. A published mission stays published
(people holding a place must hear of a new time at once, and pulling the mission from view
would strand them); the referents of its territory get the same notice as the volunteers,
so a change of place or date never happens behind their back."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Row, func, select
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.domain import (
    CANCEL_REASONS,
    GeoPoint,
    MissionStatus,
    Period,
)
from bot.notifications.mission_changes import (
    MissionCancelled,
    MissionChanged,
    SlotCancelled,
    SlotMoved,
)
from bot.services import audit, concerned, mission_store, review, slot_store
from bot.services.concerned import Holder
from bot.services.errors import Conflict, InvalidInput, NotFound
from bot.services.missions import MAX_CAPACITY, SlotView, count_taken
from bot.services.organisations import require_member
from bot.services.slots import apply_capacity
from storage import schema
from storage.database import Database, Inbound

A, S, M, P = schema.applications, schema.slots, schema.missions, schema.people


MAX_NEW_SLOTS = 60
REASON_LENGTH = 300
TITLE_LENGTH = (3, 200)
DESCRIPTION_LENGTH = 2000
PLACE_COLUMNS = frozenset({"address", "postcode", "latitude", "longitude", "remote"})
EDITABLE = (MissionStatus.DRAFT, MissionStatus.IN_REVIEW, MissionStatus.PUBLISHED)


@dataclass(frozen=True)
class NewPlace:
    """Where the mission now happens, already located by the caller."""

    address: str
    postcode: str | None
    point: GeoPoint | None
    remote: bool = False


@dataclass(frozen=True)
class Changed:
    """A mission after a change: its status and how many people were told."""

    mission_id: int
    title: str
    status: MissionStatus
    told: int


@dataclass(frozen=True)
class CapacityChanged:
    slot: SlotView
    offered: int  # new places offered to the waitlist
    moved: tuple[str, ...]  # first names moved back to the waiting list


@dataclass(frozen=True)
class EditableMission:
    id: int
    title: str
    status: MissionStatus
    next_start: datetime | None


# ---- reading ---------------------------------------------------------------------------


async def editable_missions(
    db: Database, *, actor_id: int, organisation_id: int, now: datetime
) -> list[EditableMission]:
    """The organisation's missions a coordinator can still change, soonest first."""
    upcoming = (
        select(func.min(S.c.starts_at))
        .where(S.c.mission_id == M.c.id, S.c.starts_at > now, S.c.cancelled_at.is_(None))
        .scalar_subquery()
    )
    async with db.reading("editable_missions") as conn:
        await require_member(conn, actor_id, organisation_id)
        rows = (
            await conn.execute(
                select(M.c.id, M.c.title, M.c.status, upcoming.label("next_start"))
                .where(M.c.organisation_id == organisation_id, M.c.status.in_(EDITABLE))
                .order_by(M.c.id.desc())
            )
        ).all()
    found = [
        EditableMission(r.id, r.title, MissionStatus(r.status), concerned.aware(r.next_start))
        for r in rows
    ]
    # Missions with a slot ahead first, by date; those without one (all past) last.
    far = datetime.max.replace(tzinfo=now.tzinfo)
    return sorted(found, key=lambda m: (m.next_start is None, m.next_start or far, m.id))


async def holders_of(db: Database, *, actor_id: int, slot_id: int) -> list[Holder]:
    """Who holds a place in the slot, the most recent first (the usual ones to move)."""
    # Reading the slot checks it exists and is the actor's to change.
    async with db.reading("slot_holders") as conn:
        await _slot(conn, db, slot_id, actor_id, lock=False)
        return await concerned.holders(conn, slot_id)


# ---- the changes -----------------------------------------------------------------------


async def edit_mission(
    db: Database,
    *,
    actor_id: int,
    mission_id: int,
    now: datetime,
    title: str | None = None,
    description: str | None = None,
    place: NewPlace | None = None,
    inbound: Inbound | None = None,
) -> Changed:
    """Change the title, the description or the place; everyone concerned is told."""
    values: dict[str, Any] = {}
    if title is not None:
        clean = " ".join(title.split())
        if not TITLE_LENGTH[0] <= len(clean) <= TITLE_LENGTH[1]:
            raise InvalidInput("title")
        values["title"] = clean
    if description is not None:
        if len(description.strip()) > DESCRIPTION_LENGTH:
            raise InvalidInput("description_length", most=DESCRIPTION_LENGTH)
        values["description"] = description.strip()
    if place is not None:
        if not place.remote and place.point is None:
            raise InvalidInput("place")
        values.update(
            address="" if place.remote else " ".join(place.address.split())[:300],
            postcode=place.postcode,
            latitude=None if place.point is None else place.point.latitude,
            longitude=None if place.point is None else place.point.longitude,
            remote=place.remote,
        )
    if not values:
        raise InvalidInput("nothing_to_change")
    async with db.transaction("edit_mission", inbound) as conn:
        mission = await _coordinated_mission(conn, db, mission_id, actor_id)
        before = {key: mission._mapping[key] for key in values}
        changed = {key: value for key, value in values.items() if before[key] != value}
        if not changed:
            return Changed(mission.id, mission.title, MissionStatus(mission.status), 0)
        await mission_store.change(conn, mission_id, changed)
        await audit.record(
            conn,
            "edit_mission",
            actor_id=actor_id,
            action="mission.edited",
            subject_type="mission",
            subject_id=mission_id,
            before={k: before[k] for k in changed},
            after=changed,
        )
        fields: list[str] = [f for f in ("title", "description") if f in changed]
        if PLACE_COLUMNS & set(changed):
            fields.append("address")
        what = {
            "changed": tuple(fields),
            "old_title": mission.title,
            "old_address": mission.address,
            "old_remote": bool(mission.remote),
        }
        told = await concerned.tell_everyone(
            conn,
            MissionChanged,
            now=now,
            mission_id=mission_id,
            extra=what,
            per_person=True,
            referents="address" in fields,
        )
        status = await _after_change(conn, mission, actor_id, "edit_mission")
        return Changed(mission_id, str(changed.get("title", mission.title)), status, told)


def _check_period(period: Period, now: datetime) -> None:
    """A slot's new or added times: in order, and still to come."""
    if period.ends_at <= period.starts_at:
        raise InvalidInput("slot_order")
    if period.starts_at <= now:
        raise InvalidInput("slot_past")


async def move_slot(
    db: Database,
    *,
    actor_id: int,
    slot_id: int,
    period: Period,
    now: datetime,
    inbound: Inbound | None = None,
) -> Changed:
    """New times for a slot: its people are told old → new, and their reminders and the
    'still coming?' question follow the new time."""
    _check_period(period, now)
    async with db.transaction("move_slot", inbound) as conn:
        slot = await _slot(conn, db, slot_id, actor_id)
        mission = await _mission(conn, db, slot.mission_id)
        if slot.starts_at <= now:
            raise Conflict("slot_started")
        if (slot.starts_at, slot.ends_at) == (period.starts_at, period.ends_at):
            return Changed(mission.id, mission.title, MissionStatus(mission.status), 0)
        await slot_store.move(conn, slot_id, period.starts_at, period.ends_at)
        await audit.record(
            conn,
            "move_slot",
            actor_id=actor_id,
            action="slot.moved",
            subject_type="slot",
            subject_id=slot_id,
            before=[slot.starts_at.isoformat(), slot.ends_at.isoformat()],
            after=[period.starts_at.isoformat(), period.ends_at.isoformat()],
        )
        people = await concerned.live_applications(conn, slot_ids=[slot_id])
        await concerned.reschedule(conn, [row.id for row in people])
        told = await concerned.tell_everyone(
            conn,
            SlotMoved,
            now=now,
            mission_id=mission.id,
            slot_ids=[slot_id],
            extra={
                "old_starts_at": slot.starts_at,
                "old_ends_at": slot.ends_at,
            },
            referents=True,
        )
        status = await _after_change(conn, mission, actor_id, "move_slot")
        return Changed(mission.id, mission.title, status, told)


async def add_slots(
    db: Database,
    *,
    actor_id: int,
    mission_id: int,
    periods: Sequence[Period],
    capacity: int,
    now: datetime,
    inbound: Inbound | None = None,
) -> Changed:
    """New slots for a mission (one, or a whole recurring series at once)."""
    if not periods:
        raise InvalidInput("slots")
    if len(periods) > MAX_NEW_SLOTS:
        raise InvalidInput("too_many_slots", most=MAX_NEW_SLOTS)
    if not 1 <= capacity <= MAX_CAPACITY:
        raise InvalidInput("capacity")
    for period in periods:
        _check_period(period, now)
    async with db.transaction("add_slots", inbound) as conn:
        mission = await _coordinated_mission(conn, db, mission_id, actor_id)
        existing = {
            (r.starts_at, r.ends_at)
            for r in await conn.execute(
                select(S.c.starts_at, S.c.ends_at).where(
                    S.c.mission_id == mission_id, S.c.cancelled_at.is_(None)
                )
            )
        }
        fresh = sorted({(p.starts_at, p.ends_at) for p in periods} - existing)
        if not fresh:
            raise Conflict("slots_exist")
        await slot_store.insert_slots(
            conn, mission_id, [(starts_at, ends_at, capacity) for starts_at, ends_at in fresh]
        )
        await audit.record(
            conn,
            "add_slots",
            actor_id=actor_id,
            action="slot.added",
            subject_type="mission",
            subject_id=mission_id,
            slots=[[a.isoformat(), b.isoformat()] for a, b in fresh],
            capacity=capacity,
        )
        status = await _after_change(conn, mission, actor_id, "add_slots")
        return Changed(mission.id, mission.title, status, 0)


async def change_capacity(
    db: Database,
    *,
    actor_id: int,
    slot_id: int,
    capacity: int,
    now: datetime,
    move: Sequence[int] = (),
    inbound: Inbound | None = None,
) -> CapacityChanged:
    """Raise (the new places go to the waitlist at once) or lower a slot's capacity. Below
    the places taken, open offers are withdrawn first, then the holders in `move` go back
    to the top of the waiting list and are told; too few chosen: Conflict with how many."""
    if not 1 <= capacity <= MAX_CAPACITY:
        raise InvalidInput("capacity")
    async with db.transaction("change_capacity", inbound) as conn:
        slot = await _slot(conn, db, slot_id, actor_id)
        if slot.starts_at <= now:
            raise Conflict("slot_started")
        moved: list[str] = []
        over = await count_taken(conn, slot_id) - capacity
        if over > 0:
            over -= await concerned.withdraw_offers(conn, slot_id, over)
        if over > 0:
            holders = {h.application_id: h for h in await concerned.holders(conn, slot_id)}
            chosen = [holders[i] for i in dict.fromkeys(move) if i in holders]
            if len(chosen) < over:
                raise Conflict("choose_who_moves", to_move=over)
            for holder in reversed(chosen[:over]):
                moved.append(holder.first_name)
                await concerned.back_to_waitlist(conn, holder, actor_id=actor_id)
            moved.reverse()
        view, offered = await apply_capacity(
            conn,
            db,
            slot,
            capacity,
            actor_id=actor_id,
            now=now,
            transaction="change_capacity",
            moved=len(moved),
        )
        return CapacityChanged(view, offered, tuple(moved))


async def cancel_slot(
    db: Database,
    *,
    actor_id: int,
    slot_id: int,
    reason: str,
    now: datetime,
    inbound: Inbound | None = None,
) -> Changed:
    """Cancel one slot with a reason (a key of CANCEL_REASONS or the coordinator's words);
    every application on it ends and its people are told why."""
    clean = _reason(reason)
    async with db.transaction("cancel_slot", inbound) as conn:
        slot = await _slot(conn, db, slot_id, actor_id)
        mission = await _mission(conn, db, slot.mission_id)
        if slot.ends_at <= now:
            raise Conflict("slot_over")
        told = await concerned.tell_everyone(
            conn,
            SlotCancelled,
            now=now,
            mission_id=mission.id,
            slot_ids=[slot_id],
            extra=_reason_payload(clean),
            referents=False,
        )
        await concerned.end_applications(conn, [slot_id], actor_id, "slot_cancelled")
        await concerned.stop_callouts(conn, db, [slot_id], actor_id, now, "cancel_slot")
        await slot_store.cancel(conn, slot_id, at=now, reason=clean)
        await audit.record(
            conn,
            "cancel_slot",
            actor_id=actor_id,
            action="slot.cancelled",
            subject_type="slot",
            subject_id=slot_id,
            reason=clean,
            told=told,
        )
        return Changed(mission.id, mission.title, MissionStatus(mission.status), told)


async def cancel_mission(
    db: Database,
    *,
    actor_id: int,
    mission_id: int,
    reason: str,
    now: datetime,
    inbound: Inbound | None = None,
) -> Changed:
    """Cancel the whole mission with a reason; everyone concerned is told once."""
    clean = _reason(reason)
    async with db.transaction("cancel_mission", inbound) as conn:
        mission = await _coordinated_mission(conn, db, mission_id, actor_id)
        slot_ids = [
            int(i)
            for i in await conn.scalars(
                select(S.c.id).where(
                    S.c.mission_id == mission_id, S.c.cancelled_at.is_(None), S.c.ends_at > now
                )
            )
        ]
        told = await concerned.tell_everyone(
            conn,
            MissionCancelled,
            now=now,
            mission_id=mission_id,
            slot_ids=slot_ids,
            extra=_reason_payload(clean),
            per_person=True,
            referents=False,
        )
        await concerned.end_applications(conn, slot_ids, actor_id, "mission_cancelled")
        await concerned.stop_callouts(conn, db, slot_ids, actor_id, now, "cancel_mission")
        await mission_store.change(
            conn,
            mission_id,
            {"status": MissionStatus.CANCELLED, "closed_at": now, "cancel_reason": clean},
        )
        await audit.record(
            conn,
            "cancel_mission",
            actor_id=actor_id,
            action="mission.cancelled",
            subject_type="mission",
            subject_id=mission_id,
            reason=clean,
            told=told,
        )
        return Changed(mission_id, mission.title, MissionStatus.CANCELLED, told)


# ---- inside the transactions -----------------------------------------------------------


async def _mission(conn: AsyncConnection, db: Database, mission_id: int) -> Row[Any]:
    locked = await conn.execute(db.lock_for_update(select(M.c.id).where(M.c.id == mission_id)))
    if locked.first() is None:
        raise NotFound("mission_not_found")
    row = (await conn.execute(select(M).where(M.c.id == mission_id))).one()
    if row.status not in EDITABLE:
        raise Conflict("mission_closed")
    return row


async def _coordinated_mission(
    conn: AsyncConnection, db: Database, mission_id: int, actor_id: int
) -> Row[Any]:
    """The mission, locked and still editable, when the actor coordinates its organisation."""
    mission = await _mission(conn, db, mission_id)
    await require_member(conn, actor_id, mission.organisation_id)
    return mission


async def _slot(
    conn: AsyncConnection, db: Database, slot_id: int, actor_id: int, *, lock: bool = True
) -> Row[Any]:
    """The slot, not cancelled (locked unless only read), when the actor coordinates its
    organisation."""
    query = (
        select(S, M.c.organisation_id)
        .join(M, M.c.id == S.c.mission_id)
        .where(S.c.id == slot_id, S.c.cancelled_at.is_(None))
    )
    row = (await conn.execute(db.lock_for_update(query) if lock else query)).first()
    if row is None:
        raise NotFound("slot_not_found")
    await require_member(conn, actor_id, row.organisation_id)
    return row


def _reason(reason: str) -> str:
    clean = " ".join(reason.split())
    if len(clean) > REASON_LENGTH:
        raise InvalidInput("reason_length", most=REASON_LENGTH)
    if not clean:
        raise InvalidInput("reason")
    return clean


def _reason_payload(reason: str) -> dict[str, Any]:
    """A picked reason travels as its key, so each person reads it in their language."""
    if reason in CANCEL_REASONS:
        return {"reason_key": reason}
    return {"reason": reason}


async def _after_change(
    conn: AsyncConnection, mission: Row[Any], actor_id: int, transaction: str
) -> MissionStatus:
    """A mission in review goes back to its referents with the change (module doc)."""
    if mission.status == MissionStatus.IN_REVIEW:
        await review.submit(conn, mission.id, actor_id=actor_id, transaction=transaction)
    return MissionStatus(mission.status)
