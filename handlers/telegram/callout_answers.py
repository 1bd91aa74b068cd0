"""A volunteer's answer to a callout: "I'm available" or "Not this time" under the alert.
The alert then says what became of the answer, so the chat shows where they stand."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from telegram import Update

from bot.actions import CALLOUT_NO, CALLOUT_YES
from bot.buttons import Button
from bot.conversation.answers import CalloutQuestion
from bot.i18n import Translator
from bot.services.callouts import CalloutFacts
from bot.services.errors import NotFound
from handlers.telegram.common import (
    RenfortContext,
    answer_query,
    answer_tapped,
    confirmed_conditions,
    esc,
    reply,
)


def _span(t: Translator, view: CalloutFacts) -> str:
    return esc(t.slot_span(view.starts_at, view.ends_at, ZoneInfo(view.timezone)))


def _about(t: Translator, view: CalloutFacts, span: str | None = None) -> str:
    # The slot's dates are the dearest words of a reply: given when the caller has them.
    span = span or _span(t, view)
    where = t._("Remote") if view.remote else esc(view.address)
    return f"🚨 <b>{esc(view.mission_title)}</b> · {esc(view.organisation_name)}\n{span}\n{where}"


def outcome_text(t: Translator, outcome: str, view: CalloutFacts) -> str:
    """What became of the answer, in a sentence the volunteer can act on."""
    span = _span(t, view)
    mission = "<b>" + esc(view.mission_title) + "</b>"
    texts = {
        "taken": "✅ "
        + t._(
            "You're on the team for {mission}, {slot}. Thank you! It is in /mymissions, and"
            " you will get a reminder before it starts.",
            mission=mission,
            slot=span,
        ),
        "waitlisted": "🙏 "
        + t._(
            "Thank you! The need was just filled, so you are on the waiting list: you will"
            " hear from us if a place frees up."
        ),
        "declined": t._("Thanks for answering. Maybe next time!"),
        "closed": t._(
            "This callout is over: enough people came forward, or it was stopped. Thank you"
            " for being there!"
        ),
    }
    return _about(t, view, span) + "\n\n" + texts.get(outcome, texts["closed"])


def already_text(t: Translator, recorded: str | None, view: CalloutFacts) -> str:
    """A second tap: what was recorded the first time."""
    if recorded is not None:
        note = t._("You already answered this callout.")
        return outcome_text(t, recorded, view) + "\n\n" + note
    return _about(t, view) + "\n\n" + t._("You already answered this callout. Thank you!")


def condition_question(
    t: Translator, view: CalloutFacts, left: tuple[str, ...], confirmed: list[str]
) -> tuple[str, list[list[Button]]]:
    """The next condition to confirm before the yes counts, and its buttons."""
    text = "\n".join(
        [
            _about(t, view),
            "",
            t._("Before you take a place, this mission asks you to confirm:"),
            "",
            "☑️ <b>" + esc(left[0]) + "</b>",
            "",
            t._(
                "Is this true for you? {organisation} will see your answer; you are asked once."
                " The place goes to the first people who confirm.",
                organisation=esc(view.organisation_name),
            ),
        ]
    )
    buttons = [
        [
            Button(
                "✅ " + t._("Yes, this is true"),
                CALLOUT_YES,
                {"callout_id": view.id, "ok": [*confirmed, left[0]]},
            )
        ],
        [Button("❌ " + t._("No, not this time"), CALLOUT_NO, {"callout_id": view.id})],
    ]
    return text, buttons


async def _answer(update: Update, context: RenfortContext, available: bool) -> None:
    turn = context.turn
    t = turn.t
    payload = turn.payload
    callout_id = payload.data.get("callout_id") if payload else None
    if not isinstance(callout_id, int):
        await answer_query(update, t._("This button has expired. Send /help to start again."))
        return
    try:
        result = await answer_tapped(
            context, CalloutQuestion(callout_id), available, confirmed_conditions(context)
        )
    except NotFound:
        await answer_query(update)
        await reply(update, context, t._("This callout no longer exists. Thank you!"), edit=True)
        return
    if result.outcome == "conditions":
        await answer_query(update)
        text, buttons = condition_question(
            t, result.callout, result.conditions, confirmed_conditions(context)
        )
        await reply(update, context, text, buttons, edit=True)
        return
    if result.queued:
        context.renfort.notify_outbox()
    if result.outcome == "already":
        text = already_text(t, result.recorded, result.callout)
    else:
        text = outcome_text(t, result.outcome, result.callout)
    await answer_query(update, t._("Thank you!") if result.outcome != "already" else None)
    await reply(update, context, text, edit=True)


async def available(update: Update, context: RenfortContext) -> None:
    """I'm available: a place if one is left, else the waiting list."""
    await _answer(update, context, True)


async def not_available(update: Update, context: RenfortContext) -> None:
    """Not this time: thanked, and the callout asks someone else sooner."""
    await _answer(update, context, False)
