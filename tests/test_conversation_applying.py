"""Applying for a slot, whatever the channel: a mission's conditions are asked one at a
time, in the order the mission lists them, before the person may apply; a slot picked again
is refused, and so is a slot of a cancelled mission."""

from __future__ import annotations

import pytest

from bot.conversation import applying
from bot.conversation.applying import AskCondition, Ready, Register, Screen
from bot.services import mission_changes, organisations
from bot.services.errors import Conflict
from storage.database import Database
from tests.conftest import NOW
from tests.factories import commune, first_slot, polling_station, volunteer

ROLL = "Être inscrit sur les listes électorales de la commune."
ADULT = "Avoir 18 ans ou plus."


async def test_conditions_are_asked_one_at_a_time_then_the_person_applies(db: Database) -> None:
    mairie = await commune(db)
    station = await first_slot(
        db, await polling_station(db, mairie.id, now=NOW, conditions=(ROLL, ADULT))
    )
    camille = await volunteer(db, 1, "Camille")

    async def step(*confirmed: str) -> AskCondition | Ready:
        found = await applying.next_step(
            db,
            person_id=camille.id,
            registered=True,
            slot_id=station,
            confirmed=confirmed,
            now=NOW,
        )
        assert isinstance(found, Screen)
        assert found.slot.id == station
        return found.step

    assert await step() == AskCondition(ROLL, 1, 2, ())
    assert await step(ROLL) == AskCondition(ADULT, 2, 2, (ROLL,))
    assert await step(ROLL, ADULT) == Ready((ROLL, ADULT))

    view = await applying.apply(
        db, person_id=camille.id, slot_id=station, confirmed=(ROLL, ADULT), now=NOW, inbound=None
    )
    assert view.slot_id == station
    with pytest.raises(Conflict) as refused:
        await step(ROLL, ADULT)
    assert refused.value.code == "already_applied"


async def test_someone_not_registered_registers_first_and_a_cancelled_mission_is_refused(
    db: Database,
) -> None:
    mairie = await commune(db)
    nadia = await volunteer(db, 99, "Nadia")
    await organisations.join(db, nadia.id, mairie.invite_code)
    mission_id = await polling_station(db, mairie.id, now=NOW, conditions=(ROLL,))
    station = await first_slot(db, mission_id)
    lucas = await volunteer(db, 2, "Lucas")

    found = await applying.next_step(
        db, person_id=lucas.id, registered=False, slot_id=station, confirmed=(), now=NOW
    )
    assert isinstance(found, Register)
    assert found.slot.id == station

    await mission_changes.cancel_mission(
        db, actor_id=nadia.id, mission_id=mission_id, reason="Bureau fermé", now=NOW
    )
    with pytest.raises(Conflict) as refused:
        await applying.next_step(
            db, person_id=lucas.id, registered=True, slot_id=station, confirmed=(), now=NOW
        )
    assert refused.value.code == "mission_closed"
