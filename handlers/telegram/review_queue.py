"""/review: a referent's missions waiting for their decision, oldest first, each with the
same Publish / Ask for changes / Refuse buttons as when it arrived."""

from __future__ import annotations

from telegram import Update

from bot.services import review_queue
from bot.services.errors import ServiceError
from handlers.telegram.common import RenfortContext, reply
from handlers.telegram.moderation import refusal
from handlers.telegram.render.moderation import mission_review


async def review_command(update: Update, context: RenfortContext) -> None:
    """/review: one message per mission waiting, with its decision buttons."""
    t, turn = context.turn.t, context.turn
    try:
        queue = await review_queue.missions_to_review(context.renfort.db, referent_id=turn.me.id)
    except ServiceError as error:
        await reply(update, context, refusal(t, error))
        return
    if not queue.reviews:
        await reply(update, context, t._("✅ No mission is waiting for your review."))
        return
    heading = t.n_(
        "🔎 {n} mission waiting for your review, oldest first.",
        "🔎 {n} missions waiting for your review, oldest first.",
        queue.total,
    )
    await reply(update, context, heading)
    for waiting in queue.reviews:
        rendered = mission_review(waiting, t)
        await reply(update, context, rendered.text, rendered.rows)
    rest = queue.total - len(queue.reviews)
    if rest > 0:
        more = t.n_(
            "… and {n} more: decide on these, then send /review again.",
            "… and {n} more: decide on these, then send /review again.",
            rest,
        )
        await reply(update, context, more)
