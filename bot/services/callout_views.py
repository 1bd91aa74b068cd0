"""What a callout looks like to the coordinators and the channels, and the locked read
every change starts from."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Row, select
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.services.callout_waves import C, S, counts, load
from bot.services.errors import NotFound
from bot.services.missions import count_taken
from storage.database import Database

OPEN = ("active", "exhausted")  # still taking yeses


@dataclass(frozen=True)
class Targeting:
    radius_km: int | None = 10
    domains: tuple[str, ...] = ()
    channels: tuple[str, ...] = ("telegram", "sms")
    urgent: bool = False


@dataclass(frozen=True)
class CalloutFacts:
    """What a volunteer's reply shows of the callout: its mission, slot and place, and where
    the callout stands. Read from the callout's own row, without counting its recipients:
    the counts are the status board's, which redraws them a few seconds apart."""

    id: int
    organisation_id: int
    organisation_name: str
    mission_id: int
    mission_title: str
    address: str
    remote: bool
    slot_id: int
    starts_at: datetime
    ends_at: datetime
    timezone: str
    needed: int
    status: str  # active / filled / stopped / exhausted
    next_wave_at: datetime | None


@dataclass(frozen=True, kw_only=True)
class CalloutView(CalloutFacts):
    """The callout as its status board shows it: its facts and every count."""

    places_left: int  # free places of the slot
    targeting: Targeting
    waves_sent: int
    asked: int
    sent: int
    delivered: int  # SMS delivery receipts
    yes: int
    no: int
    waiting: int  # asked, no answer yet
    pool_left: int  # matching people not asked yet, as of the last targeting pass
    status_chat_id: int | None
    status_message_id: int | None


@dataclass(frozen=True)
class CalloutAnswer:
    outcome: str  # taken / waitlisted / declined / closed / already / conditions
    view: CalloutFacts
    conditions: tuple[str, ...] = ()  # still to confirm, when the outcome is "conditions"
    queued: bool = False  # notifications were queued with the answer (the callout filled)


def facts_of(row: Row[Any]) -> CalloutFacts:
    return CalloutFacts(
        id=row.id,
        organisation_id=row.organisation_id,
        organisation_name=row.organisation_name,
        mission_id=row.mission_id,
        mission_title=row.mission_title,
        address=row.address,
        remote=row.remote,
        slot_id=row.slot_id,
        starts_at=row.starts_at,
        ends_at=row.ends_at,
        timezone=row.timezone,
        needed=row.needed,
        status=row.status,
        next_wave_at=row.next_wave_at,
    )


async def fetch_view(conn: AsyncConnection, callout_id: int) -> CalloutView:
    row = await load(conn, callout_id)
    if row is None:
        raise NotFound("callout_not_found")
    return await view_of(conn, row)


async def view_of(conn: AsyncConnection, row: Row[Any]) -> CalloutView:
    tally = await counts(conn, row.id)
    free = row.capacity - await count_taken(conn, row.slot_id)
    return CalloutView(
        **vars(facts_of(row)),
        places_left=max(free, 0),
        targeting=Targeting(
            radius_km=row.radius_km,
            domains=tuple(row.domains or ()),
            channels=tuple(row.channels or ()),
            urgent=row.urgent,
        ),
        waves_sent=row.waves_sent,
        asked=int(tally.asked),
        sent=int(tally.sent),
        delivered=int(tally.delivered),
        yes=int(tally.yes),
        no=int(tally.no),
        waiting=int(tally.waiting),
        pool_left=int(row.pool_left or 0),
        status_chat_id=row.status_chat_id,
        status_message_id=row.status_message_id,
    )


async def must_load(conn: AsyncConnection, callout_id: int) -> Row[Any]:
    row = await load(conn, callout_id)
    if row is None:
        raise NotFound("callout_not_found")
    return row


async def lock_callout(conn: AsyncConnection, db: Database, callout_id: int) -> Row[Any]:
    """The callout, its slot locked first (as applying does), then the callout itself."""
    if not db.is_sqlite:
        slot_id = await conn.scalar(select(C.c.slot_id).where(C.c.id == callout_id))
        if slot_id is None:
            raise NotFound("callout_not_found")
        await db.lock_rows(conn, select(S.c.id).where(S.c.id == slot_id))
        await db.lock_rows(conn, select(C.c.id).where(C.c.id == callout_id))
    return await must_load(conn, callout_id)
