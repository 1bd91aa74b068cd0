"""Crisis callouts end to end: the real Renfort with python-telegram-bot against the Bot API
double and the real twilio client against the Twilio double. A coordinator launches a
callout from the admin group, volunteers answer, the need is met, nobody else is asked,
and the status message in the group shows it."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import select

from bot.actions import CALLOUT_NO, CALLOUT_YES
from bot.domain import ApplicationStatus
from bot.geo import lookup_offline
from bot.scheduler.tick import tick
from bot.services import applications, callouts, people, phones
from handlers.telegram.callout import PICK_MISSION, PICK_NEEDED
from handlers.telegram.callout_board import STOP
from handlers.telegram.callout_target import REVIEW, SEND
from renfort.sandbox.telegram_double import SentMessage
from storage import schema
from tests.conftest import NOW
from tests.factories import polling_station
from tests.harness import Bot
from tests.organiser_steps import (
    COORDINATOR,
    GROUP,
    STRANGER,
    callback_data,
    coordinator_with_group,
    eventually,
    say,
    tap,
    tap_action,
    telegram_volunteer,
)
from tests.test_sms_end_to_end import renfort_with_sms

FIRST_VOLUNTEER = 1000
TWILIO_BUSY = 20503  # "try again later": the SMS stays queued


async def sms_volunteer(bot: Bot, phone: str, name: str) -> int:
    """A registered volunteer in Saint-Dizier with no smartphone."""
    contact = await phones.opt_in(bot.db, phone)
    await people.update_profile(
        bot.db,
        contact.person.id,
        first_name=name,
        home=lookup_offline("52100"),
        locale="en",
        complete_registration=True,
    )
    return contact.person.id


async def thirty_volunteers(bot: Bot) -> tuple[list[int], list[str]]:
    """Telegram user ids and phones, in the order the callout asks them: everyone lives
    at the same distance, so the earliest registered come first (4 on Telegram, then 2
    by SMS), then 24 more, half of each."""
    telegram, sms = [], []
    for n in range(30):
        if n < 4 or (n >= 6 and n % 2 == 0):
            user_id = FIRST_VOLUNTEER + n
            await telegram_volunteer(bot, user_id, f"Volunteer{n}")
            telegram.append(user_id)
        else:
            phone = f"+336000000{n:02d}"
            await sms_volunteer(bot, phone, f"Resident{n}")
            sms.append(phone)
    return telegram, sms


async def launch_in_group(bot: Bot, organisation_id: int, needed: int) -> tuple[SentMessage, int]:
    """The coordinator's /callout in the admin group, all by buttons; returns the status
    message and the callout's id."""
    [question] = await say(bot, COORDINATOR, "/callout", chat_id=GROUP)
    assert "Which mission needs people?" in question.text
    await tap_action(bot, COORDINATOR, question, PICK_MISSION)
    assert "How many people do you need?" in question.text  # one slot: no slot question
    await tap_action(bot, COORDINATOR, question, PICK_NEEDED, needed=needed)
    assert "Who should be alerted?" in question.text and "30 people match." in question.text
    await tap_action(bot, COORDINATOR, question, REVIEW)
    assert "Send the callout now?" in question.text and "30 people match" in question.text
    await tap_action(bot, COORDINATOR, question, SEND)
    [view] = await callouts.active_callouts(bot.db, organisation_id)
    assert (view.status_chat_id, view.status_message_id) == (GROUP, question.message_id)
    return question, view.id


async def outbox_status(bot: Bot, person_ids: list[int]) -> list[str]:
    o = schema.outbox
    async with bot.db.reading("test") as conn:
        rows = await conn.scalars(
            select(o.c.status).where(o.c.kind == "callout", o.c.person_id.in_(person_ids))
        )
        return sorted(rows)


async def shows(bot: Bot, message: SentMessage, *parts: str) -> None:
    """Wait for the status board to draw `parts` on the message."""

    async def drawn() -> bool:
        return all(part in message.text for part in parts)

    await eventually(drawn, timeout=60)


async def test_a_callout_fills_from_the_admin_group_and_nobody_else_is_asked(
    tmp_path: Path,
) -> None:
    async with renfort_with_sms(tmp_path) as (bot, twilio):
        assert bot.service.callout_board is not None
        bot.service.callout_board.min_gap = 0.5  # the test need not wait 5 s per drawing
        organisation = await coordinator_with_group(bot)
        await polling_station(bot.db, organisation.id, now=NOW, capacity=2)
        telegram, sms = await thirty_volunteers(bot)
        first_sms = [await _person(bot, phone) for phone in sms[:2]]
        twilio.fail_next(TWILIO_BUSY)  # the first wave's two SMS stay in the outbox
        twilio.fail_next(TWILIO_BUSY)

        status, callout_id = await launch_in_group(bot, organisation.id, needed=2)

        await shows(bot, status, "Asked: 6", "sent: 4", "Status: 🟢 Active")
        asked = [uid for uid in telegram if bot.double.messages[uid]]
        assert asked == telegram[:4]  # 3 per place needed: 4 on Telegram, 2 by SMS
        alert = bot.double.messages[telegram[0]][-1]
        assert "2 people needed for <b>Assesseur" in alert.text
        assert await outbox_status(bot, first_sms) == ["pending", "pending"]

        async def tap_answer(user_id: int, action: str) -> None:
            message = bot.double.messages[user_id][-1]
            await tap_action(bot, user_id, message, action, callout_id=callout_id)

        await tap_answer(telegram[0], CALLOUT_NO)
        assert "Maybe next time" in bot.double.messages[telegram[0]][-1].text
        await tap_answer(telegram[1], CALLOUT_YES)
        await tap_answer(telegram[2], CALLOUT_YES)
        taken = bot.double.messages[telegram[2]][-1].text
        assert "You're on the team for <b>Assesseur" in taken and "/mymissions" in taken
        assert "Sunday 13 June 2027" in taken

        # Filled: the two SMS still queued are withdrawn, and no second wave ever goes.
        assert await outbox_status(bot, first_sms) == ["cancelled", "cancelled"]
        bot.clock.advance(minutes=20)
        await bot.tick_and_send()
        assert all(not bot.double.messages[uid] for uid in telegram[4:])
        assert all(not twilio.inbox[phone] for phone in sms)
        await shows(
            bot,
            status,
            "Needed: 2 · places left: 0",
            "Asked: 6 · sent: 4",
            "✅ Yes: 2 · ❌ No: 1 · ⏳ Waiting: 3",
            "1 wave sent",
            "Status: ✅ Filled",
        )
        assert "Sunday 13 June 2027" in status.text
        assert "Stop" not in " ".join(status.button_texts())

        late = bot.double.messages[telegram[3]][-1]
        available = await callback_data(bot, late, CALLOUT_YES, callout_id=callout_id)
        await tap(bot, telegram[3], late, available)
        assert "you are on the waiting list" in late.text
        await tap(bot, telegram[3], late, available)  # a double tap, or a stale client
        assert "You already answered this callout." in late.text
        assert "waiting list" in late.text

        mine = await applications.applications_of(
            bot.db, await _telegram_person(bot, telegram[2]), now=bot.clock()
        )
        assert [a.status for a in mine] == [ApplicationStatus.APPROVED]
        mymissions = await say(bot, telegram[2], "/mymissions")
        assert any("Assesseur" in m.text for m in mymissions)


async def test_non_members_are_refused_and_stop_stops(tmp_path: Path) -> None:
    async with renfort_with_sms(tmp_path) as (bot, _twilio):
        organisation = await coordinator_with_group(bot)
        await polling_station(bot.db, organisation.id, now=NOW, capacity=5)
        [refused] = await say(bot, STRANGER, "/callout", chat_id=GROUP)
        assert "Only coordinators of Mairie de Saint-Dizier can launch a callout" in refused.text
        [refused] = await say(bot, STRANGER, "/callout")
        assert "Only coordinators" in refused.text
        volunteers = [FIRST_VOLUNTEER + n for n in range(8)]
        for user_id in volunteers:
            await telegram_volunteer(bot, user_id, f"Volunteer{user_id}")

        [question] = await say(bot, COORDINATOR, "/callout")  # privately this time
        await tap_action(bot, COORDINATOR, question, PICK_MISSION)
        await tap_action(bot, COORDINATOR, question, PICK_NEEDED, needed=1)
        assert "8 people match." in question.text
        await tap_action(bot, COORDINATOR, question, REVIEW)
        before = len(bot.double.messages[GROUP])
        await tap_action(bot, COORDINATOR, question, SEND)
        assert "The live counts and buttons are in your admin group." in question.text
        [status] = bot.double.messages[GROUP][before:]
        assert "Asked: 3" in status.text and "Status: 🟢 Active" in status.text
        [view] = await callouts.active_callouts(bot.db, organisation.id)

        # A stranger's tap changes nothing; the coordinator's stops the callout.
        await tap_action(bot, STRANGER, status, STOP, callout_id=view.id)
        assert (await callouts.get_callout(bot.db, view.id)).status == "active"
        await tap_action(bot, COORDINATOR, status, STOP, callout_id=view.id)
        assert "Status: ⏹ Stopped" in status.text and not status.buttons
        assert (await callouts.get_callout(bot.db, view.id)).status == "stopped"

        asked = bot.double.messages[volunteers[0]][-1]
        await tap_action(bot, volunteers[0], asked, CALLOUT_YES, callout_id=view.id)
        assert "This callout is over" in asked.text
        bot.clock.advance(minutes=20)
        await tick(bot.renfort)
        assert all(not bot.double.messages[uid] for uid in volunteers[3:])


async def _person(bot: Bot, phone: str) -> int:
    contact = await phones.find_by_phone(bot.db, phone)
    assert contact is not None
    return contact.person.id


async def _telegram_person(bot: Bot, user_id: int) -> int:
    person = await people.find_by_telegram(bot.db, user_id)
    assert person is not None
    return person.id


async def test_the_status_board_waits_when_telegram_says_too_many_requests(
    tmp_path: Path,
) -> None:
    async with renfort_with_sms(tmp_path) as (bot, _twilio):
        board = bot.service.callout_board
        assert board is not None
        board.min_gap = 0.5
        organisation = await coordinator_with_group(bot)
        await polling_station(bot.db, organisation.id, now=NOW, capacity=5)
        volunteers = [FIRST_VOLUNTEER + n for n in range(30)]
        for user_id in volunteers:
            await telegram_volunteer(bot, user_id, f"Volunteer{user_id}")
        status, callout_id = await launch_in_group(bot, organisation.id, needed=5)
        await shows(bot, status, "Asked: 15 · sent: 15")
        drawn = status.edits

        bot.double.fail_next("editMessageText", 429, retry_after=2)
        for user_id in volunteers[:12]:  # a burst of answers: a dozen noes
            asked = bot.double.messages[user_id][-1]
            await tap_action(bot, user_id, asked, CALLOUT_NO, callout_id=callout_id)
        await shows(bot, status, "❌ No: 12")
        assert bot.double.too_many_requests == 1
        # One drawing per round at most, whatever the number of answers.
        assert status.edits - drawn <= 4
