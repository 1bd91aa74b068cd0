"""A yes to a callout for a mission with conditions ("on the electoral roll") asks the
conditions not yet confirmed to the organisation first, by button or by SMS CALLOUT_YES; the place
goes to whoever confirms first, and nothing is held meanwhile."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import select, update

from bot.actions import CALLOUT_YES
from bot.domain import ApplicationStatus
from bot.services import applications, callouts, organisations
from bot.services.callouts import Targeting
from handlers.sms.conversation import SmsConversations
from storage import schema
from storage.database import Database
from tests.conftest import NOW
from tests.factories import commune, first_slot, volunteer
from tests.harness import FakeClock
from tests.organiser_steps import (
    call_for_one,
    coordinator_with_group,
    tap_action,
    telegram_volunteer,
)
from tests.sms_steps import Resident, sms_renfort
from tests.test_callouts import person
from tests.test_conditions import ADULT, ROLL, kept_conditions, station
from tests.test_sms_end_to_end import renfort_with_sms

EVERYONE = Targeting(radius_km=10, domains=())
A = schema.applications


async def test_a_telegram_yes_confirms_the_conditions_before_taking_the_place(
    tmp_path: Path,
) -> None:
    async with renfort_with_sms(tmp_path) as (bot, _twilio):
        mairie = await coordinator_with_group(bot)
        mission = await station(bot.db, mairie.id, "Assesseur matin")
        camille = await telegram_volunteer(bot, 1001, "Camille")
        view = await call_for_one(bot, mission, EVERYONE, NOW)
        await bot.drain()
        alert = await bot.double.wait_for(1001, "Assesseur matin")

        await tap_action(bot, 1001, alert, CALLOUT_YES, callout_id=view.id)
        assert ROLL in alert.text and "Is this true for you?" in alert.text
        assert not await applications.applications_of(bot.db, camille, now=NOW)
        await tap_action(bot, 1001, alert, CALLOUT_YES, ok=[ROLL])
        assert ADULT in alert.text
        await tap_action(bot, 1001, alert, CALLOUT_YES, ok=[ROLL, ADULT])
        assert "You're on the team for <b>Assesseur matin" in alert.text

        [mine] = await applications.applications_of(bot.db, camille, now=NOW)
        assert mine.status == ApplicationStatus.APPROVED
        assert await kept_conditions(bot.db, mine.id) == [ROLL, ADULT]
        final = await callouts.get_callout(bot.db, view.id)
        assert (final.yes, final.status) == (1, "filled")


async def test_an_sms_oui_asks_the_conditions_and_a_non_declines(sqlite_db: Database) -> None:
    db = sqlite_db
    mairie = await commune(db)
    nadia = await volunteer(db, 1, "Nadia")
    await organisations.join(db, nadia.id, mairie.invite_code)
    mission = await station(db, mairie.id, "Assesseur matin")
    renfort = sms_renfort(db, FakeClock(NOW))
    willing = Resident(SmsConversations(renfort), phone="+33612340001")
    doubtful = Resident(SmsConversations(renfort), phone="+33612340002")
    for resident in (willing, doubtful):
        await resident.registers(postcode="52100")
    view = await callouts.launch(
        db,
        actor_id=nadia.id,
        slot_id=await first_slot(db, mission),
        needed=2,
        targeting=EVERYONE,
        now=NOW,
    )

    first = await willing.says("OUI")
    assert "1/2" in first and "listes electorales" in first.replace("é", "e")
    second = await willing.says("OUI")
    assert "2/2" in second and "18 ans" in second
    taken = await willing.says("OUI")
    assert "Assesseur matin" in taken

    assert "1/2" in await doubtful.says("OUI")
    assert "Assesseur matin" in await doubtful.says("NON")  # "we will not ask you again"

    async with db.reading("test") as conn:
        rows = (await conn.execute(select(A.c.status, A.c.conditions))).all()
    assert [(r.status, r.conditions) for r in rows] == [("approved", [ROLL, ADULT])]
    final = await callouts.get_callout(db, view.id)
    assert (final.yes, final.no) == (1, 1)


async def test_the_place_goes_to_whoever_confirms_first(db: Database) -> None:
    mairie = await commune(db)
    nadia = await volunteer(db, 1, "Nadia")
    await organisations.join(db, nadia.id, mairie.invite_code)
    mission = await station(db, mairie.id, "Assesseur matin")
    slot = await first_slot(db, mission)
    async with db.transaction("test") as conn:  # one place only
        await conn.execute(update(schema.slots).where(schema.slots.c.id == slot).values(capacity=1))
    early, quick = await person(db, 1, interests=()), await person(db, 2, interests=())
    view = await callouts.launch(
        db, actor_id=nadia.id, slot_id=slot, needed=1, targeting=EVERYONE, now=NOW
    )

    async def says_yes(who: int, confirmed: tuple[str, ...] = ()) -> str:
        answer = await callouts.answer(
            db, person_id=who, callout_id=view.id, available=True, now=NOW, confirmed=confirmed
        )
        return answer.outcome

    assert await says_yes(early) == "conditions"  # asked first, but the place is not held
    assert await says_yes(quick, (ROLL,)) == "conditions"
    assert await says_yes(quick, (ROLL, ADULT)) == "taken"
    assert await says_yes(early, (ROLL, ADULT)) == "waitlisted"
    async with db.reading("test") as conn:
        rows = (await conn.execute(select(A.c.person_id, A.c.status))).all()
    assert {r.person_id: r.status for r in rows} == {quick: "approved", early: "waitlisted"}


async def test_an_unclear_sms_answer_to_a_callout_condition_asks_it_again(
    sqlite_db: Database,
) -> None:
    db = sqlite_db
    mairie = await commune(db)
    nadia = await volunteer(db, 1, "Nadia")
    await organisations.join(db, nadia.id, mairie.invite_code)
    mission = await station(db, mairie.id, "Assesseur matin")
    resident = Resident(SmsConversations(sms_renfort(db, FakeClock(NOW))))
    await resident.registers(postcode="52100")
    await callouts.launch(
        db,
        actor_id=nadia.id,
        slot_id=await first_slot(db, mission),
        needed=1,
        targeting=EVERYONE,
        now=NOW,
    )

    assert "1/2" in await resident.says("OUI")
    assert "2/2" in await resident.says("OUI")
    again = await resident.says("je crois")
    assert "2/2" in again and "18 ans" in again
    assert "Assesseur matin" in await resident.says("OUI")
