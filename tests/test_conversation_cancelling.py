"""A person's own missions and cancelling one, whatever the channel: the list is theirs,
soonest first; a number picks in the list they last saw; someone else's application, or one
already let go, is refused before the person is asked to confirm; a cancelled place goes to
the next on the waiting list."""

from __future__ import annotations

from datetime import timedelta

import pytest

from bot.conversation import cancelling
from bot.conversation.cancelling import NoSuchNumber, Picked
from bot.domain import ApplicationStatus
from bot.services import applications, missions, offers
from bot.services.errors import Conflict, NotFound
from storage.database import Database
from tests.conftest import NOW
from tests.factories import ELECTION_MORNING, commune, first_slot, polling_station, volunteer


async def test_the_list_is_the_persons_own_soonest_first_and_a_number_picks_in_it(
    db: Database,
) -> None:
    mairie = await commune(db)
    later = await first_slot(
        db,
        await polling_station(
            db,
            mairie.id,
            now=NOW,
            title="Dépouillement",
            starts_at=ELECTION_MORNING + timedelta(days=1),
        ),
    )
    sooner = await first_slot(
        db,
        await polling_station(db, mairie.id, now=NOW, title="Accueil"),
    )
    camille = await volunteer(db, 1, "Camille")
    lucas = await volunteer(db, 2, "Lucas")
    second = await applications.apply(db, person_id=camille.id, slot_id=later, now=NOW)
    first = await applications.apply(db, person_id=camille.id, slot_id=sooner, now=NOW)
    await applications.apply(db, person_id=lucas.id, slot_id=later, now=NOW)

    mine = await cancelling.mine(db, camille.id, NOW)
    assert [view.mission_title for view in mine] == ["Accueil", "Dépouillement"]

    async def pick(number: int) -> Picked | NoSuchNumber:
        return await cancelling.pick(db, person_id=camille.id, number=number, shown=(), now=NOW)

    listed = (first.id, second.id)
    assert await pick(2) == Picked(second.id, listed)
    assert await pick(3) == NoSuchNumber(listed)


async def test_a_number_keeps_the_meaning_of_the_list_shown_even_after_a_cancellation(
    db: Database,
) -> None:
    mairie = await commune(db)
    slots = [
        await first_slot(
            db,
            await polling_station(
                db, mairie.id, now=NOW, title=title, starts_at=ELECTION_MORNING + timedelta(days=k)
            ),
        )
        for k, title in enumerate(("Accueil", "Dépouillement"))
    ]
    camille = await volunteer(db, 1, "Camille")
    shown = [
        (await applications.apply(db, person_id=camille.id, slot_id=s, now=NOW)).id for s in slots
    ]
    await cancelling.cancel(
        db, person_id=camille.id, application_id=shown[0], now=NOW, inbound=None
    )

    async def pick(number: int, shown: list[int]) -> Picked | NoSuchNumber:
        return await cancelling.pick(db, person_id=camille.id, number=number, shown=shown, now=NOW)

    # 2 in the list the person saw is still the second mission; in the list as it shows
    # now there is no 2, and 1 is the second mission.
    assert await pick(2, shown) == Picked(shown[1], tuple(shown))
    assert await pick(2, []) == NoSuchNumber((shown[1],))
    assert await pick(1, []) == Picked(shown[1], (shown[1],))
    later = await cancelling.still_listed(db, person_id=camille.id, listed=shown, now=NOW)
    assert [view.id for view in later] == [shown[1]]


async def test_someone_elses_application_or_one_let_go_is_refused_before_asking(
    db: Database,
) -> None:
    mairie = await commune(db)
    slot = await first_slot(db, await polling_station(db, mairie.id, now=NOW))
    camille = await volunteer(db, 1, "Camille")
    lucas = await volunteer(db, 2, "Lucas")
    mine = await applications.apply(db, person_id=camille.id, slot_id=slot, now=NOW)

    asked = await cancelling.ask_cancel(db, person_id=camille.id, application_id=mine.id, now=NOW)
    assert asked.application.id == mine.id

    with pytest.raises(NotFound) as not_theirs:
        await cancelling.ask_cancel(db, person_id=lucas.id, application_id=mine.id, now=NOW)
    assert not_theirs.value.code == "application_not_found"

    after = mine.ends_at + timedelta(minutes=1)
    with pytest.raises(Conflict) as over:
        await cancelling.ask_cancel(db, person_id=camille.id, application_id=mine.id, now=after)
    assert over.value.code == "slot_over"

    await cancelling.cancel(db, person_id=camille.id, application_id=mine.id, now=NOW, inbound=None)
    with pytest.raises(Conflict) as gone:
        await cancelling.ask_cancel(db, person_id=camille.id, application_id=mine.id, now=NOW)
    assert gone.value.code == "not_active"


async def test_a_cancelled_place_is_offered_to_the_next_on_the_waiting_list(
    db: Database,
) -> None:
    mairie = await commune(db)
    slot = await first_slot(db, await polling_station(db, mairie.id, now=NOW, capacity=1))
    camille = await volunteer(db, 1, "Camille")
    lucas = await volunteer(db, 2, "Lucas")
    held = await applications.apply(db, person_id=camille.id, slot_id=slot, now=NOW)
    waiting = await applications.apply(db, person_id=lucas.id, slot_id=slot, now=NOW)
    assert waiting.status == ApplicationStatus.WAITLISTED

    view = await cancelling.cancel(
        db, person_id=camille.id, application_id=held.id, now=NOW, inbound=None
    )

    assert view.status == ApplicationStatus.CANCELLED
    assert await cancelling.mine(db, camille.id, NOW) == []
    offered = await offers.open_offer(db, lucas.id, NOW)
    assert offered is not None and offered.id == waiting.id
    assert (await missions.mission_of_slot(db, slot)).slots[0].free == 0  # kept for Lucas
