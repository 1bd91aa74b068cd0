"""What the tests of the organisers' scheduled jobs share: a service with a test clock, a
commune with a linked admin group, applications whose age the test decides, the outbox."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select, update

from bot.config import Settings
from bot.domain import ApplicationStatus
from bot.geo import Geocoder
from bot.runtime import Renfort
from bot.services import applications, organisations
from bot.services.applications import ApplicationView
from bot.services.people import Person
from storage import schema
from storage.database import Database
from tests.conftest import NOW
from tests.factories import commune, first_slot, polling_station, volunteer
from tests.harness import FakeClock

GROUP = -100_555
SOON = NOW + timedelta(days=20)  # a slot far enough ahead for the 7-day rule to apply


def renfort_at(db: Database, clock: FakeClock) -> Renfort:
    values: dict[str, Any] = {
        "renfort_timezone": "Europe/Paris",
        "renfort_locale": "en",
        "_env_file": None,
    }
    settings = Settings(**values)
    return Renfort(settings=settings, db=db, geocoder=Geocoder(None), clock=clock)


@dataclass
class Commune:
    organisation_id: int
    coordinator: Person
    mission_id: int
    slot_id: int


async def linked_commune(
    db: Database,
    *,
    starts_at: datetime = SOON,
    capacity: int = 2,
    group: bool = True,
    created: datetime = NOW,
    name: str = "Mairie de Saint-Dizier",
) -> Commune:
    """A commune, its coordinator Nadia, its admin group (unless not), one mission."""
    organisation = await commune(db, name)
    nadia = await volunteer(db, 1, "Nadia")
    await organisations.join(db, nadia.id, organisation.invite_code)
    if group:
        await organisations.link_admin_chat(
            db, person_id=nadia.id, organisation_id=organisation.id, chat_id=GROUP, title="g"
        )
    mission_id = await polling_station(
        db, organisation.id, now=created, starts_at=starts_at, capacity=capacity
    )
    return Commune(organisation.id, nadia, mission_id, await first_slot(db, mission_id))


async def applied(
    db: Database, slot_id: int, telegram_user_id: int, name: str, *, at: datetime = NOW
) -> ApplicationView:
    """`name` applies; the application is dated `at` (services stamp the wall clock)."""
    person = await volunteer(db, telegram_user_id, name)
    view = await applications.apply(db, person_id=person.id, slot_id=slot_id, now=at)
    async with db.transaction("test_backdate") as conn:
        await conn.execute(
            update(schema.applications)
            .where(schema.applications.c.id == view.id)
            .values(created_at=at)
        )
    return view


async def set_status(db: Database, application_id: int, status: ApplicationStatus) -> None:
    async with db.transaction("test_set_status") as conn:
        await conn.execute(
            update(schema.applications)
            .where(schema.applications.c.id == application_id)
            .values(status=status)
        )


async def outbox(db: Database, kind: str) -> list[Any]:
    o = schema.outbox
    async with db.reading("test_outbox") as conn:
        return list((await conn.execute(select(o).where(o.c.kind == kind).order_by(o.c.id))).all())


async def application_row(db: Database, application_id: int) -> Any:
    a = schema.applications
    async with db.reading("test_application") as conn:
        return (await conn.execute(select(a).where(a.c.id == application_id))).one()


async def audit_actions(db: Database, subject_type: str, subject_id: int) -> list[Any]:
    log = schema.audit_log
    async with db.reading("test_audit") as conn:
        return list(
            (
                await conn.execute(
                    select(log)
                    .where(log.c.subject_type == subject_type, log.c.subject_id == subject_id)
                    .order_by(log.c.id)
                )
            ).all()
        )
