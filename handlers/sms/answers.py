"""A bare YES or NO (OUI, NON, O, N...) answers whichever question is open for the person:
a place offered from the waiting list, or "Still coming?" before a mission; when both are
open, the one that runs out first. Stopped numbers never get here: for them YES/OUI is the
carrier's opt-in word, handled before anything else."""

from __future__ import annotations

from datetime import datetime

from bot.services import attendance, offers
from bot.services.applications import ApplicationView
from bot.services.offers import OfferOutcome
from bot.sms import replies
from bot.sms.render_schedule import attendance_confirmed, attendance_released
from handlers.sms.turn import IDLE, SmsTurn


async def answer_yes_no(turn: SmsTurn, yes: bool) -> bool:
    """Answer the open question; False when none is open (the word means something else)."""
    db, person_id, now = turn.renfort.db, turn.person.id, turn.now
    offer = await offers.open_offer(db, person_id, now)
    question = await attendance.open_attendance_question(db, person_id, now)
    if question is not None and (offer is None or question.starts_at < _deadline(offer)):
        await _answer_attendance(turn, question, yes)
    elif offer is not None:
        await _answer_offer(turn, offer, yes)
    else:
        return False
    turn.renfort.notify_outbox()
    return True


def _deadline(offer: ApplicationView) -> datetime:
    assert offer.offer_expires_at is not None
    return offer.offer_expires_at


async def _answer_offer(turn: SmsTurn, offer: ApplicationView, yes: bool) -> None:
    act = offers.accept_offer if yes else offers.decline_offer
    answer = await act(
        turn.renfort.db,
        person_id=turn.person.id,
        application_id=offer.id,
        now=turn.now,
        inbound=turn.goto(IDLE),
    )
    view, today = answer.application, turn.today
    if answer.outcome == OfferOutcome.ACCEPTED:
        turn.say(replies.offer_accepted(turn.t, view, today))
    elif answer.outcome == OfferOutcome.DECLINED:
        turn.say(replies.offer_declined(turn.t, view, today))
    elif answer.outcome == OfferOutcome.EXPIRED:
        turn.say(replies.offer_too_late(turn.t, view, today))
    else:
        turn.say(replies.offer_closed(turn.t))


async def _answer_attendance(turn: SmsTurn, question: ApplicationView, yes: bool) -> None:
    # "Still coming?" is asked only before the slot starts, so its deadline is the start.
    view = await attendance.answer_attendance(
        turn.renfort.db,
        person_id=turn.person.id,
        application_id=question.id,
        coming=yes,
        now=turn.now,
        inbound=turn.goto(IDLE),
    )
    if yes:
        turn.say(attendance_confirmed(turn.t, view, turn.today))
    else:
        turn.say(attendance_released(turn.t, view, turn.today))
