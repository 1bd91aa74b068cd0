"""SMS texts of the offers: a freed place offered to someone on the waitlist, who answers
YES or NO; the word that their time ran out; the alert to a coordinator reached only by
SMS. Each fits one GSM-7 segment. Registered in handlers.sms.render.RENDERERS, which imports
this module, so its helpers are imported when a text is built."""

from __future__ import annotations

from datetime import date
from zoneinfo import ZoneInfo

from bot.i18n import Translator
from bot.messaging.message import Message
from bot.notifications.offers import OfferExpired, OfferMade, PlaceFreedSoon
from handlers.sms import dates
from handlers.sms.render.shared import Renderer, fit, place, when, yes_no


def deadline(n: OfferMade, t: Translator, today: date | None) -> str:
    """'dim. 13 juin 20h', on the mission's clock."""
    return dates.moment(
        t.locale,
        n.offer_expires_at,
        ZoneInfo(n.timezone),
        today,
    )


def offer_made(n: OfferMade, t: Translator, today: date | None) -> Message:
    """To the first person on the waitlist: YES takes the place, NO lets it go."""

    return yes_no(
        t,
        fit(
            lambda v: t._(
                "Renfort: a place for you! {mission}, {when}, {place}. YES to take it, NO to let"
                " it go, by {deadline}.",
                **v,
            ),
            {
                "mission": n.mission_title,
                "when": when(n, t, today),
                "place": place(n, t),
                "deadline": deadline(n, t, today),
            },
            ("mission", "place"),
        ),
    )


def offer_expired(n: OfferExpired, t: Translator, today: date | None) -> str:
    """To the person offered a place who did not answer in time."""

    return fit(
        lambda v: t._(
            "Renfort: no answer in time, so the place for {mission}, {when} went to the next"
            " person. Send MISSIONS for others.",
            **v,
        ),
        {"mission": n.mission_title, "when": when(n, t, today)},
        ("mission",),
    )


def _next_step(n: PlaceFreedSoon, t: Translator) -> str:
    if n.too_late:
        return t._("Too late to offer it: find someone if you can.")
    if n.offered:
        return t._("Offered to the waiting list.")
    return t._("Nobody is waiting: find someone if you can.")


def place_freed_soon(n: PlaceFreedSoon, t: Translator, today: date | None) -> str:
    """To a coordinator reached only by SMS: a place came free a few hours before."""

    return fit(
        lambda v: t._("Renfort: a place is free again for {mission}, {when}. {next}", **v),
        {
            "mission": n.mission_title,
            "when": when(n, t, today),
            "next": _next_step(n, t),
        },
        ("mission",),
    )


OFFER_RENDERERS: dict[str, Renderer] = {
    OfferMade.kind: offer_made,
    OfferExpired.kind: offer_expired,
    PlaceFreedSoon.kind: place_freed_soon,
}
