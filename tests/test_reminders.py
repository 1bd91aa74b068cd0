"""Reminders the day before and a few hours before: once each, in the volunteer's language
and channel, never after the start, right across daylight-saving changes, and not lost or
doubled by a restart."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from bot.scheduler.reminders import send_reminders
from bot.scheduler.timing import day_before_due
from bot.services import settings
from bot.services.errors import NotAllowed
from handlers.sms.gsm7 import segments
from renfort.sandbox.telegram_double import TelegramDouble
from storage.database import Database
from tests.conftest import NOW
from tests.factories import ELECTION_MORNING
from tests.harness import FakeClock, running_bot, sqlite_file_url
from tests.organiser_steps import (
    COORDINATOR,
    GROUP,
    STRANGER,
    alerts,
    coordinator_with_group,
    person_of,
    say,
    tap_action,
)
from tests.schedule_steps import approved, person, place, queued
from tests.sms_steps import sms_renfort
from tests.test_sms_end_to_end import (
    PHONE,
    approved_by_sms,
    renfort_with_sms,
)

PARIS = ZoneInfo("Europe/Paris")
DAY_BEFORE = datetime(2027, 6, 12, 16, 0, tzinfo=UTC)  # Saturday 18:00 in Paris (CEST)
TWO_HOURS_BEFORE = ELECTION_MORNING - timedelta(hours=2)


def test_the_day_before_reminder_keeps_its_wall_clock_hour_across_daylight_saving() -> None:
    autumn = datetime(2027, 10, 31, 10, 0, tzinfo=PARIS)  # clocks went back at 03:00
    spring = datetime(2027, 3, 28, 10, 0, tzinfo=PARIS)  # clocks went forward at 02:00
    assert day_before_due(autumn, PARIS, 18) == datetime(2027, 10, 30, 16, 0, tzinfo=UTC)
    assert day_before_due(spring, PARIS, 18) == datetime(2027, 3, 27, 17, 0, tzinfo=UTC)
    assert autumn - timedelta(hours=2) == datetime(2027, 10, 31, 7, 0, tzinfo=UTC)  # 08:00 CET


async def test_each_reminder_is_queued_once_at_its_time_and_none_after_the_start(
    db: Database,
) -> None:
    renfort = sms_renfort(db, FakeClock(NOW))
    spot = await place(db, now=NOW, starts_at=ELECTION_MORNING)
    camille = await person(db, 20, "Camille", "fr")
    application_id = await approved(db, spot, camille.id, NOW)

    assert await send_reminders(renfort, DAY_BEFORE - timedelta(minutes=1)) == 0
    assert await send_reminders(renfort, DAY_BEFORE) == 1
    assert await send_reminders(renfort, DAY_BEFORE + timedelta(minutes=1)) == 0
    assert await send_reminders(renfort, TWO_HOURS_BEFORE - timedelta(minutes=1)) == 0
    assert await send_reminders(renfort, TWO_HOURS_BEFORE) == 1
    assert await send_reminders(renfort, TWO_HOURS_BEFORE + timedelta(minutes=30)) == 0
    assert await send_reminders(renfort, ELECTION_MORNING + timedelta(minutes=1)) == 0

    [day_before] = await queued(db, "reminder_day_before")
    [hours_before] = await queued(db, "reminder_hours_before")
    assert day_before["person_id"] == hours_before["person_id"] == camille.id
    assert day_before["payload"]["application_id"] == application_id
    assert day_before["payload"]["number"] == 1 and hours_before["payload"]["hours"] == 2


async def test_a_reminder_missed_while_down_goes_late_while_useful_and_never_after_the_start(
    db: Database,
) -> None:
    renfort = sms_renfort(db, FakeClock(NOW))
    spot = await place(db, now=NOW, starts_at=ELECTION_MORNING, capacity=3)
    volunteers = [await person(db, 20 + i, name, "en") for i, name in enumerate(("A", "B", "C"))]
    for who in volunteers:
        await approved(db, spot, who.id, NOW)
    other = await place(
        db, now=NOW, starts_at=ELECTION_MORNING + timedelta(days=1), organisation=spot.organisation
    )
    await approved(db, other, volunteers[0].id, NOW)

    # Down from Saturday 17:00 to Sunday 01:00: the day-before reminders still go.
    assert await send_reminders(renfort, datetime(2027, 6, 12, 23, 0, tzinfo=UTC)) == 3
    # Back only after the short reminders fell due: those go, the day-before ones do not.
    assert await send_reminders(renfort, TWO_HOURS_BEFORE + timedelta(minutes=90)) == 3
    # Down through the start of Monday's slot: nothing about it any more.
    assert await send_reminders(renfort, ELECTION_MORNING + timedelta(days=1, minutes=5)) == 0
    kinds = [
        (r["kind"], r["payload"]["starts_at"]) for r in await queued(db, "reminder_day_before")
    ]
    assert len(kinds) == 3 and len(await queued(db, "reminder_hours_before")) == 3


@pytest.mark.parametrize(
    ("local_start", "due_utc"),
    [
        (datetime(2027, 10, 31, 10, 0, tzinfo=PARIS), datetime(2027, 10, 30, 16, 0, tzinfo=UTC)),
        (datetime(2027, 3, 28, 10, 0, tzinfo=PARIS), datetime(2027, 3, 27, 17, 0, tzinfo=UTC)),
    ],
)
async def test_daylight_saving_weekends_get_their_reminders_at_the_local_hours(
    db: Database, local_start: datetime, due_utc: datetime
) -> None:
    now = local_start - timedelta(days=10)
    renfort = sms_renfort(db, FakeClock(now))
    spot = await place(db, now=now, starts_at=local_start)
    await approved(db, spot, (await person(db, 20, "Camille", "fr")).id, now)
    assert await send_reminders(renfort, due_utc - timedelta(seconds=1)) == 0
    assert await send_reminders(renfort, due_utc) == 1
    short = local_start.astimezone(UTC) - timedelta(hours=2)
    assert await send_reminders(renfort, short - timedelta(seconds=1)) == 0
    assert await send_reminders(renfort, short) == 1


async def test_a_coordinator_switches_the_day_before_reminder_off_and_none_goes(
    db: Database,
) -> None:
    renfort = sms_renfort(db, FakeClock(NOW))
    spot = await place(db, now=NOW, starts_at=ELECTION_MORNING)
    camille = await person(db, 20, "Camille", "fr")
    await approved(db, spot, camille.id, NOW)
    with pytest.raises(NotAllowed):
        await settings.update_reminder_settings(
            db, actor_id=camille.id, organisation_id=spot.organisation.id, remind_day_before_at=None
        )
    changed = await settings.update_reminder_settings(
        db,
        actor_id=spot.coordinator_id,
        organisation_id=spot.organisation.id,
        remind_day_before_at=None,
    )
    assert changed.remind_day_before_at is None and changed.remind_hours_before == 2
    assert await send_reminders(renfort, DAY_BEFORE + timedelta(hours=1)) == 0
    assert await send_reminders(renfort, TWO_HOURS_BEFORE) == 1
    assert await queued(db, "reminder_day_before") == []


# ---- end to end ----------------------------------------------------------------------


def meet(double: TelegramDouble) -> None:
    double.user(10, "Alex", language_code="en")
    double.user(20, "Camille", language_code="fr")
    double.user(21, "Sam", language_code="en")


async def test_telegram_reminders_arrive_once_each_in_the_volunteers_language(
    tmp_path: Path,
) -> None:
    clock = FakeClock(NOW)
    async with running_bot(sqlite_file_url(tmp_path), clock) as bot:
        meet(bot.double)
        spot = await place(bot.db, now=NOW, starts_at=ELECTION_MORNING)
        camille = await person(bot.db, 20, "Camille", "fr")
        sam = await person(bot.db, 21, "Sam", "en")
        for who in (camille, sam):
            await approved(bot.db, spot, who.id, NOW)
        clock.current = DAY_BEFORE
        await bot.tick_and_send()
        await bot.tick_and_send()
        [french] = bot.double.messages[20][-1:]
        [english] = bot.double.messages[21][-1:]
        assert "dimanche 13 juin 2027" in french.text and "08:00" in french.text
        assert "Sunday 13 June 2027" in english.text and "8:00" in english.text
        assert "/mymissions" in english.text and "École Jules Ferry" in english.text
        clock.current = TWO_HOURS_BEFORE
        await bot.tick_and_send()
        clock.current = ELECTION_MORNING + timedelta(minutes=10)
        await bot.tick_and_send()
        reminders = [m for m in bot.double.messages[21] if "⏰" in m.text]
        assert len(reminders) == 2 and "Soon" in reminders[1].text


async def test_a_restart_between_queueing_and_sending_loses_and_doubles_nothing(
    tmp_path: Path,
) -> None:
    url = sqlite_file_url(tmp_path)
    clock = FakeClock(NOW)
    double = TelegramDouble()
    await double.start()
    meet(double)
    try:
        async with running_bot(url, clock, double) as bot:
            spot = await place(bot.db, now=NOW, starts_at=ELECTION_MORNING)
            sam = await person(bot.db, 21, "Sam", "en")
            await approved(bot.db, spot, sam.id, NOW)
        clock.current = DAY_BEFORE
        # Queued by a worker that stops before its dispatcher sends anything.
        db = Database(url)
        try:
            assert await send_reminders(sms_renfort(db, clock), clock()) == 1
        finally:
            await db.close()
        for _restart in range(2):
            async with running_bot(url, clock, double) as bot:
                await bot.tick_and_send()
                await bot.tick_and_send()
        reminders = [m for m in double.messages[21] if "⏰" in m.text]
        assert len(reminders) == 1 and "Sunday 13 June 2027" in reminders[0].text
    finally:
        await double.stop()


async def test_sms_reminders_fit_one_segment_and_say_how_to_cancel(tmp_path: Path) -> None:
    async with renfort_with_sms(tmp_path) as (bot, twilio):
        spot = await place(bot.db, now=NOW, starts_at=ELECTION_MORNING)
        await approved_by_sms(bot, twilio, "Camille", spot.coordinator_id)
        bot.clock.current = DAY_BEFORE
        await bot.tick_and_send()
        bot.clock.current = TWO_HOURS_BEFORE
        await bot.tick_and_send()
        [day_before] = [s for s in twilio.inbox[PHONE] if "reminder" in s.body]
        [hours_before] = [s for s in twilio.inbox[PHONE] if "starts soon" in s.body]
        assert "Sun 13 Jun 8am-1pm" in day_before.body and "CANCEL 1" in day_before.body
        assert "École Jules Ferry" in hours_before.body and "CANCEL 1" in hours_before.body
        assert segments(day_before.body) == segments(hours_before.body) == 1


async def test_settings_in_the_admin_group_switch_the_day_before_reminder_off(
    tmp_path: Path,
) -> None:
    async with running_bot(sqlite_file_url(tmp_path), FakeClock(NOW)) as bot:
        organisation = await coordinator_with_group(bot)
        [shown] = await say(bot, COORDINATOR, "/settings", chat_id=GROUP)
        assert "the day before at 6:00" in shown.text and "2 hours" in shown.text
        await tap_action(bot, STRANGER, shown, "org.settings_set", set="day_before")
        assert any("Only coordinators" in text for text in alerts(bot))
        await tap_action(bot, COORDINATOR, shown, "org.settings_set", set="day_before", value=None)
        assert "Reminder: off" in shown.text
        current = await settings.reminder_settings(
            bot.db, actor_id=(await person_of(bot, COORDINATOR)).id, organisation_id=organisation.id
        )
        assert current.remind_day_before_at is None and current.remind_hours_before == 2
