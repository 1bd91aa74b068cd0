"""Telegram texts of the offers: a freed place offered to someone on the waitlist (with
Accept / Decline), the word that their time ran out, and the coordinators' alert about a
place freed close to the start. Registered in render.RENDERERS."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from bot.actions import ACCEPT_OFFER, DECLINE_OFFER
from bot.buttons import Button
from bot.i18n import Translator
from bot.messaging.message import Message
from bot.notifications.offers import OfferExpired, OfferMade, PlaceFreedSoon
from handlers.telegram.render.shared import Renderer, answer_buttons, esc, place_text, slot_text


def deadline_text(t: Translator, expires_at: datetime, zone: ZoneInfo) -> str:
    """'Sunday 13 June 2027 at 20:00', on the mission's clock."""
    local = expires_at.astimezone(zone)
    return t._("{day} at {time}", day=t.weekday_date(local), time=t.clock(local))


def deadline(n: OfferMade, t: Translator) -> str:
    return deadline_text(t, n.offer_expires_at, ZoneInfo(n.timezone))


def offer_buttons(t: Translator, application_id: int) -> list[list[Button]]:
    """Accept / Decline under an offer, in the message and in /mymissions."""
    data = {"app": application_id}
    return answer_buttons((t._("Accept"), ACCEPT_OFFER), (t._("Decline"), DECLINE_OFFER), data)


def offer_made(n: OfferMade, t: Translator) -> Message:
    """To the first person on the waitlist: the place is theirs if they take it in time."""
    text = "\n".join(
        [
            "🎉 " + t._("<b>A place freed up for you!</b>"),
            t._(
                "You were on the waiting list for <b>{mission}</b> ({organisation}).",
                mission=esc(n.mission_title),
                organisation=esc(n.organisation_name),
            ),
            "🗓 " + slot_text(n, t),
            "📍 " + place_text(n, t),
            "",
            "⏳ "
            + t._(
                "The place is kept for you until <b>{deadline}</b>. Will you take it?",
                deadline=esc(deadline(n, t)),
            ),
        ]
    )
    return Message.with_buttons(text, offer_buttons(t, n.application_id))


def offer_expired(n: OfferExpired, t: Translator) -> Message:
    """To the person offered a place who did not answer in time."""
    text = "\n".join(
        [
            "⌛ "
            + t._(
                "You did not answer in time, so the place for <b>{mission}</b> ({slot}) went"
                " to the next person on the waiting list.",
                mission=esc(n.mission_title),
                slot=slot_text(n, t),
            ),
            t._("Other missions need you: /missions"),
        ]
    )
    return Message(text)


def freed_by_text(n: PlaceFreedSoon, t: Translator, mission: str) -> str:
    """What happened to the place, in one sentence (`mission` already escaped)."""
    name = esc(n.volunteer_name or "")
    freed_by = n.freed_by
    if freed_by == "refused":
        return t._(
            "The application of {name} for {mission} was refused.", name=name, mission=mission
        )
    if freed_by == "offer_declined":
        return t._("{name} declined the place offered for {mission}.", name=name, mission=mission)
    if freed_by == "offer_expired":
        return t._(
            "{name} did not answer the offer of a place for {mission} in time.",
            name=name,
            mission=mission,
        )
    return t._("{name} cancelled their place for {mission}.", name=name, mission=mission)


def next_step_text(n: PlaceFreedSoon, t: Translator) -> str:
    """Whether the waitlist got the place, or the coordinators should find someone."""
    offered = int(n.offered or 0)
    if n.too_late:
        return t._(
            "It starts in less than an hour: too late to offer the place to the waiting list."
            " Find someone if you can."
        )
    if offered:
        return t.n_(
            "It was offered to the next person on the waiting list.",
            "It was offered to the next {n} people on the waiting list.",
            offered,
        )
    return t._("Nobody is on the waiting list: find someone if you can.")


def place_freed_soon(n: PlaceFreedSoon, t: Translator) -> Message:
    """To the organisation: a place came free a few hours before the start."""
    mission = "<b>" + esc(n.mission_title) + "</b>"
    text = "\n".join(
        [
            "⏰ "
            + t._(
                "<b>A place to fill soon</b> · {organisation}",
                organisation=esc(n.organisation_name),
            ),
            freed_by_text(n, t, mission),
            "🗓 " + slot_text(n, t),
            next_step_text(n, t),
        ]
    )
    return Message(text)


OFFER_RENDERERS: dict[str, Renderer] = {
    OfferMade.kind: offer_made,
    OfferExpired.kind: offer_expired,
    PlaceFreedSoon.kind: place_freed_soon,
}
