"""After a slot: the admin group gets its roster to mark who came, and the next morning
each volunteer is asked whether it went well. Both are keyed in the outbox, so a restart
or a second worker sends nothing twice; a bot down for a while still catches up."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import and_, false, or_, select

from bot.messaging.outbox import Once, enqueue_once_many
from bot.runtime import Renfort
from bot.scheduler.upcoming import chunks
from bot.services.feedback import ANSWER_WITHIN, key_of, request_key
from bot.services.organisers import (
    recipient_key,
    recipients_of,
    sent_keys,
    tell_organisation_once,
    zone_of,
)
from bot.services.rosters import A, M, Roster, S, ended_slot_ids, ended_slots
from storage import schema

ROSTER_WITHIN = timedelta(days=2)  # a roster older than that would only be noise
FEEDBACK_HOUR = 10  # local time, the day after the slot
# A backlog after downtime goes over several ticks, so no transaction holds the lock long.
ROSTERS_PER_TICK = 50
OUTBOX = schema.outbox
FEEDBACK_PER_TICK = 300


def roster_key(slot_id: int) -> str:
    return f"roster:slot:{slot_id}"


async def post_rosters(renfort: Renfort, now: datetime) -> int:
    """Job: send each ended slot's roster, with present/absent buttons, to its organisation.
    Whose copy is still to send is worked out from the slots alone, for all at once; only
    those slots' volunteers are read, and a few rosters go per tick."""
    db, posted = renfort.db, 0
    ended = await ended_slot_ids(db, now=now, within=ROSTER_WITHIN)
    if not ended:
        return 0
    async with db.reading("roster_recipients") as conn:
        told = await recipients_of(conn, (organisation_id for _slot, organisation_id in ended))
        copies = {
            slot_id: {recipient_key(roster_key(slot_id), t): t for t in told[organisation_id]}
            for slot_id, organisation_id in ended
        }
        done = await sent_keys(conn, (key for keyed in copies.values() for key in keyed))
    waiting = {
        slot_id: to
        for slot_id, keyed in copies.items()
        if (to := [t for key, t in keyed.items() if key not in done])
    }
    if not waiting:
        return 0
    rosters = await ended_slots(
        db, now=now, within=ROSTER_WITHIN, only=list(waiting)[:ROSTERS_PER_TICK]
    )
    for roster in rosters:
        async with db.transaction("post_roster") as conn:
            posted += await tell_organisation_once(
                conn,
                roster.organisation_id,
                roster_key(roster.slot_id),
                roster.notification(),
                to=waiting[roster.slot_id],
            )
    return posted


def ended_before_feedback_due(now: datetime, zone: ZoneInfo) -> datetime:
    """Slots ended before this moment have their question due by `now` (feedback_due):
    those of the day before yesterday and earlier, and yesterday's from 10:00 today."""
    local = now.astimezone(zone)
    passed = local.time() >= time(FEEDBACK_HOUR)
    day = local.date() if passed else local.date() - timedelta(days=1)
    return datetime.combine(day, time(0), zone)


async def _feedback_due_slots(renfort: Renfort, now: datetime, within: timedelta) -> Any:
    """An SQL term on slots and missions: the question about the slot is due by `now`, in
    the mission's own zone (one bound per zone among the slots that ended lately)."""
    zones = select(M.c.timezone).join(S, S.c.mission_id == M.c.id)
    async with renfort.db.reading("feedback_zones") as conn:
        names = await conn.scalars(
            zones.where(S.c.ends_at <= now, S.c.ends_at > now - within).distinct()
        )
        bounds = [
            (name, ended_before_feedback_due(now, zone_of(name, renfort.settings.timezone)))
            for name in names
        ]
    if not bounds:
        return false()
    return or_(*(and_(M.c.timezone == name, S.c.ends_at < bound) for name, bound in bounds))


def feedback_due(roster: Roster, renfort: Renfort) -> datetime:
    """10:00 on the day after the slot ended, in the mission's zone."""
    zone = zone_of(roster.timezone, renfort.settings.timezone)
    day = roster.ends_at.astimezone(zone).date() + timedelta(days=1)
    return datetime.combine(day, time(FEEDBACK_HOUR), zone)


async def ask_feedback(renfort: Renfort, now: datetime) -> int:
    """Job: ask every volunteer of yesterday's slots, marked or not, whether it went well;
    a bounded batch per tick, a chunk per transaction."""
    db = renfort.db
    within = ANSWER_WITHIN - timedelta(days=1)
    # Only volunteers not asked yet, of slots whose question is due, come back.
    rosters = await ended_slots(
        db,
        now=now,
        within=within,
        slots_where=(await _feedback_due_slots(renfort, now, within),),
        lines_where=(~select(OUTBOX.c.id).where(OUTBOX.c.dedupe_key == key_of(A.c.id)).exists(),),
    )
    todo = [
        (roster, line)
        for roster in rosters
        if now >= feedback_due(roster, renfort)
        for line in roster.lines
    ]
    if not todo:
        return 0
    questions = []
    for roster, line in todo[:FEEDBACK_PER_TICK]:
        asked = roster.feedback_request(line.application_id)
        questions.append(Once(request_key(line.application_id), asked, person_id=line.person_id))
    done = 0
    for chunk in chunks(questions):
        async with db.transaction("ask_feedback") as conn:
            done += await enqueue_once_many(conn, chunk)
    return done
