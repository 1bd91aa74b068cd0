"""The volunteer's answer to "Still coming?": the buttons under the question."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from telegram import Update

from bot.actions import ATTENDANCE_NO, ATTENDANCE_YES
from bot.conversation.answers import AttendanceQuestion
from handlers.telegram.common import (
    RenfortContext,
    answer_query,
    answer_tapped,
    esc,
    payload_int,
    reply,
)

__all__ = ["ATTENDANCE_NO", "ATTENDANCE_YES", "coming", "not_coming"]


async def _answer(update: Update, context: RenfortContext, *, coming: bool) -> None:
    await answer_query(update)
    turn = context.turn
    answered = await answer_tapped(context, AttendanceQuestion(payload_int(context, "app")), coming)
    view = answered.application
    t = turn.t
    span = esc(t.slot_span(view.starts_at, view.ends_at, ZoneInfo(view.timezone)))
    title = esc(view.mission_title)
    if answered.coming:
        text = t._(
            "✅ Thank you! {organisation} counts on you for <b>{title}</b> ({when}).",
            organisation=esc(view.organisation_name),
            title=title,
            when=span,
        )
    else:
        text = t._(
            "Thank you for telling us. Your place for <b>{title}</b> ({when}) goes to someone"
            " else; {organisation} has been told.",
            title=title,
            when=span,
            organisation=esc(view.organisation_name),
        )
    renfort = context.renfort
    renfort.notify_outbox()
    await reply(update, context, text + "\n\n" + t._("See /mymissions."), edit=True)


async def coming(update: Update, context: RenfortContext) -> None:
    """Yes, I'm coming: the place is confirmed."""
    await _answer(update, context, coming=True)


async def not_coming(update: Update, context: RenfortContext) -> None:
    """I can't come: the place is let go, as a cancellation does."""
    await _answer(update, context, coming=False)
