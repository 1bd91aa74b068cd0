"""A bare YES or NO (OUI, NON, O, N...) answers whichever question is open for the person:
a place offered from the waiting list, "Still coming?" before a mission, or a crisis
callout; when several are open, the one that runs out first (a callout and "Still coming?"
run out when their slot starts). Stopped numbers never get here: for them YES/OUI is the
carrier's opt-in word, handled before anything else."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from bot.services import alert_offers, attendance, callouts, offers, territory_alerts
from bot.services.applications import ApplicationView
from bot.services.callout_views import CalloutFacts
from bot.services.offers import OfferOutcome
from handlers.sms import dates, replies
from handlers.sms.render import alerts as render_alerts
from handlers.sms.render import callouts as render_callouts
from handlers.sms.render.schedule import attendance_confirmed, attendance_released
from handlers.sms.turn import CALLOUT_CONDITION, IDLE, SmsTurn


async def answer_yes_no(turn: SmsTurn, yes: bool) -> bool:
    """Answer the open question; False when none is open (the word means something else)."""
    db, person_id, now = turn.renfort.db, turn.person.id, turn.now
    offer = await offers.open_offer(db, person_id, now)
    question = await attendance.open_attendance_question(db, person_id, now)
    callout = await callouts.open_callout_question(db, person_id, now)
    alert_offer = await alert_offers.open_offer(db, person_id, now)
    alert = await territory_alerts.open_alert_question(db, person_id, now)
    open_ones: list[tuple[datetime, int, ApplicationView | CalloutFacts | int]] = []
    if offer is not None:
        open_ones.append((_deadline(offer), 0, offer))
    if question is not None:
        open_ones.append((question.starts_at, 1, question))
    if callout is not None:
        open_ones.append((callout.starts_at, 2, callout))
    if alert_offer is not None:
        open_ones.append((alert_offer[1], 3, alert_offer[0]))
    if alert is not None:  # no deadline: answered after anything that runs out
        open_ones.append((datetime.max.replace(tzinfo=now.tzinfo), 4, alert))
    if not open_ones:
        return False
    _, kind, soonest = min(open_ones, key=lambda item: item[:2])
    if isinstance(soonest, int):
        await (_answer_alert_offer if kind == 3 else _answer_alert)(turn, soonest, yes)
    elif isinstance(soonest, CalloutFacts):
        await _answer_callout(turn, soonest, yes)
    elif kind == 1:
        await _answer_attendance(turn, soonest, yes)
    else:
        await _answer_offer(turn, soonest, yes)
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


async def _answer_callout(
    turn: SmsTurn, callout: CalloutFacts, yes: bool, confirmed: tuple[str, ...] = ()
) -> None:
    answer = await callouts.answer(
        turn.renfort.db,
        person_id=turn.person.id,
        callout_id=callout.id,
        available=yes,
        now=turn.now,
        inbound=turn.goto(IDLE),
        confirmed=confirmed,
    )
    view, t, today = answer.view, turn.t, turn.today
    if answer.outcome == "conditions":
        todo = [*confirmed, *answer.conditions]
        _ask_callout_condition(turn, view.id, todo, list(confirmed))
    elif answer.outcome == "taken":
        turn.say(render_callouts.callout_taken(t, view, today))
    elif answer.outcome == "waitlisted":
        turn.say(render_callouts.callout_waitlisted(t, view, today))
    elif answer.outcome == "declined":
        turn.say(render_callouts.callout_declined(t, view, today))
    elif answer.outcome == "already":
        turn.say(render_callouts.callout_already(t))
    else:
        turn.say(render_callouts.callout_closed(t))


def _ask_callout_condition(
    turn: SmsTurn, callout_id: int, todo: list[str], confirmed: list[str]
) -> None:
    turn.goto(CALLOUT_CONDITION, callout=callout_id, todo=todo, ok=confirmed)
    number = len(confirmed) + 1
    turn.say(replies.ask_condition(turn.t, todo[len(confirmed)], number, len(todo)))


async def callout_condition_answer(turn: SmsTurn, yes: bool) -> None:
    """YES or NO to a callout's condition: the next one, then the yes once all are confirmed;
    a NO answers the callout "not this time", so someone else is asked sooner."""
    data = turn.data
    todo = [str(c) for c in data.get("todo", [])]
    confirmed = [str(c) for c in data.get("ok", [])]
    callout = await callouts.get_callout(turn.renfort.db, int(data.get("callout") or 0))
    if yes and len(confirmed) < len(todo):
        confirmed.append(todo[len(confirmed)])
        if len(confirmed) < len(todo):
            _ask_callout_condition(turn, callout.id, todo, confirmed)
            return
    await _answer_callout(turn, callout, yes, tuple(confirmed))
    turn.renfort.notify_outbox()


async def _answer_alert(turn: SmsTurn, alert_id: int, yes: bool) -> None:
    answer = await territory_alerts.answer(
        turn.renfort.db,
        person_id=turn.person.id,
        alert_id=alert_id,
        available=yes,
        now=turn.now,
        inbound=turn.goto(IDLE),
    )
    turn.say(render_alerts.alert_answered(turn.t, answer.outcome))


async def _answer_alert_offer(turn: SmsTurn, offer_id: int, yes: bool) -> None:
    answer = await alert_offers.answer_offer(
        turn.renfort.db,
        person_id=turn.person.id,
        offer_id=offer_id,
        accept=yes,
        now=turn.now,
        inbound=turn.goto(IDLE),
    )
    when = dates.span(
        turn.t.locale, answer.starts_at, answer.ends_at, ZoneInfo(answer.timezone), turn.today
    )
    turn.say(render_alerts.offer_answered(turn.t, answer.outcome, answer.mission_title, when))
