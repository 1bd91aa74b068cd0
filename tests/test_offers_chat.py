"""Offers as people live them: a Telegram volunteer taps Accept or Decline, or lets the time
run out; a resident without a smartphone answers OUI or NON by SMS."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from sqlalchemy import update

from bot.domain import ApplicationStatus
from bot.i18n import Translator
from bot.scheduler.tick import tick
from bot.services import applications, organisations, phones
from bot.services.applications import ApplicationView
from bot.services.offers import OfferAnswer, OfferOutcome
from handlers.sms import replies
from handlers.sms.conversation import SmsConversations
from handlers.telegram.offers import answer_text
from storage import schema
from storage.database import Database
from tests.conftest import NOW
from tests.factories import commune, first_slot, polling_station, volunteer
from tests.harness import Bot, FakeClock
from tests.sms_steps import Resident, sms_renfort
from tests.test_volunteer_support import Chat, database_url, volunteer_bot

FR = Translator("fr")


async def full_slot(db: Database, holder_id: int = 1) -> tuple[int, ApplicationView]:
    """A one-place slot of a staffed commune, held by a volunteer."""
    org = await commune(db)
    coordinator = await volunteer(db, 99, "Nadia")
    await organisations.join(db, coordinator.id, org.invite_code)
    slot_id = await first_slot(db, await polling_station(db, org.id, now=NOW, capacity=1))
    holder = await volunteer(db, holder_id, "Camille")
    held = await applications.apply(db, person_id=holder.id, slot_id=slot_id, now=NOW)
    return slot_id, held


async def wait_in_line(bot: Bot, chat: Chat, slot_id: int) -> ApplicationView:
    person = await volunteer(bot.db, chat.user_id, chat.first_name)
    return await applications.apply(bot.db, person_id=person.id, slot_id=slot_id, now=NOW)


async def let_go(bot: Bot, view: ApplicationView) -> None:
    """The holder cancels and the offer it causes is delivered."""
    await applications.cancel(
        bot.db, person_id=view.person_id, application_id=view.id, now=bot.clock()
    )
    await bot.drain()


async def test_a_volunteer_accepts_a_freed_place_with_one_tap(tmp_path: Path) -> None:
    async with volunteer_bot(database_url(tmp_path), FakeClock(NOW)) as bot:
        bot.double.user(99, "Nadia", "fr")
        slot_id, held = await full_slot(bot.db)
        lucas = Chat(bot, 2, "Lucas")
        waiting = await wait_in_line(bot, lucas, slot_id)

        await let_go(bot, held)

        offer = bot.double.find(lucas.user_id, "🎉")
        assert "dimanche 13 juin 2027" in offer.text and "École Jules Ferry" in offer.text
        assert "lundi 7 juin 2027 à 23:00" in offer.text  # 12 h later, Paris time
        await lucas.tap(offer, "✅")
        view = await applications.get_application(bot.db, waiting.id)
        assert view.status == ApplicationStatus.PENDING
        assert offer.text == answer_text(lucas.t, OfferAnswer(view, OfferOutcome.ACCEPTED))
        await bot.drain()
        assert any("Lucas" in text for text in bot.double.texts(99))  # to the coordinator

        mine = (await lucas.say("/mymissions"))[-1]
        assert "📨" in mine.text and "23:00" not in mine.text


async def test_mymissions_shows_the_offer_and_declining_passes_it_on(tmp_path: Path) -> None:
    async with volunteer_bot(database_url(tmp_path), FakeClock(NOW)) as bot:
        slot_id, held = await full_slot(bot.db)
        lucas, ines = Chat(bot, 2, "Lucas"), Chat(bot, 3, "Inès")
        first = await wait_in_line(bot, lucas, slot_id)
        await wait_in_line(bot, ines, slot_id)
        await let_go(bot, held)

        mine = (await lucas.say("/mymissions"))[-1]
        assert "🎉" in mine.text and "lundi 7 juin 2027 à 23:00" in mine.text
        await lucas.tap(mine, "❌")

        view = await applications.get_application(bot.db, first.id)
        assert (view.status, view.reason) == (ApplicationStatus.CANCELLED, "offer_declined")
        assert mine.text == answer_text(lucas.t, OfferAnswer(view, OfferOutcome.DECLINED))
        await bot.drain()
        assert "dimanche 13 juin 2027" in bot.double.find(ines.user_id, "🎉").text


async def test_an_offer_left_unanswered_times_out_at_the_tick(tmp_path: Path) -> None:
    clock = FakeClock(NOW)
    async with volunteer_bot(database_url(tmp_path), clock) as bot:
        slot_id, held = await full_slot(bot.db)
        lucas, ines = Chat(bot, 2, "Lucas"), Chat(bot, 3, "Inès")
        first = await wait_in_line(bot, lucas, slot_id)
        await wait_in_line(bot, ines, slot_id)
        await let_go(bot, held)
        offer = bot.double.find(lucas.user_id, "🎉")

        clock.advance(hours=12)
        assert (await tick(bot.renfort))["offers"] == 1
        assert (await tick(bot.renfort))["offers"] == 0  # a second run finds nothing
        await bot.drain()

        assert bot.double.find(lucas.user_id, "⌛")
        assert "mardi 8 juin 2027 à 11:00" in bot.double.find(ines.user_id, "🎉").text
        await lucas.tap(offer, "✅")
        view = await applications.get_application(bot.db, first.id)
        assert offer.text == answer_text(lucas.t, OfferAnswer(view, OfferOutcome.CLOSED))


async def resident_waiting(db: Database) -> tuple[Resident, ApplicationView, ApplicationView]:
    """A registered resident on the waitlist of a full slot, and the holder's application."""
    resident = Resident(SmsConversations(sms_renfort(db, FakeClock(NOW))))
    await resident.registers("Martine")
    slot_id, held = await full_slot(db)
    contact = await phones.find_by_phone(db, resident.phone)
    assert contact is not None
    waiting = await applications.apply(db, person_id=contact.person.id, slot_id=slot_id, now=NOW)
    return resident, waiting, held


async def test_a_resident_takes_an_offered_place_by_answering_oui(db: Database) -> None:
    resident, waiting, held = await resident_waiting(db)
    assert await resident.says("OUI") == replies.nothing_to_answer(FR)  # nothing open yet

    await applications.cancel(db, person_id=held.person_id, application_id=held.id, now=NOW)
    assert FR._("place offered: reply YES") in await resident.says("MES MISSIONS")
    answer = await resident.says("oui")

    view = await applications.get_application(db, waiting.id)
    assert view.status == ApplicationStatus.PENDING
    assert answer == replies.offer_accepted(FR, view, NOW.date())
    assert await resident.says("OUI") == replies.nothing_to_answer(FR)  # answered already


async def test_a_stopped_resident_saying_oui_only_opts_back_in(db: Database) -> None:
    resident, waiting, held = await resident_waiting(db)
    await applications.cancel(db, person_id=held.person_id, application_id=held.id, now=NOW)

    await resident.says("STOP")
    assert await resident.says("OUI") == replies.resumed(FR)
    assert (await applications.get_application(db, waiting.id)).offer_expires_at is not None

    answer = await resident.says("NON")
    view = await applications.get_application(db, waiting.id)
    assert view.reason == "offer_declined"
    assert answer == replies.offer_declined(FR, view, NOW.date())


async def test_a_bare_oui_answers_the_question_that_runs_out_first(db: Database) -> None:
    resident, offered, held = await resident_waiting(db)
    await applications.cancel(db, person_id=held.person_id, application_id=held.id, now=NOW)
    org = await organisations.find_organisation_by_name(db, "Mairie de Saint-Dizier")
    assert org is not None
    today = await first_slot(
        db,
        await polling_station(
            db, org.id, now=NOW, title="Distribution", starts_at=NOW + timedelta(hours=5), hours=2
        ),
    )
    soon = await applications.apply(db, person_id=offered.person_id, slot_id=today, now=NOW)
    coordinator = await coordinator_id(db)
    await applications.decide(db, application_id=soon.id, actor_id=coordinator, approve=True)
    a = schema.applications
    async with db.transaction("test") as conn:
        await conn.execute(update(a).where(a.c.id == soon.id).values(attendance_asked_at=NOW))

    await resident.says("OUI")  # "Still coming?" ends at 16:00, the offer at 23:00
    assert (await applications.get_application(db, soon.id)).status == "confirmed"
    assert (await applications.get_application(db, offered.id)).status == "waitlisted"
    await resident.says("O")
    assert (await applications.get_application(db, offered.id)).status == "pending"


async def coordinator_id(db: Database) -> int:
    """The commune's coordinator, created by full_slot."""
    person = await volunteer(db, 99, "Nadia")
    return person.id
