"""What the reminder and attendance tests share: a commune with a coordinator, volunteers
with an approved place, the outbox rows the scheduler queued."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select

from bot.services import applications, organisations, people
from bot.services.organisations import Organisation
from storage import schema
from storage.database import Database
from tests.factories import commune, first_slot, polling_station

COORDINATOR_TG = 10


@dataclass
class Place:
    organisation: Organisation
    coordinator_id: int
    slot_id: int
    mission_id: int


async def person(db: Database, telegram_user_id: int, name: str, language: str) -> people.Person:
    """A registered volunteer in Telegram who speaks `language`."""
    found = await people.ensure_telegram_person(
        db,
        telegram_user_id=telegram_user_id,
        chat_id=telegram_user_id,
        first_name=name,
        language_code=language,
    )
    return await people.update_profile(
        db, found.id, locale=language, interests=["citizenship"], complete_registration=True
    )


async def place(
    db: Database,
    *,
    now: datetime,
    starts_at: datetime,
    capacity: int = 2,
    organisation: Organisation | None = None,
) -> Place:
    """A polling-station slot of a commune whose coordinator has joined."""
    if organisation is None:
        organisation = await commune(db)
    coordinator = await people.find_by_telegram(db, COORDINATOR_TG)
    if coordinator is None:
        coordinator = await person(db, COORDINATOR_TG, "Alex", "en")
    await organisations.join(db, coordinator.id, organisation.invite_code)
    mission_id = await polling_station(
        db, organisation.id, now=now, starts_at=starts_at, capacity=capacity
    )
    return Place(organisation, coordinator.id, await first_slot(db, mission_id), mission_id)


async def approved(db: Database, spot: Place, person_id: int, now: datetime) -> int:
    """`person_id` applied for the slot and the coordinator approved: the application id."""
    view = await applications.apply(db, person_id=person_id, slot_id=spot.slot_id, now=now)
    await applications.decide(
        db, application_id=view.id, actor_id=spot.coordinator_id, approve=True
    )
    return view.id


async def queued(db: Database, kind: str) -> list[dict[str, Any]]:
    """Outbox rows of `kind`, oldest first."""
    o = schema.outbox
    async with db.reading("test_queued") as conn:
        rows = (await conn.execute(select(o).where(o.c.kind == kind).order_by(o.c.id))).all()
    return [dict(r._mapping) for r in rows]


async def application_row(db: Database, application_id: int) -> dict[str, Any]:
    a = schema.applications
    async with db.reading("test_application") as conn:
        row = (await conn.execute(select(a).where(a.c.id == application_id))).one()
    return dict(row._mapping)
