"""Applying, deciding and cancelling, on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest
from sqlalchemy import select

from bot.domain import ApplicationStatus
from bot.services import applications, organisations
from bot.services.errors import Conflict, NotAllowed
from storage import schema
from storage.database import Database
from tests.conftest import NOW
from tests.factories import commune, first_slot, polling_station, volunteer


async def outbox_kinds(db: Database) -> list[tuple[str, int | None, int | None]]:
    o = schema.outbox
    async with db.reading("test") as conn:
        rows = (
            await conn.execute(select(o.c.kind, o.c.person_id, o.c.chat_id).order_by(o.c.id))
        ).all()
    return [(r.kind, r.person_id, r.chat_id) for r in rows]


async def test_fifty_simultaneous_applicants_for_two_places_never_overbook(db: Database) -> None:
    org = await commune(db)
    slot_id = await first_slot(db, await polling_station(db, org.id, now=NOW, capacity=2))
    people = [await volunteer(db, 1000 + i, f"Volontaire {i}") for i in range(50)]

    results = await asyncio.gather(
        *(applications.apply(db, person_id=p.id, slot_id=slot_id, now=NOW) for p in people)
    )

    statuses = [r.status for r in results]
    assert statuses.count(ApplicationStatus.PENDING) == 2
    assert statuses.count(ApplicationStatus.WAITLISTED) == 48
    positions = sorted(r.waitlist_position or 0 for r in results if r.waitlist_position)
    assert positions == list(range(1, 49))


async def test_a_volunteer_cannot_hold_two_overlapping_slots(db: Database) -> None:
    org = await commune(db)
    first = await first_slot(db, await polling_station(db, org.id, now=NOW))
    other = await first_slot(
        db, await polling_station(db, org.id, now=NOW, title="Secrétaire — bureau n°1")
    )
    camille = await volunteer(db, 1)
    await applications.apply(db, person_id=camille.id, slot_id=first, now=NOW)

    with pytest.raises(Conflict) as refused:
        await applications.apply(db, person_id=camille.id, slot_id=other, now=NOW)
    assert refused.value.code == "overlap"


async def test_a_volunteer_who_cancels_frees_the_place_for_the_first_on_the_waitlist(
    db: Database,
) -> None:
    """The place is offered to the first in line, who keeps it reserved until they answer."""
    org = await commune(db)
    slot_id = await first_slot(db, await polling_station(db, org.id, now=NOW, capacity=1))
    camille, lucas, ines = [
        await volunteer(db, i, n) for i, n in ((1, "Camille"), (2, "Lucas"), (3, "Inès"))
    ]
    held = await applications.apply(db, person_id=camille.id, slot_id=slot_id, now=NOW)
    lucas_app = await applications.apply(db, person_id=lucas.id, slot_id=slot_id, now=NOW)
    ines_app = await applications.apply(db, person_id=ines.id, slot_id=slot_id, now=NOW)
    assert (lucas_app.waitlist_position, ines_app.waitlist_position) == (1, 2)

    await applications.cancel(db, person_id=camille.id, application_id=held.id, now=NOW)

    offered = await applications.get_application(db, lucas_app.id)
    assert (offered.status, offered.offer_expires_at) == (
        ApplicationStatus.WAITLISTED,
        NOW + timedelta(hours=12),
    )
    after = await applications.get_application(db, ines_app.id)
    assert (after.status, after.waitlist_position) == (ApplicationStatus.WAITLISTED, 2)
    assert after.offer_expires_at is None
    assert ("offer_made", lucas.id, None) in await outbox_kinds(db)


async def test_a_coordinator_decides_once_and_the_volunteer_is_told(db: Database) -> None:
    org = await commune(db)
    slot_id = await first_slot(db, await polling_station(db, org.id, now=NOW))
    coordinator = await volunteer(db, 99, "Mme Martin")
    await organisations.join(db, coordinator.id, org.invite_code)
    camille = await volunteer(db, 1)
    application = await applications.apply(db, person_id=camille.id, slot_id=slot_id, now=NOW)

    first = await applications.decide(
        db, application_id=application.id, actor_id=coordinator.id, approve=True
    )
    second = await applications.decide(
        db, application_id=application.id, actor_id=coordinator.id, approve=False, reason="other"
    )

    assert first.changed and first.application.status == ApplicationStatus.APPROVED
    assert not second.changed and second.application.status == ApplicationStatus.APPROVED
    assert second.application.decided_by_name == "Mme Martin"
    kinds = await outbox_kinds(db)
    assert kinds.count(("application_decided", camille.id, None)) == 1


async def test_only_members_of_the_organisation_may_decide(db: Database) -> None:
    org = await commune(db)
    slot_id = await first_slot(db, await polling_station(db, org.id, now=NOW))
    camille, stranger = await volunteer(db, 1), await volunteer(db, 2, "Intrus")
    application = await applications.apply(db, person_id=camille.id, slot_id=slot_id, now=NOW)

    with pytest.raises(NotAllowed):
        await applications.decide(
            db, application_id=application.id, actor_id=stranger.id, approve=True
        )
