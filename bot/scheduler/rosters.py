"""After a slot: the admin group gets its roster to mark who came, and the next morning
each volunteer is asked whether it went well. Both are keyed in the outbox, so a restart
or a second worker sends nothing twice; a bot down for a while still catches up."""

from __future__ import annotations

from datetime import datetime, time, timedelta

from bot.messaging.outbox import Once, enqueue_once_many
from bot.runtime import Renfort
from bot.services.feedback import ANSWER_WITHIN, request_key
from bot.services.organisers import (
    recipient_key,
    recipients_of,
    sent_keys,
    tell_organisation_once,
    zone_of,
)
from bot.services.rosters import Roster, ended_slots

ROSTER_WITHIN = timedelta(days=2)  # a roster older than that would only be noise
FEEDBACK_HOUR = 10  # local time, the day after the slot
# A backlog after downtime goes over several ticks, so no transaction holds the lock long.
ROSTERS_PER_TICK = 50
FEEDBACK_PER_TICK = 300


def roster_key(slot_id: int) -> str:
    return f"roster:slot:{slot_id}"


async def post_rosters(renfort: Renfort, now: datetime) -> int:
    """Job: send each ended slot's roster, with present/absent buttons, to its organisation.
    Who already has which roster is read for all slots at once; a few rosters per tick."""
    db, posted = renfort.db, 0
    rosters = await ended_slots(db, now=now, within=ROSTER_WITHIN)
    if not rosters:
        return 0
    async with db.reading("roster_recipients") as conn:
        told = await recipients_of(conn, (r.organisation_id for r in rosters))
        copies = {
            r.slot_id: {recipient_key(roster_key(r.slot_id), t): t for t in told[r.organisation_id]}
            for r in rosters
        }
        done = await sent_keys(conn, (key for keyed in copies.values() for key in keyed))
    waiting = []
    for roster in rosters:
        to = [t for key, t in copies[roster.slot_id].items() if key not in done]
        if to:
            waiting.append((roster, to))
    for roster, to in waiting[:ROSTERS_PER_TICK]:
        async with db.transaction("post_roster") as conn:
            posted += await tell_organisation_once(
                conn,
                roster.organisation_id,
                roster_key(roster.slot_id),
                "slot_roster",
                roster.payload(),
                to=to,
            )
    return posted


def feedback_due(roster: Roster, renfort: Renfort) -> datetime:
    """10:00 on the day after the slot ended, in the mission's zone."""
    zone = zone_of(roster.timezone, renfort.settings.timezone)
    day = roster.ends_at.astimezone(zone).date() + timedelta(days=1)
    return datetime.combine(day, time(FEEDBACK_HOUR), zone)


async def ask_feedback(renfort: Renfort, now: datetime) -> int:
    """Job: ask every volunteer of yesterday's slots, marked or not, whether it went well;
    a bounded batch per tick, in one transaction."""
    db = renfort.db
    within = ANSWER_WITHIN - timedelta(days=1)
    due = [
        (roster, line)
        for roster in await ended_slots(db, now=now, within=within)
        if now >= feedback_due(roster, renfort)
        for line in roster.lines
    ]
    if not due:
        return 0
    async with db.reading("feedback_asked") as conn:
        done = await sent_keys(conn, (request_key(line.application_id) for _r, line in due))
    todo = [(r, line) for r, line in due if request_key(line.application_id) not in done]
    if not todo:
        return 0
    questions = []
    for roster, line in todo[:FEEDBACK_PER_TICK]:
        base = roster.payload()
        del base["volunteers"]  # a volunteer never sees who else was there
        questions.append(
            Once(
                request_key(line.application_id),
                "feedback_request",
                base | {"application_id": line.application_id},
                person_id=line.person_id,
            )
        )
    async with db.transaction("ask_feedback") as conn:
        return await enqueue_once_many(conn, questions)
