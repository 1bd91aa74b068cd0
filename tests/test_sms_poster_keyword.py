"""By SMS, a poster's keyword works from a number we do not know yet, and a mission's
detail says what the mission is about, not only when."""

from __future__ import annotations

from bot.runtime import Renfort
from bot.services import keywords, organisations
from handlers.sms.conversation import SmsConversations
from handlers.sms.gsm7 import segments
from handlers.telegram.posters import reserved
from storage.database import Database
from tests.conftest import NOW
from tests.factories import commune, polling_station, volunteer
from tests.harness import FakeClock
from tests.sms_steps import Resident, sms_renfort


async def poster_mission(db: Database) -> str:
    org = await commune(db)
    coordinator = await volunteer(db, 1, "Nadia")
    await organisations.join(db, coordinator.id, org.invite_code)
    mission = await polling_station(db, org.id, now=NOW, title="Bureau de vote n°3")
    return await keywords.ensure_keyword(
        db, actor_id=coordinator.id, mission_id=mission, reserved=reserved
    )


async def test_a_poster_keyword_from_an_unknown_number_leads_to_that_mission_once_registered(
    db: Database,
) -> None:
    keyword = await poster_mission(db)
    renfort: Renfort = sms_renfort(db, FakeClock(NOW))
    resident = Resident(SmsConversations(renfort), phone="+33698765432")

    welcome = await resident.says(keyword.lower())
    assert "Camille 52100" in welcome
    assert "code postal" in (await resident.says("Camille"))
    answer = await resident.says("52100")

    assert "Camille" in answer and "Bureau de vote" in answer
    assert "Tenir le bureau de vote" in answer  # the description
    assert "\n1 " in answer  # the slot, numbered to apply
    applied = await resident.says("1")
    assert "Bureau de vote" in applied and "Mairie" in applied


async def test_a_mission_detail_by_sms_shows_its_description_within_two_sms(db: Database) -> None:
    keyword = await poster_mission(db)
    renfort: Renfort = sms_renfort(db, FakeClock(NOW))
    resident = Resident(SmsConversations(renfort))
    await resident.registers()

    answer = await resident.says(keyword)
    assert "Tenir le bureau de vote avec le président." in answer
    assert "1 " in answer and segments(answer) <= 2


async def test_a_poster_keyword_then_name_and_postcode_show_the_mission_at_once(
    db: Database,
) -> None:
    keyword = await poster_mission(db)
    renfort: Renfort = sms_renfort(db, FakeClock(NOW))
    resident = Resident(SmsConversations(renfort), phone="+33698765432")
    await resident.says(keyword)
    answer = await resident.says("Je suis Camille, 52100")
    assert "Merci Camille" in answer and "Bureau de vote" in answer and "\n1 " in answer
