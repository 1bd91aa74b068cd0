"""Templates in /newmission: the buttons offering them at the start of the wizard, and the
Save as template button offered once a mission is created."""

from __future__ import annotations

from telegram import Update

from bot.buttons import Button
from bot.i18n import Translator
from bot.services import templates
from bot.services.errors import ServiceError
from bot.services.templates import Template
from handlers.telegram.common import RenfortContext, answer_query, esc, refusal_text, reply

PICK_TEMPLATE = "nm_template"
FROM_SCRATCH = "nm_scratch"
SAVE_TEMPLATE = "nm_save_template"


def template_buttons(t: Translator, offered: list[Template]) -> list[list[Button]]:
    """Two templates a row, then From scratch."""
    buttons = [
        Button(template.localised(t).title, PICK_TEMPLATE, {"template_id": template.id})
        for template in offered
    ]
    rows = [buttons[i : i + 2] for i in range(0, len(buttons), 2)]
    return [*rows, [Button("✏️ " + t._("From scratch"), FROM_SCRATCH)]]


def save_offer(t: Translator, mission_id: int, organisation: str) -> tuple[str, list[list[Button]]]:
    """The follow-up message under a created mission."""
    text = t._(
        "Posting missions like this one often? Save it as a template of {organisation}:"
        " next time, /newmission offers it.",
        organisation=esc(organisation),
    )
    return text, [[Button("💾 " + t._("Save as template"), SAVE_TEMPLATE, {"mission": mission_id})]]


async def save_template(update: Update, context: RenfortContext) -> None:
    """The Save as template button: the mission becomes one of its organisation's templates."""
    t = context.turn.t
    payload = context.turn.payload
    mission_id = int(payload.data.get("mission", 0)) if payload else 0
    await answer_query(update)
    try:
        saved = await templates.save_from_mission(
            context.renfort.db,
            mission_id=mission_id,
            actor_id=context.turn.me.id,
            inbound=context.turn.inbound,
        )
    except ServiceError as error:
        await reply(update, context, refusal_text(t, error))
        return
    text = t._(
        "💾 Saved as a template: <b>{title}</b>. /newmission offers it from now on.",
        title=esc(saved.title),
    )
    await reply(update, context, text, edit=True)


ACTIONS = {SAVE_TEMPLATE: save_template}
