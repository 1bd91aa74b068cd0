"""'Still coming?' on the day: yes confirms, no frees the place and thanks the volunteer,
silence by H-1 is reported to the organisation once."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from bot.actions import ATTENDANCE_NO, ATTENDANCE_YES
from bot.domain import ApplicationStatus
from bot.i18n import Translator
from bot.scheduler.attendance import ask_attendance, flag_unanswered
from bot.scheduler.timing import attendance_ask_due
from bot.services import applications, organisations, settings
from bot.services.attendance import answer_attendance, open_attendance_question
from handlers.sms.gsm7 import segments
from handlers.sms.render.schedule import attendance_confirmed, attendance_released
from storage.database import Database
from tests.conftest import NOW
from tests.factories import ELECTION_MORNING
from tests.harness import FakeClock, running_bot, sqlite_file_url
from tests.organiser_steps import GROUP, VOLUNTEER, coordinator_with_group, tap_action
from tests.schedule_steps import application_row, approved, person, place, queued
from tests.sms_steps import sms_renfort

PARIS = ZoneInfo("Europe/Paris")
ASKED_AT = ELECTION_MORNING - timedelta(hours=13)  # an 08:00 slot: asked at 19:00 the day before
FLAG_AT = ELECTION_MORNING - timedelta(hours=1)


def test_still_coming_is_never_asked_at_night() -> None:
    """09:00 for afternoons, H-3 for late mornings, the evening before for early slots."""
    day = datetime(2027, 6, 13, tzinfo=PARIS)
    assert attendance_ask_due(day.replace(hour=14), PARIS) == day.replace(hour=9)
    assert attendance_ask_due(day.replace(hour=20), PARIS) == day.replace(hour=9)
    assert attendance_ask_due(day.replace(hour=11, minute=30), PARIS) == day.replace(
        hour=8, minute=30
    )
    eve = datetime(2027, 6, 12, 19, tzinfo=PARIS)
    assert attendance_ask_due(day.replace(hour=8), PARIS) == eve
    assert attendance_ask_due(day.replace(hour=10, minute=30), PARIS) == eve


async def test_yes_confirms_the_place_and_the_question_is_asked_once(db: Database) -> None:
    renfort = sms_renfort(db, FakeClock(NOW))
    spot = await place(db, now=NOW, starts_at=ELECTION_MORNING)
    camille = await person(db, 20, "Camille", "fr")
    application_id = await approved(db, spot, camille.id, NOW)
    assert await ask_attendance(renfort, ASKED_AT - timedelta(minutes=1)) == 0
    assert await ask_attendance(renfort, ASKED_AT) == 1
    assert await ask_attendance(renfort, ASKED_AT + timedelta(minutes=1)) == 0
    [question] = await queued(db, "attendance_check")
    assert question["person_id"] == camille.id
    assert (await application_row(db, application_id))["attendance_asked_at"] == ASKED_AT

    open_question = await open_attendance_question(db, camille.id, ASKED_AT)
    assert open_question is not None and open_question.id == application_id
    view = await answer_attendance(
        db, person_id=camille.id, application_id=application_id, coming=True, now=ASKED_AT
    )
    assert view.status == ApplicationStatus.CONFIRMED
    assert await open_attendance_question(db, camille.id, ASKED_AT) is None
    assert await flag_unanswered(renfort, FLAG_AT) == 0


async def test_no_frees_the_place_for_someone_else(db: Database) -> None:
    renfort = sms_renfort(db, FakeClock(NOW))
    spot = await place(db, now=NOW, starts_at=ELECTION_MORNING, capacity=1)
    camille = await person(db, 20, "Camille", "fr")
    application_id = await approved(db, spot, camille.id, NOW)
    await ask_attendance(renfort, ASKED_AT)
    view = await answer_attendance(
        db, person_id=camille.id, application_id=application_id, coming=False, now=ASKED_AT
    )
    assert view.status == ApplicationStatus.CANCELLED
    [told] = await queued(db, "application_cancelled")
    assert told["payload"]["volunteer_name"] == "Camille"
    sam = await person(db, 21, "Sam", "en")
    taken = await applications.apply(db, person_id=sam.id, slot_id=spot.slot_id, now=ASKED_AT)
    assert taken.status == ApplicationStatus.PENDING
    assert await flag_unanswered(renfort, FLAG_AT) == 0


async def test_silence_by_h_minus_1_is_told_to_the_admin_group_once(db: Database) -> None:
    renfort = sms_renfort(db, FakeClock(NOW))
    spot = await place(db, now=NOW, starts_at=ELECTION_MORNING)
    await organisations.link_admin_chat(
        db,
        person_id=spot.coordinator_id,
        organisation_id=spot.organisation.id,
        chat_id=GROUP,
        title="Mairie",
    )
    camille = await person(db, 20, "Camille", "fr")
    application_id = await approved(db, spot, camille.id, NOW)
    assert await flag_unanswered(renfort, FLAG_AT) == 0  # never asked: nothing to report
    await ask_attendance(renfort, ASKED_AT)
    assert await flag_unanswered(renfort, FLAG_AT - timedelta(minutes=1)) == 0
    assert await flag_unanswered(renfort, FLAG_AT) == 1
    assert await flag_unanswered(renfort, FLAG_AT + timedelta(minutes=5)) == 0
    [flag] = await queued(db, "attendance_unconfirmed")
    assert flag["chat_id"] == GROUP and flag["payload"]["volunteer_name"] == "Camille"
    assert (await application_row(db, application_id))["attendance_flagged_at"] == FLAG_AT


async def test_no_question_when_the_organisation_switched_it_off(db: Database) -> None:
    renfort = sms_renfort(db, FakeClock(NOW))
    spot = await place(db, now=NOW, starts_at=ELECTION_MORNING)
    await approved(db, spot, (await person(db, 20, "Camille", "fr")).id, NOW)
    await settings.update_reminder_settings(
        db,
        actor_id=spot.coordinator_id,
        organisation_id=spot.organisation.id,
        attendance_check=False,
    )
    assert await ask_attendance(renfort, ASKED_AT) == 0


def test_the_sms_answers_to_yes_and_no_fit_one_segment() -> None:
    from tests.test_sms_segments import application

    for locale in ("fr", "en"):
        t = Translator(locale)
        for text in (attendance_confirmed(t, application()), attendance_released(t, application())):
            assert segments(text) == 1, text


# ---- end to end ----------------------------------------------------------------------


async def test_in_telegram_yes_confirms_no_cancels_and_silence_reaches_the_group(
    tmp_path: Path,
) -> None:
    clock = FakeClock(NOW)
    async with running_bot(sqlite_file_url(tmp_path), clock) as bot:
        organisation = await coordinator_with_group(bot)
        bot.double.user(21, "Sam", language_code="en")
        bot.double.user(22, "Lou", language_code="en")
        spot = await place(
            bot.db, now=NOW, starts_at=ELECTION_MORNING, capacity=3, organisation=organisation
        )
        ids = {}
        for user, name in ((VOLUNTEER, "Camille"), (21, "Sam"), (22, "Lou")):
            who = await person(bot.db, user, name, "en")
            ids[user] = await approved(bot.db, spot, who.id, NOW)
        clock.current = ASKED_AT
        await bot.tick_and_send()

        question = bot.double.find(VOLUNTEER, "Still coming?")
        assert "Sunday 13 June 2027" in question.text
        await tap_action(bot, VOLUNTEER, question, ATTENDANCE_YES, app=ids[VOLUNTEER])
        assert "Thank you!" in question.text
        declined = bot.double.find(21, "Still coming?")
        await tap_action(bot, 21, declined, ATTENDANCE_NO, app=ids[21])
        assert "Thank you for telling us" in declined.text

        clock.current = FLAG_AT
        before = len(bot.double.messages[GROUP])
        for _twice in range(2):
            await bot.tick_and_send()
        flags = [m for m in bot.double.messages[GROUP][before:] if "Lou" in m.text]
        assert len(flags) == 1 and "Assesseur" in flags[0].text
        statuses = {
            user: (await applications.get_application(bot.db, ids[user])).status for user in ids
        }
        assert statuses == {
            VOLUNTEER: ApplicationStatus.CONFIRMED,
            21: ApplicationStatus.CANCELLED,
            22: ApplicationStatus.APPROVED,
        }
