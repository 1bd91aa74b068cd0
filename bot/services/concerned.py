"""Everyone concerned by a change to a mission: who they are (live applications on the slots
still ahead), telling them, letting their reminders go again at a new time, and their place
in line when places are cut or a slot is cancelled. Used inside the transactions of
mission_changes.

Application rows change status here only through applications.set_status, the helper every
service uses, so any bookkeeping kept on it follows. The direct writes to applications are
all in this module: withdrawing open offers, the waiting-list order of a moved holder, and
restarting the attendance bookkeeping in `reschedule`."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Row, func, select
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.domain import ACTIVE, HOLDING, ApplicationStatus, MissionStatus
from bot.messaging.outbox import enqueue, enqueue_each, release_keys
from bot.notifications.facts import application_fields
from bot.notifications.mission_changes import ChangeFacts, MovedToWaitlist
from bot.scheduler.attendance import ATTENDANCE_CHECK
from bot.scheduler.reminders import REMINDER_DAY_BEFORE, REMINDER_HOURS_BEFORE
from bot.services import application_store, applications, audit, callout_waves, review
from bot.services.callout_views import lock_callout
from storage import schema
from storage.database import Database

A, S, M, P = schema.applications, schema.slots, schema.missions, schema.people

# Keys of scheduled messages about one application that a new time must let go again.
RESCHEDULED_KINDS = (REMINDER_DAY_BEFORE, REMINDER_HOURS_BEFORE, ATTENDANCE_CHECK)


@dataclass(frozen=True)
class Holder:
    """Someone holding a place in a slot, as the coordinator picks whom to move."""

    application_id: int
    first_name: str
    status: ApplicationStatus


def aware(value: Any) -> datetime | None:
    if value is None:
        return None
    if isinstance(value, str):  # SQLite aggregates lose the column type
        value = datetime.fromisoformat(value)
    assert isinstance(value, datetime)
    return value if value.tzinfo is not None else value.replace(tzinfo=schema.now().tzinfo)


async def holders(conn: AsyncConnection, slot_id: int) -> list[Holder]:
    rows = (
        await conn.execute(
            select(A.c.id, A.c.status, P.c.first_name)
            .join(P, P.c.id == A.c.person_id)
            .where(A.c.slot_id == slot_id, A.c.status.in_([str(s) for s in HOLDING]))
            .order_by(A.c.created_at.desc(), A.c.id.desc())
        )
    ).all()
    return [Holder(r.id, r.first_name or "?", ApplicationStatus(r.status)) for r in rows]


async def stop_callouts(
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


async def live_applications(conn: AsyncConnection, *, slot_ids: Sequence[int]) -> list[Row[Any]]:
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


async def tell_everyone(
    conn: AsyncConnection,
    kind: type[ChangeFacts],
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
    rows = await live_applications(conn, slot_ids=slot_ids)
    seen: set[int] = set()
    told_about: list[int] = []
    for row in rows:
        if per_person and row.person_id in seen:
            continue
        seen.add(row.person_id)
        told_about.append(row.id)
    views = {v.id: v for v in await applications.fetch_applications(conn, told_about)}
    notices = [
        (
            views[i].person_id,
            kind(**application_fields(views[i]), status=str(views[i].status), **extra),
        )
        for i in told_about
    ]
    await enqueue_each(conn, notices)
    told = len(rows) if not per_person else len(seen)
    status = await conn.scalar(select(M.c.status).where(M.c.id == mission_id))
    if referents and status == MissionStatus.PUBLISHED and slot_ids:
        postcode = await review.territory_postcode(conn, mission_id)
        facts = await slot_fields(conn, slot_ids[0])
        to_referent = kind(**facts, **extra, to_referent=True)
        await enqueue_each(
            conn,
            [
                (person_id, to_referent)
                for person_id in await review.referents_for(conn, postcode)
                if person_id not in seen
            ],
        )
    return told


async def slot_fields(conn: AsyncConnection, slot_id: int) -> dict[str, Any]:
    """The fields of a notification about a slot when nobody's application is behind it."""
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
        "starts_at": row.starts_at,
        "ends_at": row.ends_at,
    }


async def reschedule(conn: AsyncConnection, application_ids: Sequence[int]) -> None:
    """Let the reminders and the 'still coming?' question of these applications go again at
    their slot's new time: a reminder already queued for the old time is withdrawn if
    unsent, and its key renamed so the scheduler's once-only key does not block the new one.
    The attendance bookkeeping on the applications restarts too."""
    if not application_ids:
        return
    keys = [f"{kind}:{i}" for kind in RESCHEDULED_KINDS for i in application_ids]
    await release_keys(conn, keys)
    await application_store.forget_attendance_steps(conn, list(application_ids))


async def withdraw_offers(conn: AsyncConnection, slot_id: int, most: int) -> int:
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
        await application_store.set_offer(conn, row.id, slot_id=slot_id, expires_at=None)
    return len(rows)


async def back_to_waitlist(conn: AsyncConnection, holder: Holder, *, actor_id: int) -> None:
    """The holder goes back to the top of the waiting list and is told. The list is ordered
    by when people applied; a holder usually applied before everyone waiting and keeps that
    moment, otherwise they take one just before the first person waiting."""
    row = (
        await conn.execute(
            select(A.c.slot_id, A.c.person_id, A.c.created_at).where(
                A.c.id == holder.application_id
            )
        )
    ).one()
    first = aware(
        await conn.scalar(
            select(func.min(A.c.created_at)).where(
                A.c.slot_id == row.slot_id, A.c.status == ApplicationStatus.WAITLISTED
            )
        )
    )
    values: dict[str, Any] = {"offer_expires_at": None}
    if first is not None and row.created_at >= first:
        values["created_at"] = first - timedelta(seconds=1)
    await application_store.change(conn, holder.application_id, values)
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
    moved = MovedToWaitlist(**application_fields(view), position=view.waitlist_position)
    await enqueue(conn, moved, person_id=row.person_id)


async def end_applications(
    conn: AsyncConnection, slot_ids: Sequence[int], actor_id: int, reason: str
) -> None:
    """Every live application on the cancelled slots ends (cancelled, with the reason)."""
    for row in await live_applications(conn, slot_ids=slot_ids):
        await applications.set_status(
            conn,
            row.id,
            row.status,
            ApplicationStatus.CANCELLED,
            actor_id=actor_id,
            reason=reason,
            end_offer=row.status == ApplicationStatus.WAITLISTED,
        )
