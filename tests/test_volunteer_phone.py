"""A Telegram volunteer adds their phone: when Telegram cannot reach them, SMS does."""

from __future__ import annotations

from pathlib import Path

from bot.services import applications, people
from tests.conftest import NOW
from tests.factories import first_slot, polling_station, volunteer
from tests.organiser_steps import COORDINATOR, GROUP, VOLUNTEER, coordinator_with_group
from tests.test_sms_end_to_end import approve, renfort_with_sms

PHONE = "06 12 34 56 78"


async def test_a_volunteer_who_blocked_the_bot_hears_the_decision_by_sms(tmp_path: Path) -> None:
    async with renfort_with_sms(tmp_path) as (bot, twilio):
        mairie = await coordinator_with_group(bot)
        camille = await volunteer(bot.db, VOLUNTEER, "Camille")
        profile = (await bot.say(VOLUNTEER, "/profile"))[-1]
        asked = await bot.tap(VOLUNTEER, profile, "Phone")
        assert "only if you allow that organisation" in asked[-1].text

        await bot.settle(bot.double.share_contact(VOLUNTEER, "+33612345678"))
        assert "SMS" in bot.double.last(VOLUNTEER).text
        assert (await people.get_person(bot.db, camille.id)).has_phone

        slot_id = await first_slot(bot.db, await polling_station(bot.db, mairie.id, now=NOW))
        await applications.apply(bot.db, person_id=camille.id, slot_id=slot_id, now=NOW)
        await bot.drain()
        posted = await bot.double.wait_for(GROUP, "Camille")
        assert "+33" not in posted.text and "06 12" not in posted.text

        bot.double.block(VOLUNTEER)
        await approve(bot, posted)
        await twilio.settle()
        assert any("Assesseur" in body for body in twilio.received("+33612345678"))
        assert (await people.get_person(bot.db, camille.id)).telegram_unreachable


async def test_someone_elses_contact_card_is_not_kept(tmp_path: Path) -> None:
    async with renfort_with_sms(tmp_path) as (bot, _twilio):
        await coordinator_with_group(bot)
        camille = await volunteer(bot.db, VOLUNTEER, "Camille")
        await bot.settle(bot.double.share_contact(VOLUNTEER, PHONE, owner_id=COORDINATOR))
        assert "your own number" in bot.double.last(VOLUNTEER).text
        assert not (await people.get_person(bot.db, camille.id)).has_phone


async def test_a_landline_is_refused_with_a_reason(tmp_path: Path) -> None:
    async with renfort_with_sms(tmp_path) as (bot, _twilio):
        await coordinator_with_group(bot)
        camille = await volunteer(bot.db, VOLUNTEER, "Camille")
        await bot.settle(bot.double.share_contact(VOLUNTEER, "+33145678912"))
        assert "landline" in bot.double.last(VOLUNTEER).text
        assert not (await people.get_person(bot.db, camille.id)).has_phone
