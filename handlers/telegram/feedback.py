"""The volunteer's answer to "Did it go well?": one tap, kept, and thanks in place."""

from __future__ import annotations

from telegram import Update

from bot.services import feedback as feedback_service
from bot.services.errors import ServiceError
from handlers.telegram.admin_group import alert
from handlers.telegram.common import RenfortContext, answer_query, refusal_text, reply
from handlers.telegram.flow import tapped_choice


async def feedback(update: Update, context: RenfortContext) -> None:
    """👍 or 👎 under the question: record it and say thank you on the same message."""
    t = context.turn.t
    tapped = tapped_choice(context.turn, "application_id", "good")
    if tapped is None:
        await alert(update, t._("This button has expired. Send /help to start again."))
        return
    application_id, good = tapped
    try:
        await feedback_service.record_feedback(
            context.renfort.db,
            person_id=context.turn.me.id,
            application_id=application_id,
            good=good,
            now=context.turn.now,
            inbound=context.turn.inbound,
        )
    except ServiceError as error:
        await alert(update, refusal_text(t, error))
        return
    await answer_query(update)
    if good:
        text = "🙏 " + t._("Thank you! Glad it went well. See you soon: /missions")
    else:
        text = "🙏 " + t._(
            "Thank you for telling us. We pass it on to the organisation so that it goes"
            " better next time."
        )
    await reply(update, context, text, edit=True)
