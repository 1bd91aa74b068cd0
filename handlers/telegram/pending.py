"""/pending: the organisation's applications still waiting for an answer, oldest first,
each with the same Approve and Refuse buttons as when it arrived."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from telegram import Update

from bot.i18n import Translator
from bot.services import pending
from bot.services.pending import PendingApplication
from handlers.telegram.common import RenfortContext, esc, reply
from handlers.telegram.exports import organisations_here
from handlers.telegram.render import confirmed_lines, decision_buttons


def card(t: Translator, item: PendingApplication) -> str:
    zone = ZoneInfo(item.timezone)
    name = esc(item.volunteer_name)
    if item.via_sms:
        name = t._("{name} (via SMS)", name=name)
    return "\n".join(
        [
            t._(
                "<b>{name}</b> applied for <b>{mission}</b>",
                name=name,
                mission=esc(item.mission_title),
            ),
            "🗓 " + esc(t.slot_span(item.starts_at, item.ends_at, zone)),
            "⏱ "
            + t._(
                "Applied on {day} at {time}",
                day=t.short_date(item.applied_at.astimezone(zone)),
                time=t.clock(item.applied_at.astimezone(zone)),
            ),
            *confirmed_lines(list(item.conditions), t),
        ]
    )


async def pending_command(update: Update, context: RenfortContext) -> None:
    """/pending: the queue of each organisation here, one message per application."""
    t, turn, db = context.turn.t, context.turn, context.renfort.db
    for organisation in await organisations_here(update, context):
        queue = await pending.pending_queue(
            db, actor_id=turn.me.id, organisation_id=organisation.id
        )
        if not queue.items:
            text = t._(
                "✅ No application is waiting for an answer at <b>{organisation}</b>.",
                organisation=esc(organisation.name),
            )
            await reply(update, context, text)
            continue
        heading = t.n_(
            "📝 <b>{organisation}</b>: {n} application waiting for an answer, oldest first.",
            "📝 <b>{organisation}</b>: {n} applications waiting for an answer, oldest first.",
            queue.total,
            organisation=esc(organisation.name),
        )
        await reply(update, context, heading)
        for item in queue.items:
            await reply(update, context, card(t, item), decision_buttons(t, item.application_id))
        rest = queue.total - len(queue.items)
        if rest > 0:
            more = t.n_(
                "… and {n} more: answer these, then send /pending again.",
                "… and {n} more: answer these, then send /pending again.",
                rest,
            )
            await reply(update, context, more)
