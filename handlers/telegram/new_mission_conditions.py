"""/newmission's conditions: before publishing, the coordinator may add what volunteers
must confirm before applying ("Be 18 or older"), one typed line each."""

from __future__ import annotations

from telegram import Update

from handlers.telegram import new_mission_slots as slots
from handlers.telegram.common import RenfortContext, answer_query, reply

NM_CONDITION = "nm_condition"
CONDITION_LENGTH = (3, 150)


async def add_condition(update: Update, context: RenfortContext) -> None:
    """The Add a condition button: the next text typed is the condition."""
    if not await slots.still_at(update, context, slots.NM_MORE):
        return
    t = context.turn.t
    await answer_query(update)
    slots.goto(context, NM_CONDITION)
    prompt = t._(
        "Type one condition volunteers must confirm before applying, for example: Be on the"
        " electoral roll of the commune."
    )
    await reply(update, context, prompt, [slots.cancel_row(t)])


async def on_condition(update: Update, context: RenfortContext) -> None:
    """The condition typed: kept, then back to the summary and its buttons."""
    t = context.turn.t
    text = " ".join(slots.text_of(update).split())
    low, high = CONDITION_LENGTH
    if not low <= len(text) <= high:
        why = t._("Please type the condition in {low} to {high} characters.", low=low, high=high)
        await reply(update, context, why, [slots.cancel_row(t)])
        return
    kept = [str(c) for c in context.turn.data.get("conditions") or []][: slots.MAX_CONDITIONS - 1]
    data = slots.goto(
        context, slots.NM_MORE, conditions=[*kept, text] if text not in kept else kept
    )
    buttons = slots.more_buttons(t, data)
    await reply(update, context, slots.summary(context, data), buttons)
