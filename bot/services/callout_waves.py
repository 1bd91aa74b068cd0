"""The waves of a callout: ask the next best people, stop asking once the need is met, tell
the coordinators when nobody is left. Every function runs inside the caller's transaction;
a wave is claimed with `UPDATE ... WHERE waves_sent = k`, so a second worker or a rerun
after a crash never sends the same wave twice."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import (
    JSON,
    Numeric,
    Row,
    String,
    bindparam,
    cast,
    func,
    literal,
    null,
    select,
    true,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.domain import GeoPoint, MissionStatus
from bot.messaging import outbox
from bot.messaging.outbox import Priority
from bot.notifications.callouts import Callout, CalloutExhausted, CalloutFilledOrganisation
from bot.services import audit
from bot.services.callout_targeting import Target, count_matching, quiet_until, ranked
from bot.services.missions import count_taken
from bot.services.organisers import tell_organisation_once
from storage import schema
from storage.schema import UTCDateTime

C, R, S, M, ORG = (
    schema.callouts,
    schema.callout_recipients,
    schema.slots,
    schema.missions,
    schema.organisations,
)
OUTBOX = schema.outbox

# Messages that may still reach someone: they count as possible yeses.
LIVE_MESSAGE = ("pending", "sending", "sent")


def callout_query() -> Any:
    """A callout with the facts of its slot, mission and organisation."""
    return (
        select(
            C,
            S.c.mission_id,
            S.c.starts_at,
            S.c.ends_at,
            S.c.capacity,
            M.c.title.label("mission_title"),
            M.c.address,
            M.c.remote,
            M.c.timezone,
            M.c.latitude,
            M.c.longitude,
            M.c.status.label("mission_status"),
            M.c.conditions.label("mission_conditions"),
            ORG.c.name.label("organisation_name"),
        )
        .join(S, S.c.id == C.c.slot_id)
        .join(M, M.c.id == S.c.mission_id)
        .join(ORG, ORG.c.id == C.c.organisation_id)
    )


def place_of(row: Row[Any]) -> GeoPoint | None:
    """Where distances are measured from; None for a remote mission."""
    if row.remote or row.latitude is None or row.longitude is None:
        return None
    return GeoPoint(row.latitude, row.longitude)


def target_of(row: Row[Any]) -> Target:
    """The targeting of a callout row."""
    return Target(
        slot_id=row.slot_id,
        starts_at=row.starts_at,
        ends_at=row.ends_at,
        point=place_of(row),
        radius_km=row.radius_km,
        domains=tuple(row.domains or ()),
        channels=tuple(row.channels or ()),
        callout_id=row.id,
    )


def callout_fields(row: Row[Any]) -> dict[str, Any]:
    """The fields every callout notification shares (CalloutFacts)."""
    return {
        "callout_id": row.id,
        "mission_id": row.mission_id,
        "mission_title": row.mission_title,
        "organisation_name": row.organisation_name,
        "address": row.address,
        "remote": row.remote,
        "timezone": row.timezone,
        "starts_at": row.starts_at,
        "ends_at": row.ends_at,
        "needed": row.needed,
        "urgent": row.urgent,
        "channels": tuple(row.channels or ()),  # the dispatcher keeps to these
    }


def _counts_query() -> Any:
    """Asked, answered, still possible, taken: one aggregate over the recipients."""
    answer, outcome = R.c.answer, R.c.outcome
    live = OUTBOX.c.status.in_(LIVE_MESSAGE) | R.c.outbox_id.is_(None)
    return (
        select(
            func.count(R.c.id).label("asked"),
            func.count(R.c.id).filter(OUTBOX.c.status == "sent").label("sent"),
            func.count(R.c.id).filter(OUTBOX.c.delivery_status == "delivered").label("delivered"),
            func.count(R.c.id).filter(answer == "yes").label("yes"),
            func.count(R.c.id).filter(answer == "no").label("no"),
            func.count(R.c.id).filter(answer.is_(None)).label("waiting"),
            func.count(R.c.id).filter(answer.is_(None), live).label("possible"),
            func.count(R.c.id).filter(outcome == "taken").label("taken"),
        )
        .select_from(R.outerjoin(OUTBOX, OUTBOX.c.id == R.c.outbox_id))
        .where(R.c.callout_id == bindparam("callout_id"))
    )


# Every answer to a callout runs these: built once, as building them cost more than running.
_LOAD = callout_query().where(C.c.id == bindparam("callout_id"))
_COUNTS = _counts_query()
_TAKEN = select(func.count()).where(
    R.c.callout_id == bindparam("callout_id"), R.c.outcome == "taken"
)


async def load(conn: AsyncConnection, callout_id: int) -> Row[Any] | None:
    return (await conn.execute(_LOAD, {"callout_id": callout_id})).first()


async def counts(conn: AsyncConnection, callout_id: int) -> Row[Any]:
    """Asked, answered, still possible, taken: one aggregate over the recipients."""
    return (await conn.execute(_COUNTS, {"callout_id": callout_id})).one()


async def cancel_unsent(conn: AsyncConnection, callout_id: int) -> int:
    """Withdraw the callout's messages still waiting in the outbox; returns how many."""
    unsent = select(R.c.outbox_id).where(R.c.callout_id == callout_id, R.c.outbox_id.is_not(None))
    return await outbox.cancel_pending(conn, unsent, reason="callout closed")


async def close(
    conn: AsyncConnection,
    row: Row[Any],
    status: str,
    *,
    actor_id: int | None,
    now: datetime,
    transaction: str,
) -> bool:
    """Close the callout as `status` and withdraw its unsent messages; False if it was
    closed already (by another worker)."""
    result = await conn.execute(
        update(C)
        .where(C.c.id == row.id, C.c.status.in_(("active", "exhausted")))
        .values(status=status, next_wave_at=None, closed_at=now, updated_at=now)
    )
    if not result.rowcount:
        return False
    cancelled = await cancel_unsent(conn, row.id)
    await audit.record(
        conn,
        transaction,
        actor_id=actor_id,
        action=f"callout.{status}",
        subject_type="callout",
        subject_id=row.id,
        cancelled_messages=cancelled,
    )
    if status == "filled" and row.status_message_id is None:
        # Without a live status message in a group, coordinators would never hear of it.
        taken = int((await counts(conn, row.id)).taken)
        filled = CalloutFilledOrganisation(**callout_fields(row), taken=taken)
        await tell_organisation_once(conn, row.organisation_id, f"{filled.kind}:{row.id}", filled)
    return True


async def settle(conn: AsyncConnection, row: Row[Any], *, now: datetime, transaction: str) -> bool:
    """Close the callout as filled when enough people took a place or the slot is full."""
    if row.status not in ("active", "exhausted"):
        return False
    taken = await conn.scalar(_TAKEN, {"callout_id": row.id})
    free = row.capacity - await count_taken(conn, row.slot_id)
    if int(taken or 0) < row.needed and free > 0:
        return False
    return await close(conn, row, "filled", actor_id=None, now=now, transaction=transaction)


def wave_size(row: Row[Any], taken: int, possible: int) -> int:
    """Enough people that about `wave_factor` possible yeses stand behind each missing one."""
    missing = max(int(row.needed) - taken, 0)
    return max(int(row.wave_factor) * missing - possible, missing)


async def run_wave(
    conn: AsyncConnection,
    row: Row[Any],
    *,
    now: datetime,
    transaction: str,
    tell_exhausted: bool = True,
) -> int:
    """Send the callout's next wave if it is due and allowed now; returns people asked."""
    if row.status != "active":
        return 0
    if row.starts_at <= now or row.mission_status != MissionStatus.PUBLISHED:
        await close(conn, row, "stopped", actor_id=None, now=now, transaction=transaction)
        return 0
    claim = update(C).where(C.c.id == row.id, C.c.waves_sent == row.waves_sent)
    claim = claim.where(C.c.status == "active")
    quiet = None if row.urgent else quiet_until(now, ZoneInfo(row.timezone))
    if quiet is not None:
        await conn.execute(claim.values(next_wave_at=quiet, updated_at=now))
        return 0
    tally = await counts(conn, row.id)
    target = target_of(row)
    pool = await count_matching(conn, target, now)
    size = wave_size(row, int(tally.taken), int(tally.possible))
    if min(pool, size) == 0:
        done = await conn.execute(
            claim.values(status="exhausted", next_wave_at=None, pool_left=0, updated_at=now)
        )
        if done.rowcount and tell_exhausted:
            await _tell_exhausted(conn, row, tally, now=now, transaction=transaction)
        return 0
    wave = row.waves_sent + 1
    wait = timedelta(minutes=row.wave_wait_minutes)
    claimed = await conn.execute(
        claim.values(
            waves_sent=wave,
            next_wave_at=now + wait,
            pool_left=pool - min(pool, size),
            updated_at=now,
        )
    )
    if not claimed.rowcount:
        return 0
    asked = await _ask(conn, row, ranked(target, now, size), wave, int(tally.asked), now)
    await audit.record(
        conn,
        transaction,
        actor_id=None,
        action="callout.wave",
        subject_type="callout",
        subject_id=row.id,
        wave=wave,
        asked=asked,
        pool_left=pool - asked,
    )
    return asked


def _key(callout_id: Any, wave: Any, person_id: Any) -> Any:
    """The outbox key of one person's call in one wave, which ties the recipient row to its
    message without reading either back."""
    return (
        literal(f"{Callout.kind}:")
        + cast(callout_id, String)
        + literal(":")
        + cast(wave, String)
        + literal(":")
        + cast(person_id, String)
    )


def _with_distance(conn: AsyncConnection, base: dict[str, Any], distance: Any) -> Any:
    """The callout's payload with the person's distance (to 0.1 km), built by the database."""
    text = json.dumps(base)
    if conn.dialect.name == "sqlite":
        return func.json_set(text, "$.distance_km", func.round(distance, 1))
    added = func.jsonb_build_object("distance_km", func.round(cast(distance, Numeric), 1))
    return cast(cast(literal(text), JSONB).op("||")(added), JSON)


async def _ask(
    conn: AsyncConnection, row: Row[Any], chosen: Any, wave: int, asked: int, now: datetime
) -> int:
    """Record the wave's people and queue their messages with INSERT ... SELECT, nobody read
    into Python; someone whose earlier call was withdrawn unsent gets their row back."""
    picked = chosen.subquery()
    dialect = sqlite if conn.dialect.name == "sqlite" else postgresql
    recorded = dialect.insert(R).from_select(
        ["callout_id", "person_id", "wave", "rank", "distance_km", "outbox_id", "created_at"],
        select(
            literal(row.id),
            picked.c.person_id,
            literal(wave),
            picked.c.position + asked,
            picked.c.distance_km,
            null(),
            literal(now, UTCDateTime()),
        ).where(true()),  # SQLite needs a WHERE to read ON CONFLICT as the upsert's
    )
    upsert = recorded.on_conflict_do_update(
        index_elements=[R.c.callout_id, R.c.person_id],
        set_={
            "wave": recorded.excluded.wave,
            "rank": recorded.excluded.rank,
            "distance_km": recorded.excluded.distance_km,
            "outbox_id": null(),
            "created_at": recorded.excluded.created_at,
        },
    )
    count = int((await conn.execute(upsert)).rowcount or 0)
    this_wave = (R.c.callout_id == row.id, R.c.wave == wave)
    await outbox.enqueue_selected(
        conn,
        Callout.kind,
        person_id=R.c.person_id,
        payload=_with_distance(conn, Callout(**callout_fields(row)).to_payload(), R.c.distance_km),
        dedupe_key=_key(R.c.callout_id, R.c.wave, R.c.person_id),
        where=this_wave,
        priority=Priority.BULK,
        not_before=now,
    )
    message = (
        select(OUTBOX.c.id)
        .where(OUTBOX.c.dedupe_key == _key(R.c.callout_id, R.c.wave, R.c.person_id))
        .scalar_subquery()
    )
    await conn.execute(update(R).where(*this_wave).values(outbox_id=message))
    return count


async def _tell_exhausted(
    conn: AsyncConnection, row: Row[Any], tally: Row[Any], *, now: datetime, transaction: str
) -> None:
    await audit.record(
        conn,
        transaction,
        actor_id=None,
        action="callout.exhausted",
        subject_type="callout",
        subject_id=row.id,
        asked=int(tally.asked),
        taken=int(tally.taken),
    )
    exhausted = CalloutExhausted(
        **callout_fields(row),
        asked=int(tally.asked),
        taken=int(tally.taken),
        waiting=int(tally.waiting),
        radius_km=row.radius_km,
    )
    # One alert per exhaustion: a later widening may exhaust the callout again.
    key = f"{exhausted.kind}:{row.id}:{row.waves_sent}:{int(tally.asked)}"
    await tell_organisation_once(conn, row.organisation_id, key, exhausted)
