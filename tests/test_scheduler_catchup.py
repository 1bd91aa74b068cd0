"""After downtime the scheduler catches up over several ticks, a bounded batch per job at a
time, soonest first: nothing is lost, nothing goes twice, and a volunteer who cancels while
the backlog drains is not reminded afterwards (their write got in between two batches)."""

from __future__ import annotations

import sqlite3
from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy.engine import make_url

from bot.scheduler import attendance, digest, nudges, reminders
from bot.scheduler.tick import tick
from bot.services import applications
from storage.database import Database
from tests.conftest import NOW
from tests.factories import ELECTION_MORNING
from tests.harness import FakeClock
from tests.organiser_jobs import applied, linked_commune, outbox, renfort_at
from tests.schedule_steps import approved, person, place, queued

# Sunday 01:00 in Paris: the bot was down through Saturday's 18:00 reminders.
BACK_UP = datetime(2027, 6, 12, 23, 0, tzinfo=UTC)


@pytest.mark.parametrize("settings_read_exactly", [True, False])
async def test_a_reminder_backlog_drains_over_ticks_once_each_and_skips_who_cancelled(
    db: Database, monkeypatch: pytest.MonkeyPatch, settings_read_exactly: bool
) -> None:
    monkeypatch.setattr(reminders, "PER_TICK", 2)
    if not settings_read_exactly:  # as with many organisations' own reminder hours
        monkeypatch.setattr(reminders, "MOST_SETTINGS", 0)
    clock = FakeClock(NOW)
    renfort = renfort_at(db, clock)
    spot = await place(db, now=NOW, starts_at=ELECTION_MORNING, capacity=6)
    volunteers = [await person(db, 20 + i, f"V{i}", "en") for i in range(6)]
    placed = {await approved(db, spot, v.id, NOW): v.id for v in volunteers}

    clock.current = BACK_UP
    per_tick = [(await tick(renfort))["reminders"]]
    # The last volunteer, not reminded yet (soonest first, then by application), withdraws.
    last = max(placed)
    await applications.cancel(db, person_id=placed[last], application_id=last, now=BACK_UP)
    while per_tick[-1]:
        clock.advance(seconds=30)
        per_tick.append((await tick(renfort))["reminders"])

    assert per_tick == [2, 2, 1, 0]
    rows = await queued(db, "reminder_day_before")
    reminded = Counter(r["payload"]["application_id"] for r in rows)
    assert set(reminded) == set(placed) - {last}
    assert set(reminded.values()) == {1}
    assert await queued(db, "reminder_hours_before") == []


async def test_attendance_questions_after_downtime_go_in_batches_each_once(
    db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(attendance, "PER_TICK", 2)
    renfort = renfort_at(db, FakeClock(NOW))
    spot = await place(db, now=NOW, starts_at=ELECTION_MORNING, capacity=5)
    people = [await person(db, 30 + i, "V", "en") for i in range(5)]
    ids = [await approved(db, spot, p.id, NOW) for p in people]

    asked_at = ELECTION_MORNING - timedelta(hours=2)  # due the evening before; still useful
    done = [
        await attendance.ask_attendance(renfort, asked_at + timedelta(minutes=i)) for i in range(4)
    ]

    assert done == [2, 2, 1, 0]
    asked = Counter(r["payload"]["application_id"] for r in await queued(db, "attendance_check"))
    assert asked == Counter(ids)


async def test_a_nudge_backlog_tells_the_group_once_per_application_over_ticks(
    db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(nudges, "BATCH", 2)
    town = await linked_commune(db, capacity=5)
    waiting = [await applied(db, town.slot_id, 40 + i, f"W{i}") for i in range(5)]
    renfort = renfort_at(db, FakeClock(NOW))

    later = NOW + timedelta(days=4)  # down over the third day
    done = [await nudges.nudge_pending(renfort, later + timedelta(minutes=i)) for i in range(4)]

    assert done == [2, 2, 1, 0]
    told = Counter(n.payload["application_id"] for n in await outbox(db, "application_nudge"))
    assert told == Counter(w.id for w in waiting)


async def test_monday_digests_go_a_few_organisations_per_tick_each_once(
    db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(digest, "PER_TICK", 2)
    for i in range(3):
        await linked_commune(db, group=False, name=f"Mairie {i}")
    renfort = renfort_at(db, FakeClock(NOW))

    monday_nine = NOW.replace(hour=7)  # 09:00 in Paris
    done = [
        await digest.send_digests(renfort, monday_nine + timedelta(minutes=i)) for i in range(4)
    ]

    assert done == [2, 1, 0, 0]
    sent = Counter(d.payload["organisation_name"] for d in await outbox(db, "weekly_digest"))
    assert sent == Counter(f"Mairie {i}" for i in range(3))


async def test_what_a_tick_wrote_is_in_the_database_file_not_only_in_its_log(
    sqlite_db: Database,
) -> None:
    """SQLite's log is copied back between jobs, outside their write transactions, so no
    commit (an inbound message's included) ever waits for that copy."""
    clock = FakeClock(NOW)
    renfort = renfort_at(sqlite_db, clock)
    spot = await place(sqlite_db, now=NOW, starts_at=ELECTION_MORNING, capacity=3)
    for i in range(3):
        await approved(sqlite_db, spot, (await person(sqlite_db, 20 + i, f"V{i}", "en")).id, NOW)

    clock.current = BACK_UP
    assert (await tick(renfort))["reminders"] == 3

    path = make_url(sqlite_db.url).database
    # immutable: the file alone, as it would be read if the log were lost
    file_only = sqlite3.connect(f"file:{path}?immutable=1", uri=True)
    try:
        (in_file,) = file_only.execute(
            "SELECT count(*) FROM outbox WHERE kind = 'reminder_day_before'"
        ).fetchone()
    finally:
        file_only.close()
    assert in_file == len(await queued(sqlite_db, "reminder_day_before")) == 3
