"""Election week: an application made two days before its slot is nudged by the time left,
appears in the admin group's list the evening before, and its volunteer hears that the
answer is still awaited, with a button to cancel."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import update

from bot.actions import ASK_CANCEL
from bot.scheduler import election_week
from bot.scheduler.election_week import evening_lists, nudge_before_start, nudge_due
from bot.scheduler.nudges import nudge_pending
from bot.services import applications, people
from storage import schema
from tests.conftest import NOW
from tests.factories import ELECTION_MORNING, first_slot, polling_station, volunteer
from tests.harness import FakeClock, running_bot, sqlite_file_url
from tests.organiser_steps import GROUP, VOLUNTEER, coordinator_with_group, tap_action

FRIDAY_MORNING = datetime.fromisoformat("2027-06-11T08:00:00+02:00")  # 2 days before
SATURDAY = datetime.fromisoformat("2027-06-12T00:00:00+02:00")


def test_the_nudge_comes_halfway_to_the_start_and_never_within_two_hours() -> None:
    assert nudge_due(FRIDAY_MORNING, ELECTION_MORNING) == FRIDAY_MORNING + timedelta(days=1)
    late = ELECTION_MORNING - timedelta(hours=3)
    assert nudge_due(late, ELECTION_MORNING) == late + timedelta(hours=2)


async def test_an_application_two_days_before_is_nudged_listed_the_evening_before_and_its_volunteer_told(  # noqa: E501
    tmp_path: Path,
) -> None:
    async with running_bot(sqlite_file_url(tmp_path), FakeClock(NOW), renfort_locale="en") as bot:
        mairie = await coordinator_with_group(bot)
        mission_id = await polling_station(bot.db, mairie.id, now=NOW)
        camille = await volunteer(bot.db, VOLUNTEER, "Camille")
        await people.update_profile(bot.db, camille.id, locale="en")
        view = await applications.apply(
            bot.db, person_id=camille.id, slot_id=await first_slot(bot.db, mission_id), now=NOW
        )
        async with bot.db.transaction("test_applied_on_friday") as conn:
            await conn.execute(
                update(schema.applications)
                .where(schema.applications.c.id == view.id)
                .values(created_at=FRIDAY_MORNING)
            )
        renfort = bot.renfort

        friday_noon = FRIDAY_MORNING + timedelta(hours=4)
        assert await nudge_before_start(renfort, friday_noon) == 0
        assert await nudge_pending(renfort, friday_noon) == 0
        saturday_morning = SATURDAY + timedelta(hours=8, minutes=30)
        before = len(bot.double.messages[GROUP])
        assert await nudge_before_start(renfort, saturday_morning) == 1
        assert await nudge_before_start(renfort, saturday_morning + timedelta(hours=1)) == 0
        assert await nudge_pending(renfort, SATURDAY + timedelta(hours=23)) == 0  # nudged once
        await bot.drain()
        nudge = await bot.double.wait_for(GROUP, "Slot soon, still no answer", after=before)
        assert "Camille" in nudge.text and "starts in 23 hours" in nudge.text
        assert nudge.button_texts() == ["✅ Approve", "❌ Refuse"]

        assert await evening_lists(renfort, SATURDAY + timedelta(hours=17, minutes=59)) == 0
        evening = SATURDAY + timedelta(hours=18)
        assert await evening_lists(renfort, evening) == 1
        assert await evening_lists(renfort, evening + timedelta(minutes=30)) == 0
        await bot.drain()
        listed = await bot.double.wait_for(GROUP, "Tomorrow, no answer yet", after=before)
        assert "1 application for Sunday 13 June 2027 still waits" in listed.text
        assert "Camille" in listed.text and "Assesseur" in listed.text and "/pending" in listed.text

        told = await bot.double.wait_for(VOLUNTEER, "still waiting for")
        assert "Assesseur" in told.text and "Mairie de Saint-Dizier" in told.text
        await tap_action(bot, VOLUNTEER, told, ASK_CANCEL, app=view.id)
        assert "Cancel your place" in bot.double.last(VOLUNTEER).text


async def test_a_due_application_behind_many_not_yet_due_is_still_nudged(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # One row per page: the scan must look past the fresh application to the older one.
    monkeypatch.setattr(election_week, "PAGE", 1)
    async with running_bot(sqlite_file_url(tmp_path), FakeClock(NOW), renfort_locale="en") as bot:
        mairie = await coordinator_with_group(bot)
        slot_id = await first_slot(bot.db, await polling_station(bot.db, mairie.id, now=NOW))
        made = {}
        for user_id, name, created_at in (
            (VOLUNTEER, "Camille", FRIDAY_MORNING),  # due Saturday: not yet
            (VOLUNTEER + 1, "Dominique", FRIDAY_MORNING - timedelta(days=4)),  # due already
        ):
            person = await volunteer(bot.db, user_id, name)
            view = await applications.apply(bot.db, person_id=person.id, slot_id=slot_id, now=NOW)
            async with bot.db.transaction("test_applied_earlier") as conn:
                await conn.execute(
                    update(schema.applications)
                    .where(schema.applications.c.id == view.id)
                    .values(created_at=created_at)
                )
            made[name] = view.id
        assert made["Camille"] < made["Dominique"]  # the fresh one comes first in the scan
        before = len(bot.double.messages[GROUP])

        assert await nudge_before_start(bot.renfort, FRIDAY_MORNING + timedelta(hours=4)) == 1
        await bot.drain()
        nudge = await bot.double.wait_for(GROUP, "Slot soon, still no answer", after=before)
        assert "Dominique" in nudge.text and "Camille" not in nudge.text
