"""The rules behind a coordinator's changes, on SQLite and PostgreSQL: a cancelled slot
takes nobody any more, a new time lets the reminders go again, places cut need names, a
mission in review goes back to its referent and a published one's referent hears of a new
place."""

from __future__ import annotations

from datetime import datetime, timedelta
from functools import partial
from typing import Any

import pytest
from sqlalchemy import select

from bot.domain import ApplicationStatus, MissionStatus, Period
from bot.i18n import Translator
from bot.messaging.outbox import enqueue_once
from bot.notifications.schedule import ReminderDayBefore
from bot.scheduler.reminders import REMINDER_DAY_BEFORE
from bot.services import applications, callouts, mission_changes, missions, rosters
from bot.services.callouts import Targeting
from bot.services.errors import Conflict, InvalidInput, NotAllowed, NotFound
from bot.services.mission_changes import NewPlace
from handlers.sms.gsm7 import segments
from handlers.sms.render import render_notification
from handlers.sms.render.mission_changes import MISSION_CHANGE_RENDERERS
from storage import schema
from storage.database import Database
from tests.conftest import NOW
from tests.factories import ELECTION_MORNING, SAINT_DIZIER, volunteer
from tests.test_moderation import assessor_mission, notes, scene, status_of
from tests.test_sms_segments import payload

LATER = Period(ELECTION_MORNING + timedelta(hours=1), ELECTION_MORNING + timedelta(hours=6))


async def test_a_cancelled_slot_disappears_and_takes_no_application(db: Database) -> None:
    s = await scene(db, verified=True)
    mission_id = await assessor_mission(s)
    [slot] = await slot_ids(db, mission_id)
    camille = await volunteer(db, 20, "Camille")
    held = await applications.apply(db, person_id=camille.id, slot_id=slot, now=NOW)

    with pytest.raises(NotAllowed):
        await mission_changes.cancel_slot(
            db, actor_id=camille.id, slot_id=slot, reason="weather", now=NOW
        )
    with pytest.raises(InvalidInput):
        await mission_changes.cancel_slot(
            db, actor_id=s.coordinator_id, slot_id=slot, reason="   ", now=NOW
        )
    changed = await mission_changes.cancel_slot(
        db, actor_id=s.coordinator_id, slot_id=slot, reason="weather", now=NOW
    )

    assert changed.told == 1
    view = await applications.get_application(db, held.id)
    assert view.status == ApplicationStatus.CANCELLED and view.reason == "slot_cancelled"
    [(to, payload)] = await notes(db, "slot_cancelled")
    assert to == camille.id and payload["reason_key"] == "weather"
    assert await slot_ids(db, mission_id) == []
    sam = await volunteer(db, 21, "Sam")
    with pytest.raises(Conflict) as refused:
        await applications.apply(db, person_id=sam.id, slot_id=slot, now=NOW)
    assert refused.value.code == "slot_cancelled"


async def slot_ids(db: Database, mission_id: int) -> list[int]:
    return [s.id for s in (await missions.mission_detail(db, mission_id)).slots]


async def test_a_new_time_releases_the_reminders_queued_for_the_old_one(db: Database) -> None:
    s = await scene(db, verified=True)
    [slot] = await slot_ids(db, await assessor_mission(s))
    camille = await volunteer(db, 20, "Camille")
    held = await applications.apply(db, person_id=camille.id, slot_id=slot, now=NOW)
    key = f"{REMINDER_DAY_BEFORE}:{held.id}"
    async with db.transaction("test") as conn:
        await enqueue_once(conn, key, ReminderDayBefore.about(held), person_id=camille.id)

    await mission_changes.move_slot(
        db, actor_id=s.coordinator_id, slot_id=slot, period=LATER, now=NOW
    )

    o = schema.outbox
    async with db.reading("test") as conn:
        rows = (
            await conn.execute(
                select(o.c.dedupe_key, o.c.status).where(o.c.kind == REMINDER_DAY_BEFORE)
            )
        ).all()
    [(renamed, status)] = rows
    assert renamed != key and renamed.startswith(key) and status == "cancelled"
    [(to, payload), (referent, _)] = await notes(db, "slot_moved")
    assert (to, referent) == (camille.id, s.referent_id)  # a new date: the referent knows
    assert datetime.fromisoformat(payload["old_starts_at"]) == ELECTION_MORNING
    assert datetime.fromisoformat(payload["starts_at"]) == LATER.starts_at
    with pytest.raises(InvalidInput):
        await mission_changes.move_slot(
            db,
            actor_id=s.coordinator_id,
            slot_id=slot,
            period=Period(NOW - timedelta(hours=1), NOW + timedelta(hours=1)),
            now=NOW,
        )


async def test_cutting_places_needs_names_and_an_open_offer_is_withdrawn_first(
    db: Database,
) -> None:
    s = await scene(db, verified=True)
    [slot] = await slot_ids(db, await assessor_mission(s))
    ids = {}
    for user_id, name in ((20, "Ana"), (21, "Bo")):
        person = await volunteer(db, user_id, name)
        ids[name] = (await applications.apply(db, person_id=person.id, slot_id=slot, now=NOW)).id

    with pytest.raises(Conflict) as asked:
        await mission_changes.change_capacity(
            db, actor_id=s.coordinator_id, slot_id=slot, capacity=1, now=NOW
        )
    assert asked.value.code == "choose_who_moves" and asked.value.details["to_move"] == 1
    cut = await mission_changes.change_capacity(
        db, actor_id=s.coordinator_id, slot_id=slot, capacity=1, move=[ids["Ana"]], now=NOW
    )
    assert cut.moved == ("Ana",) and cut.slot.taken == 1
    cy = await volunteer(db, 22, "Cy")
    late = await applications.apply(db, person_id=cy.id, slot_id=slot, now=NOW)
    ana = await applications.get_application(db, ids["Ana"])
    assert (ana.waitlist_position, late.waitlist_position) == (1, 2)

    raised = await mission_changes.change_capacity(
        db, actor_id=s.coordinator_id, slot_id=slot, capacity=2, now=NOW
    )
    assert raised.offered == 1
    assert (await applications.get_application(db, ids["Ana"])).offer_expires_at is not None
    again = await mission_changes.change_capacity(
        db, actor_id=s.coordinator_id, slot_id=slot, capacity=1, now=NOW
    )
    ana = await applications.get_application(db, ids["Ana"])
    assert again.moved == () and ana.offer_expires_at is None and ana.waitlist_position == 1
    assert [to for to, _ in await notes(db, "moved_to_waitlist")] == [ana.person_id]


async def test_a_mission_in_review_goes_back_to_its_referent_with_the_change(
    db: Database,
) -> None:
    s = await scene(db)
    mission_id = await assessor_mission(s, template=False)
    assert await status_of(db, mission_id) == MissionStatus.IN_REVIEW

    changed = await mission_changes.edit_mission(
        db, actor_id=s.coordinator_id, mission_id=mission_id, title="Assesseur — bureau 2", now=NOW
    )

    assert changed.status == MissionStatus.IN_REVIEW
    reviews = await notes(db, "mission_review")
    assert [to for to, _ in reviews] == [s.referent_id, s.referent_id]
    assert reviews[-1][1]["mission_title"] == "Assesseur — bureau 2"


async def test_a_published_mission_moving_elsewhere_tells_its_volunteers_and_referent(
    db: Database,
) -> None:
    s = await scene(db, verified=True)
    mission_id = await assessor_mission(s)
    assert await status_of(db, mission_id) == MissionStatus.PUBLISHED
    [slot] = await slot_ids(db, mission_id)
    camille = await volunteer(db, 20, "Camille")
    await applications.apply(db, person_id=camille.id, slot_id=slot, now=NOW)

    changed = await mission_changes.edit_mission(
        db,
        actor_id=s.coordinator_id,
        mission_id=mission_id,
        place=NewPlace("Gymnase Rostand, 52100 Saint-Dizier", "52100", SAINT_DIZIER),
        now=NOW,
    )

    assert changed.status == MissionStatus.PUBLISHED and changed.told == 1
    told = await notes(db, "mission_changed")
    assert [to for to, _ in told] == [camille.id, s.referent_id]
    assert told[0][1]["changed"] == ["address"] and told[0][1]["old_address"] == "Hôtel de ville"
    assert told[0][1]["address"].startswith("Gymnase Rostand")
    await mission_changes.cancel_mission(
        db, actor_id=s.coordinator_id, mission_id=mission_id, reason="postponed", now=NOW
    )
    with pytest.raises(Conflict):
        await mission_changes.edit_mission(
            db, actor_id=s.coordinator_id, mission_id=mission_id, title="Encore", now=NOW
        )
    assert await status_of(db, mission_id) == MissionStatus.CANCELLED


async def test_cancelling_a_slot_stops_its_callout(db: Database) -> None:
    s = await scene(db, verified=True)
    [slot] = await slot_ids(db, await assessor_mission(s))
    launch = partial(
        callouts.launch,
        db,
        actor_id=s.coordinator_id,
        slot_id=slot,
        needed=1,
        targeting=Targeting(radius_km=10, domains=()),
        now=NOW,
    )
    launched = await launch()

    await mission_changes.cancel_slot(
        db, actor_id=s.coordinator_id, slot_id=slot, reason="Le bureau est fermé", now=NOW
    )

    assert (await callouts.get_callout(db, launched.id)).status == "stopped"
    with pytest.raises(NotFound):
        await launch()
    roster = await rosters.upcoming_rosters(db, organisation_id=s.organisation_id, now=NOW)
    assert roster == []


@pytest.mark.parametrize(
    "extra",
    [
        {"changed": ["address"], "old_address": "Mairie"},
        {"changed": ["title"], "old_title": "Assesseur"},
        {"changed": ["description"]},
        {"reason": "La salle est inondée après l’orage de cette nuit, désolés " * 3},
        {"reason_key": "postponed"},
        {"old_starts_at": "2027-09-29T09:00:00+02:00", "old_ends_at": "2027-09-29T12:00:00+02:00"},
    ],
)
@pytest.mark.parametrize("locale", ["fr", "en"])
@pytest.mark.parametrize("kind", sorted(MISSION_CHANGE_RENDERERS))
def test_every_change_fits_one_sms_with_the_longest_values(
    kind: str, locale: str, extra: dict[str, Any]
) -> None:
    text = render_notification(kind, payload(**extra), Translator(locale), NOW)
    assert segments(text) == 1, text


async def test_people_moved_back_wait_first_in_the_order_they_were_chosen(db: Database) -> None:
    s = await scene(db, verified=True)
    [slot] = await slot_ids(db, await assessor_mission(s))
    await mission_changes.change_capacity(
        db, actor_id=s.coordinator_id, slot_id=slot, capacity=3, now=NOW
    )
    ids = {}
    for user_id, name in ((20, "Ana"), (21, "Bo"), (22, "Cy"), (23, "Dee")):
        person = await volunteer(db, user_id, name)
        ids[name] = (await applications.apply(db, person_id=person.id, slot_id=slot, now=NOW)).id

    await mission_changes.change_capacity(
        db,
        actor_id=s.coordinator_id,
        slot_id=slot,
        capacity=1,
        move=[ids["Cy"], ids["Ana"]],
        now=NOW,
    )

    positions = {
        name: (await applications.get_application(db, ids[name])).waitlist_position for name in ids
    }
    assert positions == {"Ana": 2, "Bo": None, "Cy": 1, "Dee": 3}
