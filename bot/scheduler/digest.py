"""Job: the Monday digest, at 09:00 in each organisation's zone, in its admin groups (or to
its coordinators while no group is linked). Once per ISO week: a bot that was down on
Monday morning sends it when it starts again, as long as the week lasts."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select

from bot.domain import MissionStatus
from bot.runtime import Renfort
from bot.services.digest import weekly_digest
from bot.services.organisers import tell_organisation_once, unsent_recipients, zone_of
from storage import schema

ORGS, M = schema.organisations, schema.missions
SEND_AT = time(9)
# Monday 09:00 would otherwise look at every organisation's digest in one tick; a few per
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
    active = (
        select(ORGS.c.id, ORGS.c.name, ORGS.c.timezone)
        .where(
            select(M.c.id)
            .where(M.c.organisation_id == ORGS.c.id, M.c.status == MissionStatus.PUBLISHED)
            .exists()
        )
        .order_by(ORGS.c.id)
    )
    async with db.reading("digest_organisations") as conn:
        organisations = (await conn.execute(active)).all()
    looked = 0
    for org in organisations:
        if looked >= PER_TICK:
            break
        zone = zone_of(org.timezone, renfort.settings.timezone)
        local = now.astimezone(zone)
        start = week_start(local, zone)
        if local < datetime.combine(start.date(), SEND_AT, zone):
            continue
        key = digest_key(org.id, local)
        if key in renfort.settled:
            continue
        looked += 1
        async with db.reading("digest_contents") as conn:
            to = await unsent_recipients(conn, org.id, key)
            if not to:
                renfort.settled.add(key)
                continue
            payload = await weekly_digest(
                conn, org.id, org.name, now=now, week_start=start, week=key.rsplit(":", 1)[1]
            )
        async with db.transaction("send_digest") as conn:
            sent += await tell_organisation_once(conn, org.id, key, "weekly_digest", payload, to=to)
    return sent
