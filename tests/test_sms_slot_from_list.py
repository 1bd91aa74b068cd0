"""Applying straight from the mission list by SMS: '2.1' is mission 2, slot 1, with the same
rules as applying from the mission's own page."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from bot.domain import ApplicationStatus
from bot.runtime import Renfort
from bot.services import applications, missions, organisations, phones
from bot.services.missions import MissionSpec, SlotSpec
from handlers.sms.conversation import SmsConversations
from storage import schema
from storage.database import Database
from tests.conftest import NOW
from tests.factories import ELECTION_MORNING, SAINT_DIZIER, commune, polling_station, volunteer
from tests.harness import FakeClock
from tests.sms_steps import Resident, sms_renfort

AFTERNOON = ELECTION_MORNING + timedelta(hours=6)


@pytest.fixture
def renfort(db: Database) -> Renfort:
    return sms_renfort(db, FakeClock(NOW))


@pytest.fixture
def resident(renfort: Renfort) -> Resident:
    return Resident(SmsConversations(renfort))


async def staffed(db: Database) -> int:
    org = await commune(db)
    coordinator = await volunteer(db, 77, "Nadia")
    await organisations.join(db, coordinator.id, org.invite_code)
    return org.id


async def morning_and_afternoon(db: Database, organisation_id: int) -> int:
    spec = MissionSpec(
        organisation_id=organisation_id,
        title="Accueil des électeurs",
        domain="citizenship",
        description="Accueillir et orienter.",
        address="Hôtel de ville",
        postcode="52100",
        point=SAINT_DIZIER,
        slots=(
            SlotSpec(ELECTION_MORNING, ELECTION_MORNING + timedelta(hours=5), 1),
            SlotSpec(AFTERNOON, AFTERNOON + timedelta(hours=5), 1),
        ),
    )
    return await missions.create_mission(db, spec, actor_id=None, now=NOW)


async def slot_ids(db: Database, mission_id: int) -> list[int]:
    s = schema.slots
    async with db.reading("test") as conn:
        query = select(s.c.id).where(s.c.mission_id == mission_id).order_by(s.c.starts_at)
        return list((await conn.scalars(query)).all())


async def mine(renfort: Renfort, resident: Resident) -> list[applications.ApplicationView]:
    contact = await phones.find_by_phone(renfort.db, resident.phone)
    assert contact is not None
    return await applications.applications_of(renfort.db, contact.person.id, now=NOW)


async def test_one_reply_to_the_list_applies_and_is_the_only_answer(
    renfort: Renfort, resident: Resident
) -> None:
    await polling_station(renfort.db, await staffed(renfort.db), now=NOW)
    await resident.registers(language="2")
    listing = await resident.says("MISSIONS")
    assert listing.startswith("1.1 Assesseur") and "Reply 1.1 to apply, 1 for details" in listing
    applied = await resident.says("1.1")
    assert applied.startswith("Applied") and "Sun 13 Jun 8am-1pm" in applied
    assert [a.status for a in await mine(renfort, resident)] == [ApplicationStatus.PENDING]
    assert "already applied" in (await resident.says("1,1"))


async def test_the_list_gives_the_number_of_the_free_date_it_shows(
    renfort: Renfort, resident: Resident
) -> None:
    mission = await morning_and_afternoon(renfort.db, await staffed(renfort.db))
    lou = await volunteer(renfort.db, 9, "Lou")
    morning, afternoon = await slot_ids(renfort.db, mission)
    await applications.apply(renfort.db, person_id=lou.id, slot_id=morning, now=NOW)
    await resident.registers(language="2")

    listing = await resident.says("MISSIONS")
    assert "1.2 Accueil des électeurs - Sun 13 Jun 2pm" in listing
    assert "Sun 13 Jun 2pm-7pm" in (await resident.says("1.2"))
    # The full morning, by its number on the mission's page: the waiting list, as there.
    assert "number 1 on the waiting list" in (await resident.says("1.1"))
    statuses = {a.slot_id: a.status for a in await mine(renfort, resident)}
    assert statuses == {afternoon: ApplicationStatus.PENDING, morning: ApplicationStatus.WAITLISTED}


async def test_conditions_are_confirmed_before_a_slot_from_the_list(
    renfort: Renfort, resident: Resident
) -> None:
    organisation = await staffed(renfort.db)
    await polling_station(renfort.db, organisation, now=NOW, conditions=("Avoir 18 ans.",))
    await resident.registers()
    await resident.says("MISSIONS")
    asked = await resident.says("1.1")
    assert "1/1" in asked and "18 ans" in asked
    assert "Candidature envoyée" in (await resident.says("OUI"))
    [application] = await mine(renfort, resident)
    assert application.status == ApplicationStatus.PENDING


async def test_a_no_to_a_condition_applies_for_nothing(
    renfort: Renfort, resident: Resident
) -> None:
    organisation = await staffed(renfort.db)
    await polling_station(renfort.db, organisation, now=NOW, conditions=("Avoir 18 ans.",))
    await resident.registers()
    await resident.says("MISSIONS")
    await resident.says("1.1")
    assert "pas pour vous" in (await resident.says("NON"))
    assert await mine(renfort, resident) == []


async def test_an_unclear_answer_to_a_condition_asks_it_again(
    renfort: Renfort, resident: Resident
) -> None:
    organisation = await staffed(renfort.db)
    conditions = ("Avoir 18 ans.", "Savoir compter.")
    await polling_station(renfort.db, organisation, now=NOW, conditions=conditions)
    await resident.registers()
    await resident.says("MISSIONS")
    await resident.says("1.1")
    assert "2/2" in (await resident.says("OUI"))
    again = await resident.says("peut-être")
    assert "2/2" in again and "compter" in again and "OUI ou NON" in again
    assert "Candidature envoyée" in (await resident.says("oui"))


async def test_an_overlapping_slot_from_the_list_is_refused_kindly(
    renfort: Renfort, resident: Resident
) -> None:
    organisation = await staffed(renfort.db)
    for title in ("Assesseur bureau 1", "Assesseur bureau 2"):
        await polling_station(renfort.db, organisation, now=NOW, title=title)
    await resident.registers(language="2")
    await resident.says("MISSIONS")
    assert "Applied" in (await resident.says("1.1"))
    refused = await resident.says("2.1")
    assert "already busy" in refused and "Assesseur bureau 1" in refused
    assert len(await mine(renfort, resident)) == 1


async def test_numbers_outside_the_list_or_without_one_are_explained(
    renfort: Renfort, resident: Resident
) -> None:
    await morning_and_afternoon(renfort.db, await staffed(renfort.db))
    await resident.registers(language="2")
    assert "Send MISSIONS to see the missions" in (await resident.says("1.1"))
    await resident.says("MISSIONS")
    assert "reply 1.1 to 1.2" in (await resident.says("1.3"))
    assert "Reply 1, or send MISSIONS" in (await resident.says("4.1"))
    assert await mine(renfort, resident) == []


async def test_a_slot_from_the_list_works_after_opening_another_mission(
    renfort: Renfort, resident: Resident
) -> None:
    organisation = await staffed(renfort.db)
    await polling_station(renfort.db, organisation, now=NOW, title="Assesseur bureau 1")
    await morning_and_afternoon(renfort.db, organisation)
    await resident.registers(language="2")
    listing = await resident.says("MISSIONS")
    assert "2.1 Accueil" in listing
    await resident.says("1")  # the polling station's page
    applied = await resident.says("2.2")
    assert "Accueil des électeurs" in applied and "2pm-7pm" in applied
