"""The Monday digest: at 09:00 in the organisation's zone, once per ISO week, with the
backlog, the slots short of people in the next 14 days and last week's no-shows."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import update

from bot.domain import ApplicationStatus
from bot.i18n import Translator
from bot.scheduler.digest import send_digests
from handlers.sms.render import render_notification
from handlers.telegram.render import render
from storage import schema
from storage.database import Database
from tests.conftest import NOW
from tests.factories import first_slot, polling_station
from tests.harness import FakeClock
from tests.organiser_jobs import GROUP, applied, linked_commune, outbox, renfort_at, set_status

MONDAY_9_PARIS = NOW.replace(hour=7)  # 07:00 UTC is 09:00 in Paris in June


async def test_the_digest_tells_the_backlog_the_gaps_and_last_weeks_no_shows(
    db: Database,
) -> None:
    town = await linked_commune(db, starts_at=NOW + timedelta(days=5), capacity=3)
    await applied(db, town.slot_id, 20, "Camille", at=NOW - timedelta(days=9))
    await applied(db, town.slot_id, 21, "Lou", at=NOW - timedelta(days=1))
    last_week = await polling_station(
        db,
        town.organisation_id,
        now=NOW - timedelta(days=10),
        starts_at=NOW - timedelta(days=4),
        title="Distribution",
    )
    absent = await applied(
        db, await first_slot(db, last_week), 22, "Sam", at=NOW - timedelta(days=9)
    )
    await set_status(db, absent.id, ApplicationStatus.NO_SHOW)
    renfort = renfort_at(db, FakeClock(NOW))

    assert await send_digests(renfort, MONDAY_9_PARIS) == 1

    [digest] = await outbox(db, "weekly_digest")
    assert digest.chat_id == GROUP
    assert digest.dedupe_key == f"digest:{town.organisation_id}:2027-W23:chat:{GROUP}"
    payload = digest.payload
    assert (payload["pending_count"], payload["late_count"]) == (2, 1)
    assert [o["name"] for o in payload["oldest"]] == ["Camille", "Lou"]
    assert payload["underfilled_count"] == 1
    assert payload["underfilled"][0]["places_left"] == 1
    assert payload["no_shows"] == ["Sam"]
    text = render("weekly_digest", payload, Translator("en")).text
    assert "2 applications" in text and "Camille" in text and "1 place left" in text
    assert "No-shows last week: Sam" in text
    assert "2 applications" in render_notification("weekly_digest", payload, Translator("en"))


async def test_once_per_week_from_monday_nine_in_the_organisations_zone(db: Database) -> None:
    town = await linked_commune(db)
    renfort = renfort_at(db, FakeClock(NOW))

    assert await send_digests(renfort, MONDAY_9_PARIS - timedelta(minutes=1)) == 0
    assert await send_digests(renfort, MONDAY_9_PARIS) == 1
    assert await send_digests(renfort, MONDAY_9_PARIS + timedelta(days=6, hours=14)) == 0
    next_monday = MONDAY_9_PARIS + timedelta(days=7)
    assert await send_digests(renfort, next_monday - timedelta(hours=1)) == 0
    assert await send_digests(renfort, next_monday) == 1

    async with db.transaction("test_zone") as conn:
        await conn.execute(
            update(schema.organisations)
            .where(schema.organisations.c.id == town.organisation_id)
            .values(timezone="America/Martinique")  # 09:00 there is 13:00 UTC
        )
    week_after = next_monday + timedelta(days=7)
    assert await send_digests(renfort, week_after) == 0
    assert await send_digests(renfort, week_after.replace(hour=13)) == 1


async def test_a_bot_down_on_monday_morning_sends_it_when_it_starts_that_week(
    db: Database,
) -> None:
    await linked_commune(db)
    renfort = renfort_at(db, FakeClock(NOW))

    assert await send_digests(renfort, MONDAY_9_PARIS + timedelta(days=2)) == 1
    assert await send_digests(renfort, MONDAY_9_PARIS + timedelta(days=3)) == 0
