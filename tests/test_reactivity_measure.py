"""The reactivity score measured by the database gives the very figures of the reference
fold over every application: at the 7-day boundary to the microsecond, with applications
cancelled before any answer, automatic decisions, and an even or odd number of answers."""

from __future__ import annotations

import random
from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlalchemy import insert

from bot.domain import ApplicationStatus
from bot.services import reactivity
from storage import schema
from storage.database import Database
from tests.conftest import NOW
from tests.factories import commune, first_slot, polling_station, volunteer

WEEK = timedelta(days=7)
TRICKY_WAITS = (
    WEEK,
    WEEK - timedelta(microseconds=1),
    WEEK + timedelta(microseconds=1),
    timedelta(hours=1, microseconds=999_999),
    timedelta(0),
)


async def organisation_slot(db: Database, name: str) -> tuple[int, int]:
    org = await commune(db, name)
    mission = await polling_station(db, org.id, now=NOW, capacity=50)
    return org.id, await first_slot(db, mission)


async def add(
    db: Database,
    slot_id: int,
    person_id: int,
    created: datetime,
    status: ApplicationStatus,
    events: Sequence[tuple[ApplicationStatus, datetime, int | None]],
) -> None:
    """An application with its status history out of pending: (to, when, actor)."""
    async with db.transaction("test") as conn:
        inserted = await conn.execute(
            insert(schema.applications).values(
                slot_id=slot_id,
                person_id=person_id,
                status=status,
                created_at=created,
                updated_at=created,
            )
        )
        application_id = inserted.inserted_primary_key[0]  # type: ignore[index]
        for to_status, at, actor in events:
            await conn.execute(
                insert(schema.application_events).values(
                    application_id=application_id,
                    from_status=ApplicationStatus.PENDING,
                    to_status=to_status,
                    actor_id=actor,
                    at=at,
                )
            )


async def both_ways(
    db: Database, organisation_ids: list[int] | None = None
) -> tuple[dict[int, reactivity.Reactivity], dict[int, reactivity.Reactivity]]:
    async with db.reading("test") as conn:
        measured = await reactivity.reactivity(conn, now=NOW, organisation_ids=organisation_ids)
        rows = (await conn.execute(reactivity.answers_query(NOW, organisation_ids))).all()
    return measured, reactivity.fold(rows, NOW)


async def test_the_counts_and_the_median_of_small_organisations(db: Database) -> None:
    odd, odd_slot = await organisation_slot(db, "Mairie")
    even, even_slot = await organisation_slot(db, "Banque alimentaire")
    coordinator = await volunteer(db, 1, "Nadia")
    person = await volunteer(db, 7, "V")
    approved, pending = ApplicationStatus.APPROVED, ApplicationStatus.PENDING
    created = NOW - timedelta(days=20)
    for slot, waits in (
        (odd_slot, (timedelta(hours=1), timedelta(hours=2), timedelta(days=8))),
        (even_slot, (timedelta(hours=3), timedelta(hours=1))),
    ):
        for wait in waits:
            answer = [(approved, created + wait, coordinator.id)]
            await add(db, slot, person.id, created, approved, answer)
    await add(db, odd_slot, person.id, NOW - timedelta(days=10), pending, [])  # left waiting
    await add(db, odd_slot, person.id, NOW - timedelta(days=2), pending, [])  # not late yet
    await add(db, odd_slot, person.id, NOW - timedelta(days=400), pending, [])  # too old

    measured, folded = await both_ways(db)

    assert (
        measured
        == folded
        == {
            odd: reactivity.Reactivity(4, 2, timedelta(hours=2)),
            even: reactivity.Reactivity(2, 2, timedelta(hours=2)),
        }
    )
    assert measured[odd].score == 65 and measured[even].score == 100


async def test_the_database_measure_matches_the_fold_on_random_histories(db: Database) -> None:
    rng = random.Random(10)
    quick, quick_slot = await organisation_slot(db, "Mairie")
    slow, slow_slot = await organisation_slot(db, "Banque alimentaire")
    silent, silent_slot = await organisation_slot(db, "Club de foot")  # never waited for
    await organisation_slot(db, "Croix-Rouge")  # nobody applied
    coordinator = await volunteer(db, 1, "Nadia")
    person = await volunteer(db, 7, "V")
    slots = {quick: quick_slot, slow: slow_slot}
    for number in range(160):
        org = (quick, slow)[number % 2]
        created = NOW - timedelta(
            days=rng.randrange(0, 200),
            seconds=rng.randrange(86_400),
            microseconds=rng.randrange(10**6),
        )
        wait = (
            rng.choice(TRICKY_WAITS)
            if rng.random() < 0.3
            else timedelta(
                hours=rng.randrange(0, 300 if org == slow else 60),
                microseconds=rng.randrange(10**6),
            )
        )
        kind = rng.randrange(5)
        if kind == 0:  # still pending
            await add(db, slots[org], person.id, created, ApplicationStatus.PENDING, [])
        elif kind == 1:  # cancelled by the volunteer before any answer
            cancelled = ApplicationStatus.CANCELLED
            await add(
                db, slots[org], person.id, created, cancelled, [(cancelled, created + wait, None)]
            )
        elif kind == 2:  # approved without anybody deciding (a place freed at once)
            approved = ApplicationStatus.APPROVED
            await add(
                db, slots[org], person.id, created, approved, [(approved, created + wait, None)]
            )
        else:  # answered by the coordinator, later cancelled
            answer = (ApplicationStatus.APPROVED, ApplicationStatus.REFUSED)[kind % 2]
            await add(
                db,
                slots[org],
                person.id,
                created,
                ApplicationStatus.CANCELLED if kind == 4 else answer,
                [(answer, created + wait, coordinator.id)],
            )
    waitlisted = ApplicationStatus.WAITLISTED
    await add(db, silent_slot, person.id, NOW - timedelta(days=30), waitlisted, [])

    measured, folded = await both_ways(db)
    assert measured == folded
    assert set(measured) == {quick, slow}  # the silent and the unknown have nothing to judge
    assert measured[slow].median_answer is not None
    only_slow = {slow: measured[slow]}
    assert await both_ways(db, [slow, silent]) == (only_slow, only_slow)
