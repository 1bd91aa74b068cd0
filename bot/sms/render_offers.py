"""SMS texts of the offers: a freed place offered to someone on the waitlist, who answers
YES or NO; the word that their time ran out; the alert to a coordinator reached only by
SMS. Each fits one GSM-7 segment. Registered in bot.sms.render.RENDERERS, which imports
this module, so its helpers are imported when a text is built."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from bot.i18n import Translator
from bot.sms import dates


def deadline(payload: Mapping[str, Any], t: Translator, today: date | None) -> str:
    """'dim. 13 juin 20h', on the mission's clock."""
    return dates.moment(
        t.locale,
        datetime.fromisoformat(payload["offer_expires_at"]),
        ZoneInfo(payload["timezone"]),
        today,
    )


def offer_made(payload: Mapping[str, Any], t: Translator, today: date | None) -> str:
    """To the first person on the waitlist: YES takes the place, NO lets it go."""
    from bot.sms.render import fit, place, when

    return fit(
        lambda v: t._(
            "Renfort: a place for you! {mission}, {when}, {place}. YES to take it, NO to let"
            " it go, by {deadline}.",
            **v,
        ),
        {
            "mission": str(payload["mission_title"]),
            "when": when(payload, t, today),
            "place": place(payload, t),
            "deadline": deadline(payload, t, today),
        },
        ("mission", "place"),
    )


def offer_expired(payload: Mapping[str, Any], t: Translator, today: date | None) -> str:
    """To the person offered a place who did not answer in time."""
    from bot.sms.render import fit, when

    return fit(
        lambda v: t._(
            "Renfort: no answer in time, so the place for {mission}, {when} went to the next"
            " person. Send MISSIONS for others.",
            **v,
        ),
        {"mission": str(payload["mission_title"]), "when": when(payload, t, today)},
        ("mission",),
    )


def _next_step(payload: Mapping[str, Any], t: Translator) -> str:
    if payload.get("too_late"):
        return t._("Too late to offer it: find someone if you can.")
    if payload.get("offered"):
        return t._("Offered to the waiting list.")
    return t._("Nobody is waiting: find someone if you can.")


def place_freed_soon(payload: Mapping[str, Any], t: Translator, today: date | None) -> str:
    """To a coordinator reached only by SMS: a place came free a few hours before."""
    from bot.sms.render import fit, when

    return fit(
        lambda v: t._("Renfort: a place is free again for {mission}, {when}. {next}", **v),
        {
            "mission": str(payload["mission_title"]),
            "when": when(payload, t, today),
            "next": _next_step(payload, t),
        },
        ("mission",),
    )


Renderer = Callable[[Mapping[str, Any], Translator, date | None], str]
OFFER_RENDERERS: dict[str, Renderer] = {
    "offer_made": offer_made,
    "offer_expired": offer_expired,
    "place_freed_soon": place_freed_soon,
}
