"""Missions close by themselves after their last slot; whoever was still waiting for an
answer is refused with the reason "mission over" and told kindly, once."""

from __future__ import annotations

from datetime import timedelta

from bot.domain import REFUSAL_REASONS, ApplicationStatus, MissionStatus
from bot.i18n import Translator
from bot.scheduler.closing import close_finished_missions
from bot.services import missions
from bot.services.missions import MissionSpec, SlotSpec
from handlers.sms.render import render_notification
from handlers.telegram.render import render
from storage.database import Database
from tests.conftest import NOW
from tests.factories import SAINT_DIZIER
from tests.harness import FakeClock
from tests.organiser_jobs import (
    application_row,
    applied,
    audit_actions,
    linked_commune,
    outbox,
    renfort_at,
    set_status,
)

START = NOW + timedelta(days=1)
END = START + timedelta(hours=5)  # polling_station's slot lasts five hours


async def test_a_finished_mission_closes_and_refuses_who_was_still_waiting(db: Database) -> None:
    town = await linked_commune(db, starts_at=START, capacity=2)
    pending = await applied(db, town.slot_id, 20, "Camille")
    approved = await applied(db, town.slot_id, 21, "Lou")
    await set_status(db, approved.id, ApplicationStatus.APPROVED)
    waitlisted = await applied(db, town.slot_id, 22, "Sam")
    assert waitlisted.status == ApplicationStatus.WAITLISTED
    renfort = renfort_at(db, FakeClock(NOW))

    assert await close_finished_missions(renfort, END - timedelta(minutes=1)) == 0
    assert await close_finished_missions(renfort, END) == 1
    assert await close_finished_missions(renfort, END + timedelta(hours=1)) == 0

    detail = await missions.mission_detail(db, town.mission_id)
    assert detail.status == MissionStatus.CLOSED
    for refused in (pending, waitlisted):
        row = await application_row(db, refused.id)
        assert (row.status, row.reason) == (ApplicationStatus.REFUSED, "mission_over")
    assert (await application_row(db, approved.id)).status == ApplicationStatus.APPROVED
    told = await outbox(db, "application_decided")
    assert sorted(r.person_id for r in told) == sorted([pending.person_id, waitlisted.person_id])
    assert {r.payload["reason"] for r in told} == {"mission_over"}
    assert "mission.closed" in [
        r.action for r in await audit_actions(db, "mission", town.mission_id)
    ]
    assert "application.refused" in [
        r.action for r in await audit_actions(db, "application", pending.id)
    ]


async def test_the_volunteer_reads_that_the_mission_is_over_in_both_channels(
    db: Database,
) -> None:
    assert "mission_over" in REFUSAL_REASONS
    town = await linked_commune(db, starts_at=START)
    await applied(db, town.slot_id, 20, "Camille")
    await close_finished_missions(renfort_at(db, FakeClock(NOW)), END)
    [told] = await outbox(db, "application_decided")
    t = Translator("en")

    text = render("application_decided", told.payload, t).text
    assert "The mission is over" in text and "/missions" in text
    sms = render_notification("application_decided", told.payload, t, NOW)
    assert "The mission is over" in sms


async def test_a_mission_with_a_slot_still_ahead_stays_open(db: Database) -> None:
    town = await linked_commune(db, starts_at=START)
    spec = MissionSpec(
        organisation_id=town.organisation_id,
        title="Distribution alimentaire",
        domain="solidarity",
        description="",
        address="Salle des fêtes",
        postcode="52100",
        point=SAINT_DIZIER,
        slots=(
            SlotSpec(START, END, 2),
            SlotSpec(START + timedelta(days=7), END + timedelta(days=7), 2),
        ),
    )
    two_slots = await missions.create_mission(db, spec, actor_id=None, now=NOW)
    renfort = renfort_at(db, FakeClock(NOW))

    assert await close_finished_missions(renfort, END + timedelta(days=1)) == 1  # the other one
    assert (await missions.mission_detail(db, two_slots)).status == MissionStatus.PUBLISHED
    assert (await missions.mission_detail(db, town.mission_id)).status == MissionStatus.CLOSED
    assert await close_finished_missions(renfort, END + timedelta(days=7)) == 1
