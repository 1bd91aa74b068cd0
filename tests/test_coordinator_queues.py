"""The queues: a coordinator's /pending lists what still waits for an answer, oldest first,
with the usual buttons, and a refusal may carry their own words; a referent's /review lists
the missions waiting for them, and a reminder comes after two days."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from sqlalchemy import update

from bot.domain import ApplicationStatus
from bot.scheduler.review_reminders import remind_reviews
from bot.services import applications, missions, moderation, people
from handlers.telegram.refusal_note import REFUSE_WRITE
from storage import schema
from tests.conftest import NOW
from tests.factories import commune, first_slot, polling_station, volunteer
from tests.harness import FakeClock, running_bot, sqlite_file_url
from tests.organiser_steps import (
    COORDINATOR,
    GROUP,
    STRANGER,
    VOLUNTEER,
    coordinator_with_group,
    meet_everyone,
    say,
    tap_action,
)

SECOND_VOLUNTEER = 21
REFERENT_TG = 7


async def test_pending_lists_the_oldest_first_and_a_refusal_carries_typed_words(
    tmp_path: Path,
) -> None:
    async with running_bot(sqlite_file_url(tmp_path), FakeClock(NOW), renfort_locale="en") as bot:
        mairie = await coordinator_with_group(bot)
        bot.double.user(SECOND_VOLUNTEER, "Lou", language_code="en")
        morning = await polling_station(bot.db, mairie.id, now=NOW, title="Assesseur matin")
        count = await polling_station(bot.db, mairie.id, now=NOW, title="Scrutateur")
        camille = await volunteer(bot.db, VOLUNTEER, "Camille")
        lou = await volunteer(bot.db, SECOND_VOLUNTEER, "Lou")
        for person in (camille, lou):
            await people.update_profile(bot.db, person.id, locale="en")
        first = await applications.apply(
            bot.db, person_id=camille.id, slot_id=await first_slot(bot.db, morning), now=NOW
        )
        second = await applications.apply(
            bot.db, person_id=lou.id, slot_id=await first_slot(bot.db, count), now=NOW
        )
        await bot.drain()
        await bot.double.wait_for(GROUP, "Lou")

        refused = await say(bot, STRANGER, "/pending", chat_id=GROUP)
        assert [m.text for m in refused] == ["Only coordinators of this organisation can do that."]

        heading, older, newer = await say(bot, COORDINATOR, "/pending", chat_id=GROUP)
        assert "2 applications waiting" in heading.text
        assert "Camille" in older.text and "Assesseur matin" in older.text
        assert "Lou" in newer.text and "Scrutateur" in newer.text
        assert older.button_texts() == ["✅ Approve", "❌ Refuse"]

        await tap_action(bot, COORDINATOR, older, "approve", application_id=first.id)
        assert "Approved by Alex" in older.text

        before = len(bot.double.messages[SECOND_VOLUNTEER])
        await tap_action(bot, COORDINATOR, newer, "refuse", application_id=second.id)
        asked = await tap_action(bot, COORDINATOR, newer, REFUSE_WRITE)
        assert "Reply to this message" in asked[-1].text
        await say(bot, COORDINATOR, "Je regarde ça.", chat_id=GROUP)  # not the answer
        assert (await applications.get_application(bot.db, second.id)).status == "pending"
        answer = "Il faut être électeur de la commune."
        await bot.settle(bot.double.send_text(COORDINATOR, answer, GROUP, reply_to=asked[-1]))
        await bot.double.wait_for(GROUP, "Reason sent")
        decided = await applications.get_application(bot.db, second.id)
        assert (decided.status, decided.reason) == (ApplicationStatus.REFUSED, "other")
        news = await bot.double.wait_for(SECOND_VOLUNTEER, "Scrutateur", after=before)
        assert "Il faut être électeur de la commune." in news.text

        [empty] = await say(bot, COORDINATOR, "/pending", chat_id=GROUP)
        assert "No application is waiting" in empty.text


async def test_review_lists_waiting_missions_and_the_referent_is_reminded_after_two_days(
    tmp_path: Path,
) -> None:
    async with running_bot(sqlite_file_url(tmp_path), FakeClock(NOW)) as bot:
        meet_everyone(bot)
        bot.double.user(REFERENT_TG, "Régine", language_code="en")
        organisation = await commune(bot.db)
        await say(bot, REFERENT_TG, "/start")
        await moderation.add_referent(bot.db, territory="52", telegram_user_id=REFERENT_TG)
        mission_id = await polling_station(bot.db, organisation.id, now=NOW)
        assert (await missions.mission_detail(bot.db, mission_id)).status == "in_review"

        [refused] = await say(bot, STRANGER, "/review")
        assert "Only the referent" in refused.text
        heading, waiting = await say(bot, REFERENT_TG, "/review")
        assert "1 mission waiting for your review" in heading.text
        assert "Assesseur" in waiting.text and "Mission to review" in waiting.text

        # Two days later it still waits: the referent is reminded, once.
        async with bot.db.transaction("test_submitted_earlier") as conn:
            await conn.execute(
                update(schema.missions)
                .where(schema.missions.c.id == mission_id)
                .values(submitted_at=NOW - timedelta(days=3))
            )
        assert await remind_reviews(bot.renfort, NOW) == 1
        assert await remind_reviews(bot.renfort, NOW + timedelta(hours=1)) == 0
        await bot.drain()
        reminder = await bot.double.wait_for(REFERENT_TG, "Waiting for your decision for 3 days")
        await tap_action(bot, REFERENT_TG, reminder, "mod.publish")
        assert "Published" in reminder.text
        [empty] = await say(bot, REFERENT_TG, "/review")
        assert "No mission is waiting" in empty.text
