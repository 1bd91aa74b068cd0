"""Coordinators change a published mission from the chat, and everyone concerned hears of
it on their own channel: a slot moved an hour later, a weekly distribution typed in one
message, places added or cut, a mission cancelled with its reason."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import select

from bot.domain import ApplicationStatus, MissionStatus
from bot.services import applications, missions
from renfort.sandbox.telegram_double import SentMessage
from storage import schema
from tests.conftest import NOW
from tests.factories import ELECTION_MORNING
from tests.harness import Bot, FakeClock, running_bot, sqlite_file_url
from tests.organiser_steps import (
    COORDINATOR,
    GROUP,
    STRANGER,
    coordinator_with_group,
    finished,
    say,
    tap_action,
)
from tests.schedule_steps import Place, approved, person, place
from tests.test_sms_end_to_end import (
    PHONE,
    approved_by_sms,
    person_id,
    renfort_with_sms,
    texts,
)

DAY_BEFORE = datetime(2027, 6, 12, 16, 0, tzinfo=UTC)  # Saturday 18:00 in Paris


async def answer(bot: Bot, prompt: SentMessage, text: str) -> list[SentMessage]:
    """The coordinator replies to the bot's question (all a bot sees in a group)."""
    chat = prompt.chat_id
    before = len(bot.double.messages[chat])
    await bot.settle(bot.double.send_text(COORDINATOR, text, chat, reply_to=prompt))
    await finished(bot)
    return bot.double.messages[chat][before:]


async def edit_list(bot: Bot, chat: int = GROUP) -> SentMessage:
    """/edit: the list of missions (news of applications may reach the group meanwhile)."""
    await say(bot, COORDINATOR, "/edit", chat_id=chat)
    return bot.double.find(chat, "Which mission")


async def slot_menu(bot: Bot, spot: Place, chat: int = GROUP) -> SentMessage:
    """/edit, the mission, Slots, the slot: the message now shows Times, Capacity, Cancel."""
    shown = await edit_list(bot, chat)
    await tap_action(bot, COORDINATOR, shown, "ed.mission", m=spot.mission_id)
    await tap_action(bot, COORDINATOR, shown, "ed.slots", m=spot.mission_id)
    await tap_action(bot, COORDINATOR, shown, "ed.slot", s=spot.slot_id)
    return shown


async def published(bot: Bot, capacity: int = 2) -> Place:
    """A mission on election morning of the organisation whose coordinator has its group."""
    organisation = await coordinator_with_group(bot)
    return await place(
        bot.db, now=NOW, starts_at=ELECTION_MORNING, capacity=capacity, organisation=organisation
    )


async def ana_bo_and_cy_apply(bot: Bot, spot: Place) -> dict[str, int]:
    """Three volunteers apply to the slot, in that order; their applications by name."""
    held: dict[str, int] = {}
    for user_id, name in ((21, "Ana"), (22, "Bo"), (23, "Cy")):
        bot.double.user(user_id, name, language_code="en")
        who = await person(bot.db, user_id, name, "en")
        view = await applications.apply(bot.db, person_id=who.id, slot_id=spot.slot_id, now=NOW)
        held[name] = view.id
    return held


async def audit_actions(bot: Bot) -> list[str]:
    log = schema.audit_log
    async with bot.db.reading("test") as conn:
        return [str(a) for a in await conn.scalars(select(log.c.action).order_by(log.c.id))]


async def test_a_slot_moved_an_hour_later_reaches_both_holders_and_their_reminders_follow(
    tmp_path: Path,
) -> None:
    async with renfort_with_sms(tmp_path) as (bot, twilio):
        spot = await published(bot)
        camille = await person(bot.db, 20, "Camille", "en")
        await approved(bot.db, spot, camille.id, NOW)
        await approved_by_sms(bot, twilio, "Lou", spot.coordinator_id)
        bot.clock.current = DAY_BEFORE
        await bot.tick_and_send()  # the day-before reminders leave for 8:00

        shown = await slot_menu(bot, spot)
        [prompt] = await tap_action(bot, COORDINATOR, shown, "ed.times", s=spot.slot_id)
        [done] = await answer(bot, prompt, "9h-14h")

        assert "New time" in done.text and "2 people concerned are told" in done.text
        [moved] = [m for m in bot.double.messages[20] if "New time" in m.text]
        assert "8:00" in moved.text and "9:00" in moved.text and "2:00" in moved.text
        [sms] = [s.body for s in twilio.inbox[PHONE] if "new time" in s.body]
        assert "9am-2pm" in sms and "8am-1pm" in sms
        detail = await missions.mission_detail(bot.db, spot.mission_id)
        assert detail.slots[0].starts_at == ELECTION_MORNING + timedelta(hours=1)

        await bot.tick_and_send()  # a reminder for the new time, the old one no longer blocks
        reminders = [m.text for m in bot.double.messages[20] if "⏰" in m.text]
        assert len(reminders) == 2 and "9:00" in reminders[1]
        assert any("reminder" in s.body and "9am" in s.body for s in twilio.inbox[PHONE])
        bot.clock.current = ELECTION_MORNING - timedelta(hours=2)  # 6:00, no longer 2 h before
        await bot.tick_and_send()
        assert not [m for m in bot.double.messages[20] if "Soon" in m.text]
        bot.clock.current = ELECTION_MORNING - timedelta(hours=1)  # 7:00, 2 h before 9:00
        await bot.tick_and_send()
        assert len([m for m in bot.double.messages[20] if "Soon" in m.text]) == 1
        assert "slot.moved" in await audit_actions(bot)


async def test_a_weekly_distribution_is_typed_in_one_message_and_confirmed(tmp_path: Path) -> None:
    async with running_bot(sqlite_file_url(tmp_path), FakeClock(NOW)) as bot:
        spot = await published(bot)
        [shown] = await say(bot, COORDINATOR, "/edit")
        await tap_action(bot, COORDINATOR, shown, "ed.mission", m=spot.mission_id)
        [prompt] = await tap_action(bot, COORDINATOR, shown, "ed.add", m=spot.mission_id)
        assert "every Tuesday" in prompt.text

        [listed] = await say(bot, COORDINATOR, "every Tuesday 9:00–12:00 until 29 June")
        assert "4 new slots, 2 volunteers each" in listed.text
        for day in ("8 June", "15 June", "22 June", "29 June"):
            assert f"Tuesday {day} 2027, 9:00" in listed.text
        [again] = await say(bot, COORDINATOR, "3")
        assert "4 new slots, 3 volunteers each" in again.text
        await tap_action(bot, COORDINATOR, again, "ed.add_ok", m=spot.mission_id)

        assert "4 slots added" in again.text
        detail = await missions.mission_detail(bot.db, spot.mission_id)
        added = [s for s in detail.slots if s.id != spot.slot_id]
        assert [s.starts_at.astimezone(detail.zone).hour for s in added] == [9, 9, 9, 9]
        assert {s.capacity for s in added} == {3}
        assert "slot.added" in await audit_actions(bot)


async def test_raising_capacity_offers_the_new_place_to_the_first_waiting(tmp_path: Path) -> None:
    async with running_bot(sqlite_file_url(tmp_path), FakeClock(NOW)) as bot:
        spot = await published(bot, capacity=1)
        await ana_bo_and_cy_apply(bot, spot)

        shown = await slot_menu(bot, spot)
        [prompt] = await tap_action(bot, COORDINATOR, shown, "ed.capacity", s=spot.slot_id)
        [done] = await answer(bot, prompt, "2")

        assert "Capacity now 2 places" in done.text and "1 new place offered" in done.text
        assert any("A place freed up for you" in m.text for m in bot.double.messages[22])
        assert not any("A place freed up" in m.text for m in bot.double.messages[23])
        assert "slot.capacity" in await audit_actions(bot)


async def test_lowering_capacity_asks_whom_to_move_and_they_go_first_in_line(
    tmp_path: Path,
) -> None:
    async with running_bot(sqlite_file_url(tmp_path), FakeClock(NOW)) as bot:
        spot = await published(bot)
        held = await ana_bo_and_cy_apply(bot, spot)

        shown = await slot_menu(bot, spot)
        [prompt] = await tap_action(bot, COORDINATOR, shown, "ed.capacity", s=spot.slot_id)
        [question] = await answer(bot, prompt, "1")

        assert "Whom do you move" in question.text
        assert question.button_texts()[:2] == ["Bo", "Ana"]  # the most recent first
        await tap_action(bot, COORDINATOR, question, "ed.move_pick", a=held["Bo"])
        assert question.button_texts()[0] == "✓ Bo"
        await tap_action(bot, COORDINATOR, question, "ed.move_ok")

        assert "Capacity now 1 place." in question.text and "Bo" in question.text
        bo = await applications.get_application(bot.db, held["Bo"])
        cy = await applications.get_application(bot.db, held["Cy"])
        assert bo.status == ApplicationStatus.WAITLISTED and bo.waitlist_position == 1
        assert cy.waitlist_position == 2
        assert any("back on the waiting list" in m.text for m in bot.double.messages[22])
        ana = await applications.get_application(bot.db, held["Ana"])
        assert ana.status == ApplicationStatus.PENDING
        assert "application.moved_to_waitlist" in await audit_actions(bot)


async def test_cancelling_a_mission_tells_everyone_with_the_reason(tmp_path: Path) -> None:
    async with renfort_with_sms(tmp_path) as (bot, twilio):
        spot = await published(bot, capacity=1)
        camille = await person(bot.db, 20, "Camille", "en")
        await approved(bot.db, spot, camille.id, NOW)
        await texts(twilio, "Hello, Lou 52100")
        waiting = await applications.apply(
            bot.db, person_id=await person_id(bot), slot_id=spot.slot_id, now=NOW
        )
        assert waiting.status == ApplicationStatus.WAITLISTED

        shown = await edit_list(bot)
        await tap_action(bot, COORDINATOR, shown, "ed.mission", m=spot.mission_id)
        [prompt] = await tap_action(bot, COORDINATOR, shown, "ed.cancel_mission", m=spot.mission_id)
        [again] = await answer(bot, prompt, "The school is flooded. " * 20)
        assert "under 300 characters" in again.text
        [done] = await answer(bot, again, "The school is flooded")

        assert "Mission cancelled" in done.text and "2 people concerned are told" in done.text
        [told] = [m.text for m in bot.double.messages[20] if "Mission cancelled" in m.text]
        assert "The school is flooded" in told
        assert any("The school is flooded" in s.body for s in twilio.inbox[PHONE])
        detail = await missions.mission_detail(bot.db, spot.mission_id)
        assert detail.status == MissionStatus.CANCELLED
        mine = await applications.applications_of(bot.db, camille.id, now=NOW)
        assert mine == []
        assert "mission.cancelled" in await audit_actions(bot)


async def test_a_slot_cancelled_with_a_reason_button_is_read_in_each_language(
    tmp_path: Path,
) -> None:
    async with running_bot(sqlite_file_url(tmp_path), FakeClock(NOW)) as bot:
        spot = await published(bot)
        bot.double.user(24, "Inès", language_code="fr")
        ines = await person(bot.db, 24, "Inès", "fr")
        await approved(bot.db, spot, ines.id, NOW)

        shown = await slot_menu(bot, spot)
        await tap_action(bot, COORDINATOR, shown, "ed.cancel_slot", s=spot.slot_id)
        [refused] = await tap_action(bot, STRANGER, shown, "ed.reason", k="weather")
        assert "Only coordinators" in refused.text and "Why is this slot" in shown.text
        await tap_action(bot, COORDINATOR, shown, "ed.reason", k="weather")

        assert "Slot cancelled. 1 person concerned is told" in shown.text
        assert "Reason: bad weather" in shown.text

        [told] = [m.text for m in bot.double.messages[24] if "Créneau annulé" in m.text]
        assert "mauvais temps" in told and "dimanche 13 juin 2027" in told
        detail = await missions.mission_detail(bot.db, spot.mission_id)
        assert detail.slots == ()
        assert "slot.cancelled" in await audit_actions(bot)


async def test_someone_who_is_not_a_coordinator_cannot_edit_from_the_group(
    tmp_path: Path,
) -> None:
    async with running_bot(sqlite_file_url(tmp_path), FakeClock(NOW)) as bot:
        spot = await published(bot)

        [refused] = await say(bot, STRANGER, "/edit", chat_id=GROUP)
        assert "Only coordinators of this organisation" in refused.text
        shown = await edit_list(bot)
        [menu] = await tap_action(bot, STRANGER, shown, "ed.mission", m=spot.mission_id)
        assert "Only coordinators of this organisation" in menu.text
        assert "Which mission" in shown.text  # the coordinator's list is left alone
        assert not any(
            a.startswith(("mission.", "slot."))
            for a in await audit_actions(bot)
            if a not in ("mission.published",)
        )


async def test_a_new_title_and_address_from_the_roster_button_reach_the_volunteer(
    tmp_path: Path,
) -> None:
    async with running_bot(sqlite_file_url(tmp_path), FakeClock(NOW)) as bot:
        spot = await published(bot)
        camille = await person(bot.db, 20, "Camille", "en")
        await approved(bot.db, spot, camille.id, NOW)
        [roster] = await say(bot, COORDINATOR, "/roster")
        await tap_action(bot, COORDINATOR, roster, "ed.list", o=spot.organisation.id)
        await tap_action(bot, COORDINATOR, roster, "ed.mission", m=spot.mission_id)

        [ask_title] = await tap_action(bot, COORDINATOR, roster, "ed.field", f="title")
        assert "new title" in ask_title.text
        saved, menu = await say(bot, COORDINATOR, "Assesseur — bureau 3 (gymnase)")
        assert "1 person concerned is told" in saved.text and "What do you want" in menu.text
        await tap_action(bot, COORDINATOR, menu, "ed.field", f="address")
        [unknown] = await say(bot, COORDINATOR, "quelque part")
        assert "could not find that place" in unknown.text
        await say(bot, COORDINATOR, "Gymnase Rostand, 52100 Saint-Dizier")

        told = [m.text for m in bot.double.messages[20] if "changed" in m.text]
        assert len(told) == 2 and "Formerly: Assesseur — bureau de vote n°3" in told[0]
        assert "New place: Gymnase Rostand" in told[1] and "École Jules Ferry" in told[1]
        detail = await missions.mission_detail(bot.db, spot.mission_id)
        assert detail.title == "Assesseur — bureau 3 (gymnase)" and detail.postcode == "52100"
        assert detail.point is not None
