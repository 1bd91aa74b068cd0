"""Crisis callouts: a coordinator asks for N volunteers for one slot; the best-placed people
are asked in waves until N said yes, and nobody is asked once the need is met.

Targeting lives in callout_targeting, the waves in callout_waves, a volunteer's answer in
callout_answers; this module holds the views and the coordinator's actions."""

from __future__ import annotations

from collections.abc import Callable, Collection
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Row, exists, insert, or_, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.domain import DOMAINS, MissionStatus
from bot.services import audit, review
from bot.services.callout_answers import answer
from bot.services.callout_targeting import CHANNELS, Target, count_matching, quiet_until
from bot.services.callout_views import (
    OPEN,
    CalloutAnswer,
    CalloutFacts,
    CalloutView,
    Targeting,
    facts_of,
    fetch_view,
    lock_callout,
    must_load,
    view_of,
)
from bot.services.callout_waves import (
    OUTBOX,
    C,
    M,
    R,
    S,
    callout_query,
    close,
    counts,
    place_of,
    run_wave,
    settle,
)
from bot.services.errors import Conflict, InvalidInput, NotAllowed, NotFound
from bot.services.missions import count_taken
from bot.services.organisations import require_member
from storage.database import Database, Inbound

__all__ = [
    "CalloutAnswer",
    "CalloutFacts",
    "CalloutView",
    "Targeting",
    "active_callouts",
    "answer",
    "changed_since_render",
    "get_callout",
    "launch",
    "mark_rendered",
    "open_callout_question",
    "preview",
    "raise_need",
    "set_status_message",
    "stop",
    "widen",
]


def _check(targeting: Targeting) -> None:
    if targeting.radius_km is not None and targeting.radius_km <= 0:
        raise InvalidInput("radius")
    if not targeting.channels or not set(targeting.channels) <= set(CHANNELS):
        raise InvalidInput("channels")
    if not set(targeting.domains) <= set(DOMAINS):
        raise InvalidInput("domains")


async def _slot(conn: AsyncConnection, db: Database, slot_id: int, *, lock: bool) -> Row[Any]:
    query = (
        select(
            S.c.id.label("slot_id"),
            S.c.starts_at,
            S.c.ends_at,
            S.c.capacity,
            M.c.organisation_id,
            M.c.status.label("mission_status"),
            M.c.remote,
            M.c.latitude,
            M.c.longitude,
            M.c.timezone,
        )
        .join(M, M.c.id == S.c.mission_id)
        .where(S.c.id == slot_id, S.c.cancelled_at.is_(None))  # a cancelled slot needs nobody
    )
    row = (await conn.execute(db.lock_for_update(query) if lock else query)).first()
    if row is None:
        raise NotFound("slot_not_found")
    return row


def _target(slot: Row[Any], targeting: Targeting, callout_id: int | None = None) -> Target:
    point = place_of(slot)
    if point is None and not slot.remote and targeting.radius_km is not None:
        # Without a place a radius means nothing; asking the whole country is not the fix.
        raise Conflict("mission_without_place")
    return Target(
        slot_id=slot.slot_id,
        starts_at=slot.starts_at,
        ends_at=slot.ends_at,
        point=point,
        radius_km=targeting.radius_km,
        domains=targeting.domains,
        channels=targeting.channels,
        callout_id=callout_id,
    )


async def preview(
    db: Database, *, organisation_id: int, slot_id: int, targeting: Targeting, now: datetime
) -> int:
    """How many people the targeting matches now."""
    _check(targeting)
    async with db.reading("preview_callout") as conn:
        slot = await _slot(conn, db, slot_id, lock=False)
        if slot.organisation_id != organisation_id:
            raise NotFound("slot_not_found")
        return await count_matching(conn, _target(slot, targeting), now)


async def launch(
    db: Database,
    *,
    actor_id: int,
    slot_id: int,
    needed: int,
    targeting: Targeting,
    now: datetime,
    status_chat_id: int | None = None,
    inbound: Inbound | None = None,
) -> CalloutView:
    """Start a callout for a slot ahead and queue its first wave (or hold it till morning)."""
    _check(targeting)
    if needed < 1:
        raise InvalidInput("needed")
    async with db.transaction("launch_callout", inbound) as conn:
        slot = await _slot(conn, db, slot_id, lock=True)
        await require_member(conn, actor_id, slot.organisation_id)
        if not await review.may_launch_callouts(conn, slot.organisation_id):
            raise NotAllowed("organisation_not_verified")
        if slot.mission_status != MissionStatus.PUBLISHED:
            raise Conflict("mission_closed")
        if slot.starts_at <= now:
            raise Conflict("slot_started")
        if not targeting.urgent:
            # Held until morning, it would reach people after the slot began: say so now.
            morning = quiet_until(now, ZoneInfo(slot.timezone))
            if morning is not None and morning >= slot.starts_at:
                raise Conflict("callout_needs_urgent")
        _target(slot, targeting)
        if slot.capacity - await count_taken(conn, slot_id) <= 0:
            raise Conflict("slot_full")
        result = await conn.execute(
            insert(C)
            .values(
                organisation_id=slot.organisation_id,
                slot_id=slot_id,
                needed=needed,
                status="active",
                radius_km=targeting.radius_km,
                domains=list(targeting.domains),
                channels=list(targeting.channels),
                urgent=targeting.urgent,
                waves_sent=0,
                next_wave_at=now,
                created_by=actor_id,
                created_at=now,
                updated_at=now,
                status_chat_id=status_chat_id,
            )
            .returning(C.c.id)
        )
        callout_id = int(result.scalar_one())
        await audit.record(
            conn,
            "launch_callout",
            actor_id=actor_id,
            action="callout.launched",
            subject_type="callout",
            subject_id=callout_id,
            slot_id=slot_id,
            needed=needed,
            radius_km=targeting.radius_km,
            urgent=targeting.urgent,
        )
        row = await must_load(conn, callout_id)
        await run_wave(conn, row, now=now, transaction="launch_callout")
        return await fetch_view(conn, callout_id)


async def _as_coordinator(
    conn: AsyncConnection, db: Database, actor_id: int, callout_id: int
) -> Row[Any]:
    row = await lock_callout(conn, db, callout_id)
    await require_member(conn, actor_id, row.organisation_id)
    return row


async def stop(
    db: Database, *, actor_id: int, callout_id: int, now: datetime, inbound: Inbound | None = None
) -> CalloutView:
    """Stop asking: no further wave, unsent messages withdrawn; a second stop changes nothing."""
    async with db.transaction("stop_callout", inbound) as conn:
        row = await _as_coordinator(conn, db, actor_id, callout_id)
        await close(conn, row, "stopped", actor_id=actor_id, now=now, transaction="stop_callout")
        return await fetch_view(conn, callout_id)


async def _revive(conn: AsyncConnection, row: Row[Any], *, now: datetime, transaction: str) -> None:
    """Ask again at once after a change of the targeting or the need, if anyone is missing."""
    if await settle(conn, row, now=now, transaction=transaction):
        return
    was = row.status
    if was == "filled":
        tally = await counts(conn, row.id)
        free = row.capacity - await count_taken(conn, row.slot_id)
        if int(tally.taken) >= row.needed or free <= 0:
            return
    await conn.execute(
        update(C)
        .where(C.c.id == row.id)
        .values(status="active", closed_at=None, next_wave_at=now, updated_at=now)
    )
    # An exhausted callout that finds nobody new stays exhausted without a second alert.
    await run_wave(
        conn,
        await must_load(conn, row.id),
        now=now,
        transaction=transaction,
        tell_exhausted=was != "exhausted",
    )


@dataclass(frozen=True)
class _Amendment:
    """A change of one setting of a running callout: its transaction and audit action, and
    when the callout, as it was, asks again at once."""

    transaction: str
    action: str
    setting: str
    asks_again: Callable[[Row[Any], datetime], bool]


# A wider radius reaches new people unless the callout is already filled.
_WIDEN = _Amendment(
    "widen_callout", "callout.widened", "radius_km", lambda row, _now: row.status != "filled"
)
# A higher need reopens a filled or exhausted callout while the slot has not begun.
_RAISE_NEED = _Amendment(
    "raise_callout_need", "callout.need_changed", "needed", lambda row, now: row.starts_at > now
)


async def _amend(
    db: Database,
    change: _Amendment,
    value: Any,
    *,
    actor_id: int,
    callout_id: int,
    now: datetime,
    inbound: Inbound | None,
) -> CalloutView:
    """Apply `change` to a callout not stopped, audited with the former value."""
    async with db.transaction(change.transaction, inbound) as conn:
        row = await _as_coordinator(conn, db, actor_id, callout_id)
        if row.status == "stopped":
            raise Conflict("callout_closed")
        await conn.execute(
            update(C).where(C.c.id == callout_id).values({change.setting: value, "updated_at": now})
        )
        await audit.record(
            conn,
            change.transaction,
            actor_id=actor_id,
            action=change.action,
            subject_type="callout",
            subject_id=callout_id,
            **{change.setting: value, "was": getattr(row, change.setting)},
        )
        if change.asks_again(row, now):
            reloaded = await must_load(conn, callout_id)
            await _revive(conn, reloaded, now=now, transaction=change.transaction)
        return await fetch_view(conn, callout_id)


async def widen(
    db: Database,
    *,
    actor_id: int,
    callout_id: int,
    radius_km: int | None,
    now: datetime,
    inbound: Inbound | None = None,
) -> CalloutView:
    """Change the radius (None: everywhere) and ask the newly matching people at once."""
    if radius_km is not None and radius_km <= 0:
        raise InvalidInput("radius")
    return await _amend(
        db, _WIDEN, radius_km, actor_id=actor_id, callout_id=callout_id, now=now, inbound=inbound
    )


async def raise_need(
    db: Database,
    *,
    actor_id: int,
    callout_id: int,
    needed: int,
    now: datetime,
    inbound: Inbound | None = None,
) -> CalloutView:
    """Change how many people are needed; a filled or exhausted callout asks again if it can."""
    if needed < 1:
        raise InvalidInput("needed")
    return await _amend(
        db, _RAISE_NEED, needed, actor_id=actor_id, callout_id=callout_id, now=now, inbound=inbound
    )


async def get_callout(db: Database, callout_id: int) -> CalloutView:
    async with db.reading("get_callout") as conn:
        return await fetch_view(conn, callout_id)


async def active_callouts(db: Database, organisation_id: int) -> list[CalloutView]:
    """The organisation's callouts still taking yeses (exhausted ones too), soonest first."""
    async with db.reading("active_callouts") as conn:
        rows = (
            await conn.execute(
                callout_query()
                .where(C.c.organisation_id == organisation_id, C.c.status.in_(OPEN))
                .order_by(S.c.starts_at, C.c.id)
            )
        ).all()
        return [await view_of(conn, r) for r in rows]


async def open_callout_question(db: Database, person_id: int, now: datetime) -> CalloutFacts | None:
    """The callout the person was asked and has not answered whose slot starts soonest (its
    facts: answering needs no counts).

    Exhausted callouts count: nobody is left to ask, so their yeses matter most."""
    async with db.reading("open_callout_question") as conn:
        found = await conn.scalar(
            select(R.c.callout_id)
            .join(C, C.c.id == R.c.callout_id)
            .join(S, S.c.id == C.c.slot_id)
            .outerjoin(OUTBOX, OUTBOX.c.id == R.c.outbox_id)
            .where(
                R.c.person_id == person_id,
                R.c.answer.is_(None),
                C.c.status.in_(OPEN),
                S.c.starts_at > now,
                or_(OUTBOX.c.status.is_(None), OUTBOX.c.status != "cancelled"),
            )
            .order_by(S.c.starts_at, R.c.id)
            .limit(1)
        )
        return None if found is None else facts_of(await must_load(conn, int(found)))


async def set_status_message(
    db: Database, *, callout_id: int, chat_id: int, message_id: int
) -> None:
    """Remember the live status message; call mark_rendered once it shows the counts."""
    async with db.transaction("set_callout_status_message") as conn:
        await conn.execute(
            update(C)
            .where(C.c.id == callout_id)
            .values(status_chat_id=chat_id, status_message_id=message_id, updated_at=C.c.updated_at)
        )


async def changed_since_render(
    db: Database, *, limit: int = 20, skip: Collection[int] = ()
) -> list[CalloutView]:
    """Callouts with a status message that changed (or had messages sent) since last shown,
    but those in `skip`: drawn too recently to draw again, so their counts are not worth
    reading yet, and they do not take the places of others in `limit`."""
    rendered = C.c.status_rendered_at
    sent_since = exists().where(
        R.c.callout_id == C.c.id, OUTBOX.c.id == R.c.outbox_id, OUTBOX.c.sent_at > rendered
    )
    async with db.reading("callouts_changed") as conn:
        rows = (
            await conn.execute(
                callout_query()
                .where(
                    C.c.status_message_id.is_not(None),
                    or_(rendered.is_(None), C.c.updated_at > rendered, sent_since),
                    C.c.id.not_in(list(skip)),
                )
                .order_by(C.c.updated_at, C.c.id)
                .limit(limit)
            )
        ).all()
        return [await view_of(conn, r) for r in rows]


async def mark_rendered(db: Database, callout_id: int, at: datetime) -> None:
    """The status message shows the callout as read at `at`."""
    async with db.transaction("mark_callout_rendered") as conn:
        # updated_at given explicitly, or its onupdate would make it look changed again.
        await conn.execute(
            update(C)
            .where(C.c.id == callout_id)
            .values(status_rendered_at=at, updated_at=C.c.updated_at)
        )
