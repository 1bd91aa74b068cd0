"""After a slot: the admin group gets its roster to mark who came, and the next morning
each volunteer is asked whether it went well. Both are keyed in the outbox, so a restart
or a second worker sends nothing twice; a bot down for a while still catches up."""

from __future__ import annotations

from datetime import datetime, time, timedelta

from bot.messaging.outbox import enqueue_once
from bot.runtime import Renfort
from bot.services.feedback import ANSWER_WITHIN, request_key
from bot.services.organisers import sent_keys, tell_organisation_once, unsent_recipients, zone_of
from bot.services.rosters import Roster, ended_slots

ROSTER_WITHIN = timedelta(days=2)  # a roster older than that would only be noise
FEEDBACK_HOUR = 10  # local time, the day after the slot


def roster_key(slot_id: int) -> str:
    return f"roster:slot:{slot_id}"


async def post_rosters(renfort: Renfort, now: datetime) -> int:
    """Job: send each ended slot's roster, with present/absent buttons, to its organisation."""
    db, posted = renfort.db, 0
    for roster in await ended_slots(db, now=now, within=ROSTER_WITHIN):
        key = roster_key(roster.slot_id)
        async with db.reading("roster_recipients") as conn:
            to = await unsent_recipients(conn, roster.organisation_id, key)
        if not to:
            continue
        async with db.transaction("post_roster") as conn:
            posted += await tell_organisation_once(
                conn, roster.organisation_id, key, "slot_roster", roster.payload(), to=to
            )
    return posted


def feedback_due(roster: Roster, renfort: Renfort) -> datetime:
    """10:00 on the day after the slot ended, in the mission's zone."""
    zone = zone_of(roster.timezone, renfort.settings.timezone)
    day = roster.ends_at.astimezone(zone).date() + timedelta(days=1)
    return datetime.combine(day, time(FEEDBACK_HOUR), zone)


async def ask_feedback(renfort: Renfort, now: datetime) -> int:
    """Job: ask every volunteer of yesterday's slots, marked or not, whether it went well."""
    db, asked = renfort.db, 0
    within = ANSWER_WITHIN - timedelta(days=1)
    for roster in await ended_slots(db, now=now, within=within):
        if now < feedback_due(roster, renfort):
            continue
        async with db.reading("feedback_asked") as conn:
            done = await sent_keys(conn, (request_key(v.application_id) for v in roster.lines))
        todo = [v for v in roster.lines if request_key(v.application_id) not in done]
        if not todo:
            continue
        base = roster.payload()
        del base["volunteers"]  # a volunteer never sees who else was there
        async with db.transaction("ask_feedback") as conn:
            for line in todo:
                found = await enqueue_once(
                    conn,
                    request_key(line.application_id),
                    "feedback_request",
                    person_id=line.person_id,
                    payload=base | {"application_id": line.application_id},
                )
                asked += found is not None
    return asked
