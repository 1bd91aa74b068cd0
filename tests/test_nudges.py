"""Applications nobody answers: the organisation is reminded once at 3 days; at 7 days the
application is marked late and the volunteer told kindly to look at other missions too."""

from __future__ import annotations

from datetime import timedelta

from bot.domain import ApplicationStatus
from bot.i18n import Translator
from bot.scheduler.nudges import flag_late, nudge_pending
from handlers.sms.render import render_notification
from handlers.telegram.render import render
from storage.database import Database
from tests.conftest import NOW
from tests.harness import FakeClock
from tests.organiser_jobs import (
    GROUP,
    application_row,
    applied,
    audit_actions,
    linked_commune,
    outbox,
    renfort_at,
    set_status,
)


async def test_a_pending_application_nudges_the_admin_group_once_at_three_days(
    db: Database,
) -> None:
    town = await linked_commune(db)
    waiting = await applied(db, town.slot_id, 20, "Camille")
    answered = await applied(db, town.slot_id, 21, "Lou")
    await set_status(db, answered.id, ApplicationStatus.APPROVED)
    renfort = renfort_at(db, FakeClock(NOW))

    assert await nudge_pending(renfort, NOW + timedelta(days=2, hours=23)) == 0
    assert await nudge_pending(renfort, NOW + timedelta(days=3)) == 1
    assert await nudge_pending(renfort, NOW + timedelta(days=3, minutes=1)) == 0
    assert await nudge_pending(renfort, NOW + timedelta(days=5)) == 0

    [nudge] = await outbox(db, "application_nudge")
    assert nudge.chat_id == GROUP and nudge.person_id is None
    assert nudge.payload["application_id"] == waiting.id
    assert nudge.payload["volunteer_name"] == "Camille"
    assert nudge.payload["days_waiting"] == 3
    assert (await application_row(db, waiting.id)).nudged_at == NOW + timedelta(days=3)
    assert "application.nudged" in [
        r.action for r in await audit_actions(db, "application", waiting.id)
    ]

    rendered = render("application_nudge", nudge.payload, Translator("en"))
    assert "Camille" in rendered.text and "3 days ago" in rendered.text
    assert [b.action for row in rendered.rows for b in row] == ["approve", "refuse"]


async def test_without_a_group_each_coordinator_is_nudged_privately(db: Database) -> None:
    town = await linked_commune(db, group=False)
    await applied(db, town.slot_id, 20, "Camille")
    renfort = renfort_at(db, FakeClock(NOW))

    assert await nudge_pending(renfort, NOW + timedelta(days=4)) == 1

    [nudge] = await outbox(db, "application_nudge")
    assert nudge.person_id == town.coordinator.id and nudge.chat_id is None


async def test_at_seven_days_the_application_is_late_and_the_volunteer_told_once(
    db: Database,
) -> None:
    town = await linked_commune(db)
    waiting = await applied(db, town.slot_id, 20, "Camille")
    renfort = renfort_at(db, FakeClock(NOW))

    assert await flag_late(renfort, NOW + timedelta(days=6, hours=23)) == 0
    assert await flag_late(renfort, NOW + timedelta(days=7)) == 1
    assert await flag_late(renfort, NOW + timedelta(days=8)) == 0

    [late] = await outbox(db, "application_late")
    assert late.person_id == waiting.person_id
    row = await application_row(db, waiting.id)
    assert row.late_at == NOW + timedelta(days=7)
    assert row.status == ApplicationStatus.PENDING  # still open: the organisation may answer
    text = render("application_late", late.payload, Translator("en")).text
    assert "still waiting" in text and "/missions" in text
    sms = render_notification("application_late", late.payload, Translator("en"), NOW)
    assert "MISSIONS" in sms


async def test_a_slot_already_begun_is_neither_nudged_nor_flagged(db: Database) -> None:
    town = await linked_commune(db, starts_at=NOW + timedelta(days=2))
    await applied(db, town.slot_id, 20, "Camille")
    renfort = renfort_at(db, FakeClock(NOW))
    later = NOW + timedelta(days=8)

    assert await nudge_pending(renfort, later) == 0
    assert await flag_late(renfort, later) == 0
