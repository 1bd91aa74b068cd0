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
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Row, func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.domain import (
    ACTIVE,
    CANCEL_REASONS,
    HOLDING,
    ApplicationStatus,
    GeoPoint,
    MissionStatus,
    Period,
)
from bot.messaging.outbox import enqueue
from bot.scheduler.attendance import ATTENDANCE_CHECK
from bot.scheduler.reminders import REMINDER_DAY_BEFORE, REMINDER_HOURS_BEFORE
from bot.services import applications, audit, callout_waves, offers, review
from bot.services.callout_views import lock_callout
from bot.services.errors import Conflict, InvalidInput, NotFound
from bot.services.missions import MAX_CAPACITY, SlotView, count_taken
from bot.services.organisations import require_member
from storage import schema
from storage.database import Database, Inbound

A, S, M, P = schema.applications, schema.slots, schema.missions, schema.people

MISSION_CHANGED = "mission_changed"
SLOT_MOVED = "slot_moved"
SLOT_CANCELLED = "slot_cancelled"
MISSION_CANCELLED = "mission_cancelled"
MOVED_TO_WAITLIST = "moved_to_waitlist"

MAX_NEW_SLOTS = 60
REASON_LENGTH = 300
TITLE_LENGTH = (3, 200)
DESCRIPTION_LENGTH = 2000
# Keys of scheduled messages about one application that a new time must let go again.
RESCHEDULED_KINDS = (REMINDER_DAY_BEFORE, REMINDER_HOURS_BEFORE, ATTENDANCE_CHECK)
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
class Holder:
    """Someone holding a place in a slot, as the coordinator picks whom to move."""

    application_id: int
    first_name: str
    status: ApplicationStatus


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
        EditableMission(r.id, r.title, MissionStatus(r.status), _aware(r.next_start)) for r in rows
    ]
    # Missions with a slot ahead first, by date; those without one (all past) last.
    far = datetime.max.replace(tzinfo=now.tzinfo)
    return sorted(found, key=lambda m: (m.next_start is None, m.next_start or far, m.id))


def _aware(value: Any) -> datetime | None:
    if value is None:
        return None
    if isinstance(value, str):  # SQLite aggregates lose the column type
        value = datetime.fromisoformat(value)
    assert isinstance(value, datetime)
    return value if value.tzinfo is not None else value.replace(tzinfo=schema.now().tzinfo)


async def holders_of(db: Database, *, actor_id: int, slot_id: int) -> list[Holder]:
    """Who holds a place in the slot, the most recent first (the usual ones to move)."""
    async with db.reading("slot_holders") as conn:
        slot = await _slot(conn, db, slot_id, lock=False)
        await require_member(conn, actor_id, slot.organisation_id)
        return await _holders(conn, slot_id)


async def _holders(conn: AsyncConnection, slot_id: int) -> list[Holder]:
    rows = (
        await conn.execute(
            select(A.c.id, A.c.status, P.c.first_name)
            .join(P, P.c.id == A.c.person_id)
            .where(A.c.slot_id == slot_id, A.c.status.in_([str(s) for s in HOLDING]))
            .order_by(A.c.created_at.desc(), A.c.id.desc())
        )
    ).all()
    return [Holder(r.id, r.first_name or "?", ApplicationStatus(r.status)) for r in rows]


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
        values["description"] = description.strip()[:DESCRIPTION_LENGTH]
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
        mission = await _mission(conn, db, mission_id)
        await require_member(conn, actor_id, mission.organisation_id)
        before = {key: mission._mapping[key] for key in values}
        changed = {key: value for key, value in values.items() if before[key] != value}
        if not changed:
            return Changed(mission.id, mission.title, MissionStatus(mission.status), 0)
        await conn.execute(update(M).where(M.c.id == mission_id).values(**changed))
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
            "changed": fields,
            "old_title": mission.title,
            "old_address": mission.address,
            "old_remote": bool(mission.remote),
        }
        told = await _tell_everyone(
            conn,
            MISSION_CHANGED,
            now=now,
            mission_id=mission_id,
            extra=what,
            per_person=True,
            referents="address" in fields,
        )
        status = await _after_change(conn, mission, actor_id, "edit_mission")
        return Changed(mission_id, str(changed.get("title", mission.title)), status, told)


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
    if period.ends_at <= period.starts_at:
        raise InvalidInput("slot_order")
    if period.starts_at <= now:
        raise InvalidInput("slot_past")
    async with db.transaction("move_slot", inbound) as conn:
        slot = await _slot(conn, db, slot_id)
        await require_member(conn, actor_id, slot.organisation_id)
        mission = await _mission(conn, db, slot.mission_id)
        if slot.starts_at <= now:
            raise Conflict("slot_started")
        if (slot.starts_at, slot.ends_at) == (period.starts_at, period.ends_at):
            return Changed(mission.id, mission.title, MissionStatus(mission.status), 0)
        await conn.execute(
            update(S)
            .where(S.c.id == slot_id)
            .values(starts_at=period.starts_at, ends_at=period.ends_at)
        )
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
        people = await _concerned(conn, slot_ids=[slot_id])
        await reschedule(conn, [row.id for row in people])
        told = await _tell_everyone(
            conn,
            SLOT_MOVED,
            now=now,
            mission_id=mission.id,
            slot_ids=[slot_id],
            extra={
                "old_starts_at": slot.starts_at.isoformat(),
                "old_ends_at": slot.ends_at.isoformat(),
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
        if period.ends_at <= period.starts_at:
            raise InvalidInput("slot_order")
        if period.starts_at <= now:
            raise InvalidInput("slot_past")
    async with db.transaction("add_slots", inbound) as conn:
        mission = await _mission(conn, db, mission_id)
        await require_member(conn, actor_id, mission.organisation_id)
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
        await conn.execute(
            insert(S),
            [
                {
                    "mission_id": mission_id,
                    "starts_at": starts_at,
                    "ends_at": ends_at,
                    "capacity": capacity,
                    "created_at": schema.now(),
                }
                for starts_at, ends_at in fresh
            ],
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
        slot = await _slot(conn, db, slot_id)
        await require_member(conn, actor_id, slot.organisation_id)
        if slot.starts_at <= now:
            raise Conflict("slot_started")
        moved: list[str] = []
        over = await count_taken(conn, slot_id) - capacity
        if over > 0:
            over -= await _withdraw_offers(conn, slot_id, over)
        if over > 0:
            holders = {h.application_id: h for h in await _holders(conn, slot_id)}
            chosen = [holders[i] for i in dict.fromkeys(move) if i in holders]
            if len(chosen) < over:
                raise Conflict("choose_who_moves", to_move=over)
            for holder in reversed(chosen[:over]):
                moved.append(holder.first_name)
                await _back_to_waitlist(conn, holder, actor_id=actor_id)
            moved.reverse()
        if capacity != slot.capacity:
            await conn.execute(update(S).where(S.c.id == slot_id).values(capacity=capacity))
            await audit.record(
                conn,
                "change_capacity",
                actor_id=actor_id,
                action="slot.capacity",
                subject_type="slot",
                subject_id=slot_id,
                before=slot.capacity,
                after=capacity,
                moved=len(moved),
            )
        offered = 0
        if capacity > slot.capacity:
            offered = await offers.offer_free_places(
                conn, db, slot_id=slot_id, now=now, transaction="change_capacity"
            )
        taken = await count_taken(conn, slot_id)
        view = SlotView(slot.id, slot.mission_id, slot.starts_at, slot.ends_at, capacity, taken)
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
        slot = await _slot(conn, db, slot_id)
        await require_member(conn, actor_id, slot.organisation_id)
        mission = await _mission(conn, db, slot.mission_id)
        if slot.ends_at <= now:
            raise Conflict("slot_over")
        told = await _tell_everyone(
            conn,
            SLOT_CANCELLED,
            now=now,
            mission_id=mission.id,
            slot_ids=[slot_id],
            extra=_reason_payload(clean),
            referents=False,
        )
        await _end_applications(conn, [slot_id], actor_id, "slot_cancelled")
        await _stop_callouts(conn, db, [slot_id], actor_id, now, "cancel_slot")
        await conn.execute(
            update(S)
            .where(S.c.id == slot_id)
            .values(capacity=0, cancelled_at=now, cancel_reason=clean)
        )
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
        mission = await _mission(conn, db, mission_id)
        await require_member(conn, actor_id, mission.organisation_id)
        slot_ids = [
            int(i)
            for i in await conn.scalars(
                select(S.c.id).where(
                    S.c.mission_id == mission_id, S.c.cancelled_at.is_(None), S.c.ends_at > now
                )
            )
        ]
        told = await _tell_everyone(
            conn,
            MISSION_CANCELLED,
            now=now,
            mission_id=mission_id,
            slot_ids=slot_ids,
            extra=_reason_payload(clean),
            per_person=True,
            referents=False,
        )
        await _end_applications(conn, slot_ids, actor_id, "mission_cancelled")
        await _stop_callouts(conn, db, slot_ids, actor_id, now, "cancel_mission")
        await conn.execute(
            update(M)
            .where(M.c.id == mission_id)
            .values(status=MissionStatus.CANCELLED, closed_at=now, cancel_reason=clean)
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


async def _slot(
    conn: AsyncConnection, db: Database, slot_id: int, *, lock: bool = True
) -> Row[Any]:
    query = (
        select(S, M.c.organisation_id)
        .join(M, M.c.id == S.c.mission_id)
        .where(S.c.id == slot_id, S.c.cancelled_at.is_(None))
    )
    row = (await conn.execute(db.lock_for_update(query) if lock else query)).first()
    if row is None:
        raise NotFound("slot_not_found")
    return row


def _reason(reason: str) -> str:
    clean = " ".join(reason.split())[:REASON_LENGTH]
    if not clean:
        raise InvalidInput("reason")
    return clean


async def _stop_callouts(
    conn: AsyncConnection,
    db: Database,
    slot_ids: Sequence[int],
    actor_id: int,
    now: datetime,
    transaction: str,
) -> None:
    """A crisis callout for a cancelled slot stops asking people to come."""
    c = schema.callouts
    found = await conn.scalars(
        select(c.c.id).where(
            c.c.slot_id.in_(list(slot_ids)), c.c.status.in_(("active", "exhausted"))
        )
    )
    for callout_id in list(found):
        row = await lock_callout(conn, db, int(callout_id))
        await callout_waves.close(
            conn, row, "stopped", actor_id=actor_id, now=now, transaction=transaction
        )


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


async def _concerned(conn: AsyncConnection, *, slot_ids: Sequence[int]) -> list[Row[Any]]:
    """Live applications on the slots: pending, approved, confirmed and waitlisted."""
    if not slot_ids:
        return []
    return list(
        (
            await conn.execute(
                select(A.c.id, A.c.person_id, A.c.status, A.c.slot_id, S.c.starts_at)
                .join(S, S.c.id == A.c.slot_id)
                .where(A.c.slot_id.in_(list(slot_ids)), A.c.status.in_([str(s) for s in ACTIVE]))
                .order_by(S.c.starts_at, A.c.id)
            )
        ).all()
    )


async def _tell_everyone(
    conn: AsyncConnection,
    kind: str,
    *,
    mission_id: int,
    extra: dict[str, Any],
    now: datetime,
    slot_ids: Sequence[int] | None = None,
    per_person: bool = False,
    referents: bool,
) -> int:
    """One notification per live application on a slot still ahead (or per person, about
    their first slot); with `referents`, the territory's referents of a published mission
    get it too."""
    if slot_ids is None:
        slot_ids = [
            int(i)
            for i in await conn.scalars(
                select(S.c.id)
                .where(S.c.mission_id == mission_id, S.c.cancelled_at.is_(None), S.c.ends_at > now)
                .order_by(S.c.starts_at, S.c.id)
            )
        ]
    rows = await _concerned(conn, slot_ids=slot_ids)
    seen: set[int] = set()
    for row in rows:
        if per_person and row.person_id in seen:
            continue
        seen.add(row.person_id)
        view = await applications.fetch_application(conn, row.id)
        payload = applications._snapshot(view) | {"status": str(view.status)} | extra
        await enqueue(conn, kind, person_id=row.person_id, payload=payload)
    told = len(rows) if not per_person else len(seen)
    status = await conn.scalar(select(M.c.status).where(M.c.id == mission_id))
    if referents and status == MissionStatus.PUBLISHED and slot_ids:
        postcode = await review.territory_postcode(conn, mission_id)
        payload = await _slot_snapshot(conn, slot_ids[0]) | extra | {"to_referent": True}
        for person_id in await review.referents_for(conn, postcode):
            if person_id not in seen:
                await enqueue(conn, kind, person_id=person_id, payload=payload)
    return told


async def _slot_snapshot(conn: AsyncConnection, slot_id: int) -> dict[str, Any]:
    """What a notification about a slot needs when nobody's application is behind it."""
    o = schema.organisations
    row = (
        await conn.execute(
            select(S.c.starts_at, S.c.ends_at, M, o.c.name.label("organisation_name"))
            .join(M, M.c.id == S.c.mission_id)
            .join(o, o.c.id == M.c.organisation_id)
            .where(S.c.id == slot_id)
        )
    ).one()
    return {
        "mission_id": row.id,
        "mission_title": row.title,
        "organisation_name": row.organisation_name,
        "address": row.address,
        "remote": row.remote,
        "timezone": row.timezone,
        "starts_at": row.starts_at.isoformat(),
        "ends_at": row.ends_at.isoformat(),
    }


async def reschedule(conn: AsyncConnection, application_ids: Sequence[int]) -> None:
    """Let the reminders and the 'still coming?' question of these applications go again at
    their slot's new time: a reminder already queued for the old time is withdrawn if
    unsent, and its key renamed so the scheduler's once-only key does not block the new one.
    The attendance bookkeeping on the applications restarts too."""
    if not application_ids:
        return
    outbox = schema.outbox
    keys = [f"{kind}:{i}" for kind in RESCHEDULED_KINDS for i in application_ids]
    rows = (
        await conn.execute(
            select(outbox.c.id, outbox.c.dedupe_key, outbox.c.status).where(
                outbox.c.dedupe_key.in_(keys)
            )
        )
    ).all()
    for row in rows:
        values: dict[str, Any] = {"dedupe_key": f"{row.dedupe_key}:moved:{row.id}"}
        if row.status == "pending":
            values["status"] = "cancelled"
        await conn.execute(update(outbox).where(outbox.c.id == row.id).values(**values))
    await conn.execute(
        update(A)
        .where(A.c.id.in_(list(application_ids)))
        .values(attendance_asked_at=None, attendance_flagged_at=None)
    )


# Application rows change status here only through applications.set_status (the helper
# every service uses, so any bookkeeping kept on it follows); the one direct write is the
# waiting-list order below and withdrawing open offers, both in these two functions.


async def _withdraw_offers(conn: AsyncConnection, slot_id: int, most: int) -> int:
    """Take back up to `most` open offers (newest first): the people stay on the waiting
    list where they were, without a place reserved; returns how many."""
    rows = (
        await conn.execute(
            select(A.c.id)
            .where(
                A.c.slot_id == slot_id,
                A.c.status == ApplicationStatus.WAITLISTED,
                A.c.offer_expires_at.is_not(None),
            )
            .order_by(A.c.offer_expires_at.desc(), A.c.id.desc())
            .limit(most)
        )
    ).all()
    for row in rows:
        await conn.execute(update(A).where(A.c.id == row.id).values(offer_expires_at=None))
        await applications.record_event(
            conn,
            row.id,
            ApplicationStatus.WAITLISTED,
            ApplicationStatus.WAITLISTED,
            actor_id=None,
            reason="offer_withdrawn",
        )
    return len(rows)


async def _back_to_waitlist(conn: AsyncConnection, holder: Holder, *, actor_id: int) -> None:
    """The holder goes back to the top of the waiting list (ordered by when people applied:
    they take a moment just before everyone waiting) and is told."""
    row = (
        await conn.execute(
            select(A.c.slot_id, A.c.person_id).where(A.c.id == holder.application_id)
        )
    ).one()
    first = await conn.scalar(
        select(func.min(A.c.created_at)).where(
            A.c.slot_id == row.slot_id, A.c.status == ApplicationStatus.WAITLISTED
        )
    )
    first = _aware(first)
    values: dict[str, Any] = {"offer_expires_at": None}
    if first is not None:
        values["created_at"] = first - timedelta(seconds=1)
    await conn.execute(update(A).where(A.c.id == holder.application_id).values(**values))
    await applications.set_status(
        conn,
        holder.application_id,
        holder.status,
        ApplicationStatus.WAITLISTED,
        actor_id=actor_id,
        reason="capacity_lowered",
    )
    await audit.record(
        conn,
        "change_capacity",
        actor_id=actor_id,
        action="application.moved_to_waitlist",
        subject_type="application",
        subject_id=holder.application_id,
        from_status=str(holder.status),
    )
    view = await applications.fetch_application(conn, holder.application_id)
    payload = applications._snapshot(view) | {"position": view.waitlist_position}
    await enqueue(conn, MOVED_TO_WAITLIST, person_id=row.person_id, payload=payload)


async def _end_applications(
    conn: AsyncConnection, slot_ids: Sequence[int], actor_id: int, reason: str
) -> None:
    """Every live application on the cancelled slots ends (cancelled, with the reason)."""
    for row in await _concerned(conn, slot_ids=slot_ids):
        if row.status == ApplicationStatus.WAITLISTED:
            await conn.execute(update(A).where(A.c.id == row.id).values(offer_expires_at=None))
        await applications.set_status(
            conn, row.id, row.status, ApplicationStatus.CANCELLED, actor_id=actor_id, reason=reason
        )
