"""SMS texts of the organisers' side: to volunteers, the application still waiting and
"Did it go well?"; to a coordinator reachable only by SMS, a pointer to Telegram for the
nudge, the digest and the roster. Each fits one GSM-7 segment. Registered in
bot.sms.render.RENDERERS, which imports this module, so its helpers are imported when a
text is built."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import date
from typing import Any

from bot.domain import ANSWER_WITHIN_DAYS, NUDGE_AFTER_DAYS
from bot.i18n import Translator


def _slot_values(payload: Mapping[str, Any], t: Translator, today: date | None) -> dict[str, str]:
    from bot.sms.render import when

    return {
        "mission": str(payload["mission_title"]),
        "organisation": str(payload["organisation_name"]),
        "when": when(payload, t, today),
    }


def application_nudge(payload: Mapping[str, Any], t: Translator, today: date | None) -> str:
    """To a coordinator by SMS: an application has been waiting for days."""
    from bot.sms.render import fit

    values = _slot_values(payload, t, today) | {
        "name": str(payload.get("volunteer_name") or ""),
        "days": str(payload.get("days_waiting") or NUDGE_AFTER_DAYS),
    }
    return fit(
        lambda v: t.n_(
            "Renfort: {name} has waited {days} day for your answer for {mission}, {when}."
            " Please answer in Telegram.",
            "Renfort: {name} has waited {days} days for your answer for {mission}, {when}."
            " Please answer in Telegram.",
            int(values["days"]),
            **v,
        ),
        values,
        ("mission", "name"),
    )


def application_late(payload: Mapping[str, Any], t: Translator, today: date | None) -> str:
    """To the volunteer: no answer after 7 days; they may look elsewhere."""
    from bot.sms.render import fit

    values = _slot_values(payload, t, today) | {"days": str(ANSWER_WITHIN_DAYS)}
    return fit(
        lambda v: t._(
            "Renfort: {organisation} has not answered yet for {mission}, {when}. Sorry! Your"
            " application stays open; send MISSIONS to see others.",
            **v,
        ),
        values,
        ("mission", "organisation"),
    )


def weekly_digest(payload: Mapping[str, Any], t: Translator, today: date | None) -> str:
    """To a coordinator by SMS: the week in two numbers."""
    from bot.sms.render import fit

    pending, places = int(payload.get("pending_count") or 0), int(payload.get("places_left") or 0)
    values = {
        "organisation": str(payload["organisation_name"]),
        "pending": t.n_("{n} application to answer", "{n} applications to answer", pending),
        "places": t.n_("{n} place to fill", "{n} places to fill", places),
    }
    return fit(
        lambda v: t._(
            "Renfort, {organisation}: {pending}, {places} in the next 14 days. Details in"
            " Telegram.",
            **v,
        ),
        values,
        ("organisation",),
    )


def slot_roster(payload: Mapping[str, Any], t: Translator, today: date | None) -> str:
    """To a coordinator by SMS: the slot is over; marking happens in Telegram."""
    from bot.sms.render import fit

    return fit(
        lambda v: t._("Renfort: {mission}, {when} is over. Please mark who came in Telegram.", **v),
        _slot_values(payload, t, today),
        ("mission",),
    )


def feedback_request(payload: Mapping[str, Any], t: Translator, today: date | None) -> str:
    """To the volunteer the day after: did it go well? Any reply is their note."""
    from bot.sms.render import fit

    return fit(
        lambda v: t._(
            "Renfort: thank you for {mission}, {when}! Did it go well? Reply with a few"
            " words if you like.",
            **v,
        ),
        _slot_values(payload, t, today),
        ("mission",),
    )


def feedback_thanks(t: Translator) -> str:
    """The answer to a volunteer's note about a slot."""
    return t._("Renfort: thank you for your note, we pass it on to the organisation.")


ORGANISER_RENDERERS: dict[str, Callable[[Mapping[str, Any], Translator, date | None], str]] = {
    "application_nudge": application_nudge,
    "application_late": application_late,
    "weekly_digest": weekly_digest,
    "slot_roster": slot_roster,
    "feedback_request": feedback_request,
}
