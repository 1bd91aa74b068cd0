"""A bare YES or NO answers the question that runs out first, whatever the channel: a
callout for a slot starting in six hours before a place offered until tonight; once that is
answered, the offer is next."""

from __future__ import annotations

from datetime import timedelta

from bot.conversation import answers
from bot.conversation.answers import CalloutQuestion, OfferQuestion
from bot.services import applications, callouts, organisations
from bot.services.callouts import Targeting
from bot.services.offers import OfferOutcome
from storage.database import Database
from tests.conftest import NOW
from tests.factories import commune, first_slot, polling_station, volunteer


async def test_the_question_that_runs_out_first_is_answered_first(db: Database) -> None:
    mairie = await commune(db)
    nadia = await volunteer(db, 99, "Nadia")
    await organisations.join(db, nadia.id, mairie.invite_code)
    station = await first_slot(db, await polling_station(db, mairie.id, now=NOW, capacity=1))
    lucas, camille = await volunteer(db, 1, "Lucas"), await volunteer(db, 2, "Camille")
    held = await applications.apply(db, person_id=lucas.id, slot_id=station, now=NOW)
    waiting = await applications.apply(db, person_id=camille.id, slot_id=station, now=NOW)
    await applications.cancel(db, person_id=lucas.id, application_id=held.id, now=NOW)
    sandbags = await first_slot(
        db,
        await polling_station(
            db, mairie.id, now=NOW, title="Sacs de sable", starts_at=NOW + timedelta(hours=6)
        ),
    )
    callout = await callouts.launch(
        db,
        actor_id=nadia.id,
        slot_id=sandbags,
        needed=1,
        targeting=Targeting(radius_km=10, domains=("citizenship",)),
        now=NOW,
    )

    assert await answers.open_questions(db, camille.id, NOW) == [
        CalloutQuestion(callout.id),  # its slot starts in 6 hours
        OfferQuestion(waiting.id),  # offered for 12 hours
    ]

    declined = await answers.answer(
        db, person_id=camille.id, question=CalloutQuestion(callout.id), yes=False, now=NOW
    )
    assert declined.outcome == "declined"
    assert await answers.open_questions(db, camille.id, NOW) == [OfferQuestion(waiting.id)]
    taken = await answers.answer(
        db, person_id=camille.id, question=OfferQuestion(waiting.id), yes=True, now=NOW
    )
    assert taken.outcome == OfferOutcome.ACCEPTED
    assert await answers.open_questions(db, camille.id, NOW) == []
