"""A mission's conditions ("on the electoral roll of the département"): confirmed with a
button in Telegram or YES by SMS before applying, asked once per organisation, kept with
the application and shown to the coordinators."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from sqlalchemy import select

from bot.runtime import Renfort
from bot.services import applications, exports, missions, organisations, people
from handlers.sms.conversation import SmsConversations
from handlers.telegram.applying import CONFIRM_APPLY
from handlers.telegram.flow import PICK_SLOT
from renfort.sandbox.telegram_double import SentMessage
from storage import schema
from storage.database import Database
from tests.conftest import NOW
from tests.factories import ELECTION_MORNING, commune, first_slot, polling_station, volunteer
from tests.harness import Bot, FakeClock, running_bot, sqlite_file_url
from tests.organiser_steps import (
    COORDINATOR,
    GROUP,
    VOLUNTEER,
    coordinator_with_group,
    say,
    tap_action,
)
from tests.sms_steps import Resident, sms_renfort

ROLL = "Être inscrit sur les listes électorales de la commune."
ADULT = "Avoir 18 ans ou plus."


async def station(db: Database, organisation_id: int, title: str, hours: int = 0) -> int:
    """A polling station whose volunteers confirm the two conditions first."""
    return await polling_station(
        db,
        organisation_id,
        now=NOW,
        title=title,
        starts_at=ELECTION_MORNING + timedelta(hours=hours),
        conditions=(ROLL, ADULT),
    )


async def kept_conditions(db: Database, application_id: int) -> list[str]:
    a = schema.applications
    async with db.reading("test") as conn:
        value = await conn.scalar(select(a.c.conditions).where(a.c.id == application_id))
    return list(value or ())


async def test_conditions_are_confirmed_by_button_once_per_organisation_and_shown_to_coordinators(
    tmp_path: Path,
) -> None:
    async with running_bot(sqlite_file_url(tmp_path), FakeClock(NOW), renfort_locale="en") as bot:
        mairie = await coordinator_with_group(bot)
        morning = await station(bot.db, mairie.id, "Assesseur matin")
        afternoon = await station(bot.db, mairie.id, "Assesseur après-midi", hours=6)
        camille = await volunteer(bot.db, VOLUNTEER, "Camille")
        await people.update_profile(bot.db, camille.id, locale="en")
        slot = await first_slot(bot.db, morning)

        detail = (await say(bot, VOLUNTEER, f"/start m{morning}"))[-1]
        await tap_action(bot, VOLUNTEER, detail, PICK_SLOT, slot=slot)
        assert ROLL in detail.text and "Is this true for you?" in detail.text
        await tap_action(bot, VOLUNTEER, detail, PICK_SLOT, ok=[ROLL])
        assert ADULT in detail.text
        await tap_action(bot, VOLUNTEER, detail, PICK_SLOT, ok=[ROLL, ADULT])
        assert "Shall I send your application" in detail.text
        before = len(bot.double.messages[GROUP])
        await tap_action(bot, VOLUNTEER, detail, CONFIRM_APPLY, slot=slot)
        [view] = await applications.applications_of(bot.db, camille.id, now=NOW)
        assert await kept_conditions(bot.db, view.id) == [ROLL, ADULT]
        coordinator = await people.find_by_telegram(bot.db, COORDINATOR)
        assert coordinator is not None
        export = await exports.export_applications(
            bot.db, actor_id=coordinator.id, mission_id=morning
        )
        csv_text = exports.to_csv(export, [str(n) for n in range(9)], "yes", "no").decode()
        assert f"{ROLL} / {ADULT}" in csv_text

        await bot.drain()
        card = await bot.double.wait_for(GROUP, "Camille", after=before)
        assert f"Confirms: {ROLL}" in card.text and f"Confirms: {ADULT}" in card.text
        pending = await say(bot, COORDINATOR, "/pending", chat_id=GROUP)
        assert any(f"Confirms: {ROLL}" in m.text for m in pending)
        roster = await say(bot, COORDINATOR, "/roster", chat_id=GROUP)
        assert "Camille" in roster[-1].text and "2 conditions confirmed" in roster[-1].text

        # The same organisation, the same conditions: not asked again.
        other = (await say(bot, VOLUNTEER, f"/start m{afternoon}"))[-1]
        await tap_action(bot, VOLUNTEER, other, PICK_SLOT, slot=await first_slot(bot.db, afternoon))
        assert "Shall I send your application" in other.text


async def test_conditions_are_confirmed_by_yes_over_sms_and_a_no_stops_the_application(
    db: Database,
) -> None:
    mairie = await commune(db)
    coordinator = await volunteer(db, 1, "Nadia")
    await organisations.join(db, coordinator.id, mairie.invite_code)
    await station(db, mairie.id, "Assesseur matin")
    renfort: Renfort = sms_renfort(db, FakeClock(NOW))
    doubtful = Resident(SmsConversations(renfort), phone="+33611111111")
    await doubtful.registers()
    await doubtful.says("MISSIONS")
    detail = await doubtful.says("1")
    assert "Conditions:" in detail or "Conditions :" in detail
    asked = await doubtful.says("1")
    assert "1/2" in asked and "listes electorales" in asked.replace("é", "e")
    assert "pas pour vous" in await doubtful.says("NON")

    resident = Resident(SmsConversations(renfort))
    await resident.registers()
    await resident.says("MISSIONS")
    await resident.says("1")
    await resident.says("1")
    second = await resident.says("OUI")
    assert "2/2" in second and "18 ans" in second
    applied = await resident.says("oui")
    assert "Assesseur matin" in applied
    async with db.reading("test") as conn:
        rows = (await conn.execute(select(schema.applications.c.conditions))).scalars().all()
    assert rows == [[ROLL, ADULT]]


async def new_mission_summary(bot: Bot) -> SentMessage:
    """/newmission typed through to its summary, one slot of four volunteers and no
    condition yet: the screen that offers Add a condition."""
    await say(bot, COORDINATOR, "/newmission")
    domains = (await say(bot, COORDINATOR, "Scrutateur au bureau 3"))[-1]
    await tap_action(bot, COORDINATOR, domains, "nm_pick_domain", domain="citizenship")
    await say(bot, COORDINATOR, "12 rue de la République, 52100 Saint-Dizier")
    await say(bot, COORDINATOR, "13/06/2027 18h-20h")
    return (await say(bot, COORDINATOR, "4"))[-1]


async def test_a_coordinator_adds_a_condition_at_newmission(tmp_path: Path) -> None:
    async with running_bot(sqlite_file_url(tmp_path), FakeClock(NOW), renfort_locale="en") as bot:
        mairie = await coordinator_with_group(bot)
        more = await new_mission_summary(bot)
        asked = await tap_action(bot, COORDINATOR, more, "nm_add_condition")
        assert "Type one condition" in asked[-1].text
        [too_short] = await say(bot, COORDINATOR, "ok")
        assert "3 to 150 characters" in too_short.text
        [summary] = await say(bot, COORDINATOR, ADULT)
        assert "Volunteers confirm before applying:" in summary.text and ADULT in summary.text
        await tap_action(bot, COORDINATOR, summary, "nm_publish")
        assert "Published" in summary.text

        page = await missions.discover(bot.db, now=NOW, near=None, radius_km=None)
        detail = await missions.mission_detail(bot.db, page.cards[0].id)
        assert detail.conditions == (ADULT,) and detail.organisation_id == mairie.id


async def test_after_five_conditions_no_screen_offers_a_sixth(tmp_path: Path) -> None:
    async with running_bot(sqlite_file_url(tmp_path), FakeClock(NOW), renfort_locale="en") as bot:
        await coordinator_with_group(bot)
        summary = await new_mission_summary(bot)
        for number in range(1, 6):
            await tap_action(bot, COORDINATOR, summary, "nm_add_condition")
            [summary] = await say(bot, COORDINATOR, f"Condition number {number}.")
        assert "Add a condition" not in str(summary.buttons)
        # Another slot brings the buttons back: still no sixth condition on offer.
        await tap_action(bot, COORDINATOR, summary, "nm_add_slot")
        await say(bot, COORDINATOR, "14/06/2027 18h-20h")
        after_slot = (await say(bot, COORDINATOR, "4"))[-1]
        assert "Publish" in str(after_slot.buttons)
        assert "Add a condition" not in str(after_slot.buttons)
