"""The volunteer answers a place offered from the waiting list: Accept or Decline, from the
offer itself or from /mymissions. A tap after the deadline, or a second tap, gets a polite
word on what became of the place."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from telegram import Update

from bot.conversation.answers import OfferQuestion
from bot.domain import HOLDING
from bot.i18n import Translator
from bot.services.applications import ApplicationView
from bot.services.offers import OfferAnswer, OfferOutcome
from handlers.telegram.common import (
    RenfortContext,
    answer_query,
    answer_tapped,
    esc,
    payload_int,
    reply,
)
from handlers.telegram.render.offers import deadline_text


def offer_status(t: Translator, view: ApplicationView) -> str:
    """The line /mymissions shows under an open offer."""
    assert view.offer_expires_at is not None
    until = deadline_text(t, view.offer_expires_at, ZoneInfo(view.timezone))
    return t._(
        "🎉 A place is offered to you until {deadline}: accept or decline below.",
        deadline=esc(until),
    )


def answer_text(t: Translator, answer: OfferAnswer) -> str:
    """What the tap did, in the person's words."""
    view = answer.application
    title = esc(view.mission_title)
    if answer.outcome == OfferOutcome.ACCEPTED:
        span = esc(t.slot_span(view.starts_at, view.ends_at, ZoneInfo(view.timezone)))
        return t._(
            "🎉 The place is yours: <b>{title}</b> ({when}). Your application has gone to"
            " {organisation}; I will tell you their answer here.",
            title=title,
            when=span,
            organisation=esc(view.organisation_name),
        )
    if answer.outcome == OfferOutcome.DECLINED:
        return t._(
            "All right: the place for <b>{title}</b> goes to the next person on the waiting"
            " list. Thank you for telling us.",
            title=title,
        )
    if answer.outcome == OfferOutcome.EXPIRED:
        return t._(
            "Sorry, the time to answer is over: the place for <b>{title}</b> went to the next"
            " person on the waiting list. Other missions need you: /missions",
            title=title,
        )
    if view.status in HOLDING:
        return t._("You already took this place: see /mymissions.")
    return t._("This offer is no longer open. See /mymissions.")


async def accept(update: Update, context: RenfortContext) -> None:
    """Accept tapped: the place is theirs, pending the organisation's answer."""
    await _answer(update, context, take=True)


async def decline(update: Update, context: RenfortContext) -> None:
    """Decline tapped: the place goes to the next person on the waiting list."""
    await _answer(update, context, take=False)


async def _answer(update: Update, context: RenfortContext, *, take: bool) -> None:
    await answer_query(update)
    answer = await answer_tapped(context, OfferQuestion(payload_int(context, "app")), take)
    context.renfort.notify_outbox()
    await reply(update, context, answer_text(context.turn.t, answer), edit=True)
