"""The places kept on each slot always equal a count of its applications, on SQLite and
PostgreSQL, whatever changed them: applying, cancelling, refusing, offers taken, declined or
timed out, a capacity raised or lowered, a slot cancelled, a mission closed, yeses to a
callout, many people applying or answering at once; and the migration fills them in for an
existing database. Each change moves the kept places by its own difference, so every step
is checked against a full recount."""

from __future__ import annotations

import asyncio
import sqlite3
from datetime import timedelta
from pathlib import Path

from sqlalchemy import insert, select

from bot.domain import ApplicationStatus
from bot.services import (
    applications,
    callouts,
    closing,
    mission_changes,
    missions,
    offers,
    organisations,
    places,
)
from bot.services.callout_views import Targeting
from bot.services.people import Person
from bot.services.slots import set_capacity
from storage import schema
from storage.database import Database
from storage.migrate import upgrade_sync
from tests.conftest import NOW
from tests.factories import commune, first_slot, polling_station, volunteer


async def kept_and_counted(db: Database, slot_id: int) -> tuple[places.Places, places.Places]:
    """The slot's kept places, and the same counted again from its applications."""
    s = schema.slots
    async with db.reading("test") as conn:
        row = (await conn.execute(select(s.c.taken, s.c.waitlisted).where(s.c.id == slot_id))).one()
        return places.Places(row.taken, row.waitlisted), await places.recount(conn, slot_id)


async def assert_kept(db: Database, slot_id: int, taken: int, waitlisted: int) -> None:
    kept, counted = await kept_and_counted(db, slot_id)
    assert kept == counted == places.Places(taken, waitlisted)


async def station(db: Database, capacity: int) -> tuple[int, Person]:
    org = await commune(db)
    coordinator = await volunteer(db, 999, "Nadia")
    await organisations.join(db, coordinator.id, org.invite_code)
    return await first_slot(db, await polling_station(db, org.id, now=NOW, capacity=capacity)), (
        coordinator
    )


async def apply(db: Database, slot_id: int, number: int) -> applications.ApplicationView:
    person = await volunteer(db, number, f"Volontaire {number}")
    return await applications.apply(db, person_id=person.id, slot_id=slot_id, now=NOW)


async def test_kept_places_follow_apply_cancel_refuse_and_offers(db: Database) -> None:
    slot_id, coordinator = await station(db, capacity=2)
    await assert_kept(db, slot_id, 0, 0)
    first, second, third, fourth = [await apply(db, slot_id, n) for n in (1, 2, 3, 4)]
    await assert_kept(db, slot_id, 2, 2)

    # A holder cancels: the place is offered to the first waiting, who keeps it reserved.
    await applications.cancel(db, person_id=first.person_id, application_id=first.id, now=NOW)
    await assert_kept(db, slot_id, 2, 2)
    offered = await applications.get_application(db, third.id)
    assert offered.offer_expires_at is not None
    await offers.accept_offer(db, person_id=third.person_id, application_id=third.id, now=NOW)
    await assert_kept(db, slot_id, 2, 1)

    # Refused: the place goes to the next waiting, who declines it.
    await applications.decide(
        db, application_id=second.id, actor_id=coordinator.id, approve=False, reason="other"
    )
    await assert_kept(db, slot_id, 2, 1)
    await offers.decline_offer(db, person_id=fourth.person_id, application_id=fourth.id, now=NOW)
    await assert_kept(db, slot_id, 1, 0)
    detail = await missions.mission_of_slot(db, slot_id)
    assert (detail.slots[0].free, detail.slots[0].waitlisted) == (1, 0)


async def test_an_offer_timing_out_and_a_capacity_change_keep_the_places(db: Database) -> None:
    slot_id, coordinator = await station(db, capacity=1)
    holder, waiting, last = [await apply(db, slot_id, n) for n in (1, 2, 3)]
    await applications.cancel(db, person_id=holder.person_id, application_id=holder.id, now=NOW)
    await assert_kept(db, slot_id, 1, 2)
    offered = await applications.get_application(db, waiting.id)
    assert offered.offer_expires_at is not None
    # The offer runs out: withdrawn, and the place offered to the last one.
    await offers.expire_due_offers(db, now=offered.offer_expires_at + timedelta(minutes=1))
    await assert_kept(db, slot_id, 1, 1)

    # Two more places: the last one waiting is offered one of them at once.
    view = await set_capacity(db, actor_id=coordinator.id, slot_id=slot_id, capacity=3, now=NOW)
    await assert_kept(db, slot_id, 1, 1)
    assert (view.capacity, view.taken) == (3, 1)
    await offers.accept_offer(db, person_id=last.person_id, application_id=last.id, now=NOW)
    await assert_kept(db, slot_id, 1, 0)
    detail = await missions.mission_of_slot(db, slot_id)
    assert detail.slots[0].free == 2


async def test_many_applying_at_once_for_few_places_are_kept_exactly(db: Database) -> None:
    slot_id, _ = await station(db, capacity=3)
    people = [await volunteer(db, n, f"Volontaire {n}") for n in range(1, 13)]

    views = await asyncio.gather(
        *(applications.apply(db, person_id=p.id, slot_id=slot_id, now=NOW) for p in people)
    )

    statuses = [v.status for v in views]
    assert statuses.count(ApplicationStatus.PENDING) == 3
    assert statuses.count(ApplicationStatus.WAITLISTED) == 9
    await assert_kept(db, slot_id, 3, 9)


def test_the_migration_counts_the_places_of_an_existing_database(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    upgrade_sync(f"sqlite:///{path}", revision="0005")
    with sqlite3.connect(path) as conn:
        conn.executescript(
            """
            INSERT INTO organisations (id, name, invite_code, verified, offer_window_hours,
                attendance_check, templates_skip_review, created_at)
                VALUES (1, 'Mairie', 'ABC', 1, 12, 1, 1, '2027-06-01 08:00:00');
            INSERT INTO people (id, first_name, phone_shared, interests, availability,
                attended_count, no_show_count, created_at, updated_at)
                VALUES (1, 'A', 0, '[]', '{}', 0, 0, '2027-06-01', '2027-06-01'),
                       (2, 'B', 0, '[]', '{}', 0, 0, '2027-06-01', '2027-06-01'),
                       (3, 'C', 0, '[]', '{}', 0, 0, '2027-06-01', '2027-06-01'),
                       (4, 'D', 0, '[]', '{}', 0, 0, '2027-06-01', '2027-06-01');
            INSERT INTO missions (id, organisation_id, title, description, domain, address,
                remote, timezone, status, created_at)
                VALUES (1, 1, 'Assesseur', '', 'citizenship', '', 0, 'Europe/Paris',
                        'published', '2027-06-01');
            INSERT INTO slots (id, mission_id, starts_at, ends_at, capacity, created_at)
                VALUES (1, 1, '2027-06-13 06:00:00', '2027-06-13 11:00:00', 2, '2027-06-01');
            INSERT INTO applications (id, slot_id, person_id, status, offer_expires_at,
                created_at, updated_at)
                VALUES (1, 1, 1, 'approved', NULL, '2027-06-02', '2027-06-02'),
                       (2, 1, 2, 'cancelled', NULL, '2027-06-02', '2027-06-02'),
                       (3, 1, 3, 'waitlisted', '2027-06-08 09:00:00', '2027-06-03', '2027-06-03'),
                       (4, 1, 4, 'waitlisted', NULL, '2027-06-04', '2027-06-04');
            INSERT INTO application_events (application_id, from_status, to_status, actor_id, at)
                VALUES (1, NULL, 'pending', 1, '2027-06-02 00:00:00'),
                       (1, 'pending', 'approved', 2, '2027-06-02 02:00:00');
            """
        )
    upgrade_sync(f"sqlite:///{path}")
    with sqlite3.connect(path) as conn:
        assert conn.execute("SELECT taken, waitlisted FROM slots").fetchall() == [(2, 2)]
        # Answered within two hours: the organisation's kept score is measured already.
        assert conn.execute("SELECT reactivity FROM organisations").fetchall() == [(100,)]
        assert conn.execute("SELECT reactivity FROM missions").fetchall() == [(100,)]
        assert conn.execute("SELECT count(*) FROM applications").fetchall() == [(4,)]


async def test_lowering_the_capacity_withdraws_offers_then_moves_holders_back(
    db: Database,
) -> None:
    slot_id, coordinator = await station(db, capacity=3)
    first, second, third, fourth, fifth = [await apply(db, slot_id, n) for n in range(1, 6)]
    await applications.cancel(db, person_id=first.person_id, application_id=first.id, now=NOW)
    await assert_kept(db, slot_id, 3, 2)  # the fourth is offered the freed place

    # One place less: the open offer goes first, nobody holding a place moves.
    await mission_changes.change_capacity(
        db, actor_id=coordinator.id, slot_id=slot_id, capacity=2, now=NOW
    )
    await assert_kept(db, slot_id, 2, 2)
    assert (await applications.get_application(db, fourth.id)).offer_expires_at is None

    # One place left: the chosen holder goes back to the top of the waiting list.
    await mission_changes.change_capacity(
        db, actor_id=coordinator.id, slot_id=slot_id, capacity=1, move=[third.id], now=NOW
    )
    await assert_kept(db, slot_id, 1, 3)
    moved = await applications.get_application(db, third.id)
    assert (moved.status, moved.waitlist_position) == (ApplicationStatus.WAITLISTED, 1)
    assert (await applications.get_application(db, second.id)).status == ApplicationStatus.PENDING
    assert (await applications.get_application(db, fifth.id)).waitlist_position == 3


async def test_a_cancelled_slot_releases_held_offered_and_waiting_places(db: Database) -> None:
    slot_id, coordinator = await station(db, capacity=2)
    holder, other, offered, waiting = [await apply(db, slot_id, n) for n in (1, 2, 3, 4)]
    await applications.cancel(db, person_id=holder.person_id, application_id=holder.id, now=NOW)
    assert (await applications.get_application(db, offered.id)).offer_expires_at is not None
    await assert_kept(db, slot_id, 2, 2)

    await mission_changes.cancel_slot(
        db, actor_id=coordinator.id, slot_id=slot_id, reason="weather", now=NOW
    )

    await assert_kept(db, slot_id, 0, 0)
    for view in (other, offered, waiting):
        assert (await applications.get_application(db, view.id)).status == (
            ApplicationStatus.CANCELLED
        )
    # The offer ended with the slot: the offers job does not see it as open any more.
    assert (await applications.get_application(db, offered.id)).offer_expires_at is None


async def test_closing_a_finished_mission_refuses_the_unanswered_and_keeps_the_approved(
    db: Database,
) -> None:
    slot_id, coordinator = await station(db, capacity=2)
    kept_one, holder, offered, waiting = [await apply(db, slot_id, n) for n in (1, 2, 3, 4)]
    await applications.decide(db, application_id=kept_one.id, actor_id=coordinator.id, approve=True)
    await applications.cancel(db, person_id=holder.person_id, application_id=holder.id, now=NOW)
    await assert_kept(db, slot_id, 2, 2)
    detail = await missions.mission_of_slot(db, slot_id)

    closed = await closing.close_mission(
        db, mission_id=detail.id, now=detail.slots[0].ends_at + timedelta(hours=1)
    )

    assert closed is not None
    await assert_kept(db, slot_id, 1, 0)
    assert (await applications.get_application(db, offered.id)).status == (
        ApplicationStatus.REFUSED
    )
    assert (await applications.get_application(db, waiting.id)).status == (
        ApplicationStatus.REFUSED
    )


async def test_yeses_to_a_callout_at_once_take_the_free_places_exactly(db: Database) -> None:
    """Twelve people answer at once for a slot with three places, one already taken."""
    slot_id, coordinator = await station(db, capacity=3)
    await apply(db, slot_id, 1)
    callout = await callouts.launch(
        db,
        actor_id=coordinator.id,
        slot_id=slot_id,
        needed=2,
        targeting=Targeting(radius_km=None, urgent=True),
        now=NOW,
    )
    asked = [await volunteer(db, n, f"Volontaire {n}") for n in range(100, 112)]
    async with db.transaction("test_ask") as conn:
        await conn.execute(
            insert(schema.callout_recipients),
            [
                {"callout_id": callout.id, "person_id": p.id, "wave": 1, "rank": 1000 + i}
                for i, p in enumerate(asked)
            ],
        )

    answers = await asyncio.gather(
        *(
            callouts.answer(db, person_id=p.id, callout_id=callout.id, available=True, now=NOW)
            for p in asked
        )
    )

    outcomes = [a.outcome for a in answers]
    assert (outcomes.count("taken"), outcomes.count("waitlisted")) == (2, 10)
    await assert_kept(db, slot_id, 3, 10)
    # A no after the need is met changes no place; a second yes neither.
    late = await volunteer(db, 200, "En retard")
    async with db.transaction("test_ask_late") as conn:
        await conn.execute(
            insert(schema.callout_recipients),
            [{"callout_id": callout.id, "person_id": late.id, "wave": 2, "rank": 2000}],
        )
    await callouts.answer(db, person_id=late.id, callout_id=callout.id, available=False, now=NOW)
    again = await callouts.answer(
        db, person_id=asked[0].id, callout_id=callout.id, available=True, now=NOW
    )
    assert again.outcome == "already"
    await assert_kept(db, slot_id, 3, 10)
