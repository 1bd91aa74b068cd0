"""After a slot: the roster to mark, one tap per volunteer, counts that follow every change
of mind; the next day "Did it go well?"; and the warning about repeated no-shows."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import update

from bot.actions import FEEDBACK
from bot.domain import ApplicationStatus
from bot.i18n import Translator
from bot.scheduler.rosters import ask_feedback, post_rosters
from bot.services import applications, feedback, people, rosters
from bot.services.errors import Conflict, NotAllowed
from handlers.sms.render import render_notification
from handlers.telegram.render import render
from storage import schema
from storage.database import Database
from tests.conftest import NOW
from tests.factories import first_slot, polling_station, volunteer
from tests.harness import FakeClock, running_bot, sqlite_file_url
from tests.organiser_jobs import (
    GROUP,
    applied,
    audit_actions,
    linked_commune,
    outbox,
    renfort_at,
    set_status,
)
from tests.organiser_steps import (
    COORDINATOR,
    VOLUNTEER,
    coordinator_with_group,
    say,
    tap_action,
)
from tests.organiser_steps import (
    GROUP as BOT_GROUP,
)

START = NOW + timedelta(days=1)  # Tuesday 8 June 2027, 11:00 in Paris
END = START + timedelta(hours=5)


async def counts(db: Database, person_id: int) -> tuple[int, int]:
    person = await people.get_person(db, person_id)
    return person.attended_count, person.no_show_count


async def test_marks_move_the_counts_and_a_change_of_mind_keeps_them_right(
    db: Database,
) -> None:
    town = await linked_commune(db, starts_at=START)
    camille = await applied(db, town.slot_id, 20, "Camille")
    await set_status(db, camille.id, ApplicationStatus.APPROVED)
    nadia = town.coordinator.id

    with pytest.raises(Conflict):
        await rosters.mark_attendance(
            db, actor_id=nadia, application_id=camille.id, present=True, now=NOW
        )
    stranger = await volunteer(db, 99, "Dominique")
    with pytest.raises(NotAllowed):
        await rosters.mark_attendance(
            db, actor_id=stranger.id, application_id=camille.id, present=True, now=END
        )

    marked = await rosters.mark_attendance(
        db, actor_id=nadia, application_id=camille.id, present=True, now=END
    )
    assert marked.changed and marked.roster.lines[0].status == ApplicationStatus.ATTENDED
    assert await counts(db, camille.person_id) == (1, 0)

    marked = await rosters.mark_attendance(
        db, actor_id=nadia, application_id=camille.id, present=False, now=END
    )
    assert marked.roster.lines[0].status == ApplicationStatus.NO_SHOW
    assert await counts(db, camille.person_id) == (0, 1)

    again = await rosters.mark_attendance(
        db, actor_id=nadia, application_id=camille.id, present=False, now=END
    )
    assert not again.changed
    assert await counts(db, camille.person_id) == (0, 1)
    actions = [r.action for r in await audit_actions(db, "application", camille.id)]
    assert actions[-2:] == ["application.attended", "application.no_show"]


async def test_the_roster_goes_to_the_group_once_when_the_slot_has_ended(db: Database) -> None:
    town = await linked_commune(db, starts_at=START)
    camille = await applied(db, town.slot_id, 20, "Camille")
    await set_status(db, camille.id, ApplicationStatus.CONFIRMED)
    await applied(db, town.slot_id, 21, "Lou")  # still pending: not on the roster
    renfort = renfort_at(db, FakeClock(NOW))

    assert await post_rosters(renfort, END - timedelta(minutes=1)) == 0
    assert await post_rosters(renfort, END) == 1
    assert await post_rosters(renfort, END + timedelta(hours=1)) == 0

    [roster] = await outbox(db, "slot_roster")
    assert roster.chat_id == GROUP
    assert [v["name"] for v in roster.payload["volunteers"]] == ["Camille"]
    rendered = render("slot_roster", roster.payload, Translator("en"))
    assert [b.data["present"] for row in rendered.rows for b in row] == [True, False]


async def test_the_next_morning_each_volunteer_is_asked_and_the_answer_kept(
    db: Database,
) -> None:
    town = await linked_commune(db, starts_at=START)
    camille = await applied(db, town.slot_id, 20, "Camille")
    await set_status(db, camille.id, ApplicationStatus.NO_SHOW)  # marked or not, asked
    renfort = renfort_at(db, FakeClock(NOW))
    next_morning = (START + timedelta(days=1)).replace(hour=8)  # 10:00 in Paris

    assert await ask_feedback(renfort, next_morning - timedelta(minutes=1)) == 0
    assert await ask_feedback(renfort, next_morning) == 1
    assert await ask_feedback(renfort, next_morning + timedelta(hours=2)) == 0

    [asked] = await outbox(db, "feedback_request")
    assert asked.person_id == camille.person_id
    assert "volunteers" not in asked.payload
    t = Translator("en")
    assert "Did it go well?" in render("feedback_request", asked.payload, t).text
    assert "Reply" in render_notification("feedback_request", asked.payload, t, NOW)

    waiting = await feedback.awaiting_answer(db, person_id=camille.person_id, now=next_morning)
    assert waiting == camille.id
    await feedback.record_feedback(
        db,
        person_id=camille.person_id,
        application_id=camille.id,
        good=None,
        note="Super équipe",
        now=next_morning,
    )
    [kept] = [
        r
        for r in await audit_actions(db, "application", camille.id)
        if r.action == "application.feedback"
    ]
    assert kept.details["note"] == "Super équipe"
    assert await feedback.awaiting_answer(db, person_id=camille.person_id, now=next_morning) is None


def test_two_no_shows_warn_the_coordinator_in_telegram_and_by_sms() -> None:
    t = Translator("en")
    payload = {
        "application_id": 1,
        "mission_id": 1,
        "mission_title": "Assesseur",
        "organisation_name": "Mairie",
        "timezone": "Europe/Paris",
        "starts_at": START.isoformat(),
        "ends_at": END.isoformat(),
        "volunteer_name": "Camille",
        "attended": 3,
    }
    once = render("application_submitted", payload | {"no_shows": 1}, t).text
    assert "⚠️" not in once
    twice = render("application_submitted", payload | {"no_shows": 2}, t).text
    assert "⚠️" in twice and "Did not come 2 times" in twice
    sms = render_notification("application_submitted", payload | {"no_shows": 2}, t, NOW)
    assert "WARNING" in sms and "2 times" in sms


async def test_in_the_group_taps_mark_the_roster_and_it_shows_the_marks(tmp_path: Path) -> None:
    clock = FakeClock(NOW)
    async with running_bot(sqlite_file_url(tmp_path), clock, renfort_locale="en") as bot:
        organisation = await coordinator_with_group(bot)
        mission_id = await polling_station(bot.db, organisation.id, now=NOW, starts_at=START)
        camille = await volunteer(bot.db, VOLUNTEER, "Camille")
        async with bot.db.transaction("test_no_shows") as conn:
            await conn.execute(
                update(schema.people)
                .where(schema.people.c.id == camille.id)
                .values(no_show_count=2)
            )
        slot_id = await first_slot(bot.db, mission_id)
        view = await applications.apply(bot.db, person_id=camille.id, slot_id=slot_id, now=NOW)
        await bot.drain()
        posted = await bot.double.wait_for(BOT_GROUP, "Camille")
        assert "Did not come 2 times" in posted.text
        await tap_action(bot, COORDINATOR, posted, "approve", application_id=view.id)

        [listing] = await say(bot, COORDINATOR, "/roster", chat_id=BOT_GROUP)
        assert "Camille — approved" in listing.text

        clock.current = END
        assert await post_rosters(bot.renfort, END) == 1
        before = len(bot.double.messages[BOT_GROUP])
        await bot.drain()
        roster = await bot.double.wait_for(BOT_GROUP, "Who came?", after=before)

        await tap_action(
            bot, COORDINATOR, roster, "roster_mark", application_id=view.id, present=True
        )
        assert "Camille — ✅ present" in roster.text and roster.edits == 1
        assert await counts(bot.db, camille.id) == (1, 2)

        await tap_action(
            bot, COORDINATOR, roster, "roster_mark", application_id=view.id, present=False
        )
        assert "Camille — ❌ absent" in roster.text
        assert await counts(bot.db, camille.id) == (0, 3)

        next_morning = (START + timedelta(days=1)).replace(hour=8)  # 10:00 in Paris
        clock.current = next_morning
        assert await ask_feedback(bot.renfort, next_morning) == 1
        before = len(bot.double.messages[VOLUNTEER])
        await bot.drain()
        asked = await bot.double.wait_for(VOLUNTEER, "Tout s'est bien passé ?", after=before)
        await tap_action(bot, VOLUNTEER, asked, FEEDBACK, application_id=view.id, good=True)
        # Thanked in place; the 👍 answer (not the 👎 one) points to the other missions.
        assert asked.text.startswith("🙏") and "/missions" in asked.text and asked.edits == 1
