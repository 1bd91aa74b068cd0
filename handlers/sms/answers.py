"""A bare YES or NO (OUI, NON, O, N...) answers the person's most urgent open question (the
conversation engine's `open_questions` decides which), and the outcome is said in one SMS.
Stopped numbers never get here: for them YES/OUI is the carrier's opt-in word, handled
before anything else."""

from __future__ import annotations

from collections.abc import Sequence
from zoneinfo import ZoneInfo

from bot.conversation import answers
from bot.conversation.answers import (
    AlertAnswer,
    AlertOfferAnswer,
    AnyAnswer,
    AnyQuestion,
    AttendanceAnswer,
    CalloutAnswered,
    CalloutQuestion,
)
from bot.services import callouts
from bot.services.offers import OfferOutcome
from handlers.sms import dates, replies
from handlers.sms.render import alerts as render_alerts
from handlers.sms.render import callouts as render_callouts
from handlers.sms.render.schedule import attendance_confirmed, attendance_released
from handlers.sms.turn import CALLOUT_CONDITION, IDLE, SmsTurn


async def answer_yes_no(turn: SmsTurn, yes: bool) -> bool:
    """Answer the open question; False when none is open (the word means something else)."""
    questions = await answers.open_questions(turn.renfort.db, turn.person.id, turn.now)
    if not questions:
        return False
    await _answer(turn, questions[0], yes)
    turn.renfort.notify_outbox()
    return True


async def _answer(
    turn: SmsTurn, question: AnyQuestion, yes: bool, confirmed: Sequence[str] = ()
) -> None:
    answered: AnyAnswer = await answers.answer(
        turn.renfort.db,
        person_id=turn.person.id,
        question=question,
        yes=yes,
        now=turn.now,
        inbound=turn.goto(IDLE),
        confirmed=confirmed,
    )
    t, today = turn.t, turn.today
    if isinstance(answered, CalloutAnswered):
        _say_callout(turn, answered, list(confirmed))
    elif isinstance(answered, AttendanceAnswer):
        said = attendance_confirmed if answered.coming else attendance_released
        turn.say(said(t, answered.application, today))
    elif isinstance(answered, AlertAnswer):
        turn.say(render_alerts.alert_answered(t, answered.outcome))
    elif isinstance(answered, AlertOfferAnswer):
        zone = ZoneInfo(answered.timezone)
        when = dates.span(t.locale, answered.starts_at, answered.ends_at, zone, today)
        turn.say(render_alerts.offer_answered(t, answered.outcome, answered.mission_title, when))
    elif answered.outcome == OfferOutcome.ACCEPTED:
        turn.say(replies.offer_accepted(t, answered.application, today))
    elif answered.outcome == OfferOutcome.DECLINED:
        turn.say(replies.offer_declined(t, answered.application, today))
    elif answered.outcome == OfferOutcome.EXPIRED:
        turn.say(replies.offer_too_late(t, answered.application, today))
    else:
        turn.say(replies.offer_closed(t))


def _say_callout(turn: SmsTurn, answered: CalloutAnswered, confirmed: list[str]) -> None:
    view, t, today = answered.callout, turn.t, turn.today
    if answered.outcome == "conditions":
        _ask_callout_condition(turn, view.id, [*confirmed, *answered.conditions], confirmed)
    elif answered.outcome == "taken":
        turn.say(render_callouts.callout_taken(t, view, today))
    elif answered.outcome == "waitlisted":
        turn.say(render_callouts.callout_waitlisted(t, view, today))
    elif answered.outcome == "declined":
        turn.say(render_callouts.callout_declined(t, view, today))
    elif answered.outcome == "already":
        turn.say(render_callouts.callout_already(t))
    else:
        turn.say(render_callouts.callout_closed(t))


def _ask_callout_condition(
    turn: SmsTurn, callout_id: int, todo: list[str], confirmed: list[str]
) -> None:
    turn.goto(CALLOUT_CONDITION, callout=callout_id, todo=todo, ok=confirmed)
    number = len(confirmed) + 1
    turn.say(replies.ask_condition(turn.t, todo[len(confirmed)], number, len(todo)))


def callout_condition_again(turn: SmsTurn) -> None:
    """Words that are neither YES nor NO to a callout's condition: the same question again."""
    data = turn.data
    todo = [str(c) for c in data.get("todo", [])]
    confirmed = [str(c) for c in data.get("ok", [])][: max(len(todo) - 1, 0)]
    _ask_callout_condition(turn, int(data.get("callout") or 0), todo, confirmed)


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
    await _answer(turn, CalloutQuestion(callout.id), yes, tuple(confirmed))
    turn.renfort.notify_outbox()
