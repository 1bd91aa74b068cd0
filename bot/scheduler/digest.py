"""Job: the Monday digest, at 09:00 in each organisation's zone, in its admin groups (or to
its coordinators while no group is linked). Once per ISO week: a bot that was down on
Monday morning sends it when it starts again, as long as the week lasts."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select

from bot.domain import MissionStatus
from bot.runtime import Renfort
from bot.services.digest import weekly_digest
from bot.services.organisers import (
    recipient_key,
    recipients_of,
    sent_keys,
    tell_organisation_once,
    zone_of,
)
from storage import schema

ORGS, M = schema.organisations, schema.missions
SEND_AT = time(9)
# Monday 09:00 would otherwise compose every organisation's digest in one tick; a few per
# tick keep the tick short and the digests still go within minutes.
PER_TICK = 25


def digest_key(organisation_id: int, local: datetime) -> str:
    year, week, _ = local.isocalendar()
    return f"digest:{organisation_id}:{year}-W{week:02d}"


def week_start(local: datetime, zone: ZoneInfo) -> datetime:
    """Monday 00:00 of the ISO week `local` falls in, in `zone`."""
    monday = local.date() - timedelta(days=local.weekday())
    return datetime.combine(monday, time(0), zone)


async def send_digests(renfort: Renfort, now: datetime) -> int:
    """Queue this week's digest for every organisation with published missions."""
    db, sent = renfort.db, 0
    # One pass over the published missions, not one search of them per organisation.
    publishing = select(M.c.organisation_id).where(M.c.status == MissionStatus.PUBLISHED)
    active = (
        select(ORGS.c.id, ORGS.c.name, ORGS.c.timezone)
        .where(ORGS.c.id.in_(publishing))
        .order_by(ORGS.c.id)
    )
    async with db.reading("digest_organisations") as conn:
        organisations = (await conn.execute(active)).all()
    due: list[tuple[Any, str, datetime]] = []
    for org in organisations:
        zone = zone_of(org.timezone, renfort.settings.timezone)
        local = now.astimezone(zone)
        start = week_start(local, zone)
        key = digest_key(org.id, local)
        if local >= datetime.combine(start.date(), SEND_AT, zone) and key not in renfort.settled:
            due.append((org, key, start))
    if not due:
        return 0
    # Who still lacks this week's digest, for every organisation at once.
    async with db.reading("digest_recipients") as conn:
        told = await recipients_of(conn, (org.id for org, _key, _start in due))
        keys = {(o.id, t): recipient_key(key, t) for o, key, _start in due for t in told[o.id]}
        done = await sent_keys(conn, keys.values())
    for org, key, _start in due:
        if all(keys[(org.id, t)] in done for t in told[org.id]):
            renfort.settled.add(key)
    # A few digests composed per tick: Monday 09:00 does not stall the other jobs.
    for org, key, start in [d for d in due if d[1] not in renfort.settled][:PER_TICK]:
        to = [t for t in told[org.id] if keys[(org.id, t)] not in done]
        async with db.reading("digest_contents") as conn:
            digest = await weekly_digest(
                conn, org.id, org.name, now=now, week_start=start, week=key.rsplit(":", 1)[1]
            )
        async with db.transaction("send_digest") as conn:
            sent += await tell_organisation_once(conn, org.id, key, digest, to=to)
    return sent
