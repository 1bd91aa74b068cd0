"""A refusal in the coordinator's own words: under the reasons, "Write the reason" asks for
a reply to the bot (in a group, bots in privacy mode see nothing else), which the volunteer
then reads as the reason."""

from __future__ import annotations

from datetime import timedelta

from telegram import ForceReply, Update
from telegram.constants import ParseMode

from bot.i18n import Translator
from bot.services import applications
from bot.services.errors import ServiceError
from handlers.telegram import admin_group
from handlers.telegram.common import (
    RenfortContext,
    answer_query,
    esc,
    refusal_text,
    reply,
    typed_text,
)
from handlers.telegram.wizard import advance, expiring

REFUSE_WRITE = admin_group.REFUSE_WRITE
REFUSE_NOTE = "refuse_note"
NOTE_TTL = timedelta(hours=2)


async def ask_note(update: Update, context: RenfortContext) -> None:
    """ "Write the reason" tapped: the next reply of this coordinator is the reason."""
    view = await admin_group.tapped_application(update, context)
    chat = update.effective_chat
    if view is None or chat is None:
        return
    t = context.turn.t
    await answer_query(update)
    volunteer = await admin_group.summary(context, t, view)
    text = (
        volunteer
        + "\n\n"
        + t._(
            "✍️ Why do you refuse? Reply to this message with a few words; the volunteer will"
            " read them as the reason."
        )
    )
    prompt = await context.bot.send_message(
        chat.id, text, parse_mode=ParseMode.HTML, reply_markup=ForceReply(selective=True)
    )
    advance(context, REFUSE_NOTE, fresh=True, application=view.id, prompt=prompt.message_id)


def _dropped(t: Translator) -> str:
    return t._("That refusal waited too long; tap ❌ Refuse again if you still want to.")


@expiring(NOTE_TTL, _dropped)
async def on_note(update: Update, context: RenfortContext) -> None:
    """The coordinator's words: refuse with them, show the outcome on every copy."""
    t = context.turn.t
    message = update.effective_message
    replied = message.reply_to_message if message else None
    if not context.turn.private and (
        replied is None or replied.message_id != context.turn.data.get("prompt")
    ):
        return  # talk in the group that is not the answer (a bot admin of it sees it all)
    note = " ".join(typed_text(update).split())
    if not note:
        await reply(update, context, t._("Please type a few words for the volunteer."))
        return
    application_id = int(context.turn.data.get("application", 0))
    advance(context, None)
    try:
        decision = await applications.decide(
            context.renfort.db,
            application_id=application_id,
            actor_id=context.turn.me.id,
            approve=False,
            reason="other",
            note=note,
            inbound=context.turn.inbound,
            now=context.turn.now,
        )
    except ServiceError as error:
        await reply(update, context, refusal_text(t, error))
        return
    view = decision.application
    if not decision.changed:
        await reply(update, context, admin_group.no_longer_pending(t, view))
        return
    context.renfort.notify_outbox()
    text = await admin_group.outcome_text(context, t, view)
    await reply(update, context, text + "\n" + t._("Reason sent: {note}", note=esc(note)))
    await admin_group.update_copies(update, context, view)
