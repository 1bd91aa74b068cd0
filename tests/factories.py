"""Builders of realistic data for tests: a commune, a polling station, volunteers."""

from __future__ import annotations

from datetime import datetime, timedelta

from bot.domain import GeoPoint
from bot.geo import lookup_offline
from bot.services import missions, organisations, people
from bot.services.missions import MissionSpec, SlotSpec
from storage.database import Database

SAINT_DIZIER = GeoPoint(48.6383, 4.9497)
ELECTION_MORNING = datetime.fromisoformat("2027-06-13T08:00:00+02:00")


async def commune(db: Database, name: str = "Mairie de Saint-Dizier") -> organisations.Organisation:
    return await organisations.create_organisation(db, name, "52100")


async def polling_station(
    db: Database,
    organisation_id: int,
    *,
    now: datetime,
    capacity: int = 2,
    title: str = "Assesseur — bureau de vote n°3",
    starts_at: datetime = ELECTION_MORNING,
    hours: int = 5,
    point: GeoPoint = SAINT_DIZIER,
    conditions: tuple[str, ...] = (),
) -> int:
    spec = MissionSpec(
        organisation_id=organisation_id,
        title=title,
        domain="citizenship",
        description="Tenir le bureau de vote avec le président.",
        address="École Jules Ferry, 12 rue de la République",
        postcode="52100",
        point=point,
        slots=(SlotSpec(starts_at, starts_at + timedelta(hours=hours), capacity),),
        conditions=conditions,
    )
    return await missions.create_mission(db, spec, actor_id=None, now=now)


async def volunteer(
    db: Database, telegram_user_id: int, first_name: str = "Camille", postcode: str = "52100"
) -> people.Person:
    person = await people.ensure_telegram_person(
        db,
        telegram_user_id=telegram_user_id,
        chat_id=telegram_user_id,
        first_name=first_name,
        language_code="fr",
    )
    return await people.update_profile(
        db,
        person.id,
        home=lookup_offline(postcode),
        interests=["citizenship"],
        complete_registration=True,
    )


async def first_slot(db: Database, mission_id: int) -> int:
    detail = await missions.mission_detail(db, mission_id)
    return detail.slots[0].id
