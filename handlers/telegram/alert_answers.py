"""Territory alerts seen by the volunteers and the organisations: a volunteer answers
Available / Not available; an organisation's coordinator taps Offer a slot under a volunteer
available and picks one of its upcoming slots with a free place; the volunteer accepts
(an approved application) or declines."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from telegram import Update

from bot.actions import (
    ALERT_NO,
    ALERT_OFFER_ACCEPT,
    ALERT_OFFER_DECLINE,
    ALERT_OFFER_SLOT,
    ALERT_YES,
)
from bot.buttons import Button
from bot.conversation.answers import AlertOfferQuestion, AlertQuestion
from bot.services import alert_offers
from handlers.telegram.common import (
    Callback,
    RenfortContext,
    answer_query,
    answer_tapped,
    esc,
    payload_int,
    reply,
)

OFFER_PICK = "ta.offer_pick"


async def _answer(update: Update, context: RenfortContext, available: bool) -> None:
    t = context.turn.t
    result = await answer_tapped(context, AlertQuestion(payload_int(context, "alert")), available)
    context.renfort.notify_outbox()
    await answer_query(update, t._("Thank you!"))
    texts = {
        "available": "✅ "
        + t._(
            "Thank you! The organisations nearby know you are available; if one offers you a"
            " mission, it comes here and you choose whether to accept."
        ),
        "unavailable": t._("Noted, thank you. Maybe next time!"),
        "already": t._("You already answered this alert. Thank you!"),
    }
    await reply(
        update, context, "📣 " + esc(result.text) + "\n\n" + texts[result.outcome], edit=True
    )


async def available(update: Update, context: RenfortContext) -> None:
    """Available: the organisations of the territory hear of it."""
    await _answer(update, context, True)


async def not_available(update: Update, context: RenfortContext) -> None:
    """Not available: thanked."""
    await _answer(update, context, False)


async def offer_slot(update: Update, context: RenfortContext) -> None:
    """Offer a slot: the organisation's upcoming slots with a free place, one button each."""
    await answer_query(update)
    turn, t = context.turn, context.turn.t
    recipient_id, organisation_id = payload_int(context, "r"), payload_int(context, "o")
    slots = await alert_offers.offerable_slots(
        context.renfort.db,
        actor_id=turn.me.id,
        recipient_id=recipient_id,
        organisation_id=organisation_id,
        now=turn.now,
    )
    if not slots:
        text = t._(
            "No upcoming slot of yours has a free place. Add one with /edit, then come back."
        )
        await reply(update, context, text)
        return
    buttons = []
    for slot in slots:
        span = t.slot_span(slot.starts_at, slot.ends_at, ZoneInfo(slot.timezone))
        label = f"{slot.mission_title[:28]} · {span}"
        buttons.append([Button(label, OFFER_PICK, {"r": recipient_id, "s": slot.slot_id})])
    await reply(update, context, t._("Which slot do you offer?"), buttons)


async def offer_pick(update: Update, context: RenfortContext) -> None:
    """A slot picked: the offer goes to the volunteer."""
    await answer_query(update)
    turn, t = context.turn, context.turn.t
    made = await alert_offers.offer(
        context.renfort.db,
        actor_id=turn.me.id,
        recipient_id=payload_int(context, "r"),
        slot_id=payload_int(context, "s"),
        now=turn.now,
        inbound=turn.inbound,
    )
    context.renfort.notify_outbox()
    text = t._(
        "📩 Offer sent to {name} for <b>{mission}</b>. You will see them in the roster if"
        " they accept.",
        name=esc(made.first_name),
        mission=esc(made.mission_title),
    )
    await reply(update, context, text, edit=True)


async def _answer_offer(update: Update, context: RenfortContext, accept: bool) -> None:
    await answer_query(update)
    t = context.turn.t
    result = await answer_tapped(context, AlertOfferQuestion(payload_int(context, "offer")), accept)
    context.renfort.notify_outbox()
    span = esc(t.slot_span(result.starts_at, result.ends_at, ZoneInfo(result.timezone)))
    mission = "<b>" + esc(result.mission_title) + "</b>"
    texts = {
        "accepted": "✅ "
        + t._(
            "You're on the team for {mission}, {slot}. Thank you! It is in /mymissions.",
            mission=mission,
            slot=span,
        ),
        "declined": t._("Offer declined. Thank you for answering."),
        "full": t._("Sorry, this slot filled up meanwhile. Thank you for being there!"),
        "closed": t._("This offer is over: the slot is no longer open. Thank you!"),
        "already": t._("You already answered this offer."),
    }
    await reply(update, context, texts[result.outcome], edit=True)


async def accept(update: Update, context: RenfortContext) -> None:
    """Accept: an approved application, if a place is still free."""
    await _answer_offer(update, context, True)


async def decline(update: Update, context: RenfortContext) -> None:
    """Decline: nothing is held."""
    await _answer_offer(update, context, False)


ACTIONS: dict[str, Callback] = {
    ALERT_YES: available,
    ALERT_NO: not_available,
    ALERT_OFFER_SLOT: offer_slot,
    OFFER_PICK: offer_pick,
    ALERT_OFFER_ACCEPT: accept,
    ALERT_OFFER_DECLINE: decline,
}
