"""SMS texts of the organisers' side: to volunteers, the application still waiting and
"Did it go well?"; to a coordinator reachable only by SMS, a pointer to Telegram for the
nudge, the digest and the roster. Each fits one GSM-7 segment. Registered in
handlers.sms.render.RENDERERS, which imports this module, so its helpers are imported when a
text is built."""

from __future__ import annotations

from datetime import date

from bot.domain import ANSWER_WITHIN_DAYS, NUDGE_AFTER_DAYS
from bot.i18n import Translator
from bot.notifications.facts import MissionSlot
from bot.notifications.organisers import (
    ApplicationLate,
    ApplicationNudge,
    FeedbackRequest,
    SlotRoster,
    WeeklyDigest,
)
from handlers.sms.render.shared import Renderer, fit, when


def _slot_values(n: MissionSlot, t: Translator, today: date | None) -> dict[str, str]:

    return {
        "mission": str(n.mission_title),
        "organisation": str(n.organisation_name),
        "when": when(n, t, today),
    }


def application_nudge(n: ApplicationNudge, t: Translator, today: date | None) -> str:
    """To a coordinator by SMS: an application has been waiting for days."""

    values = _slot_values(n, t, today) | {
        "name": str(n.volunteer_name or ""),
        "days": str(n.days_waiting or NUDGE_AFTER_DAYS),
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


def application_late(n: ApplicationLate, t: Translator, today: date | None) -> str:
    """To the volunteer: no answer after 7 days; they may look elsewhere."""

    values = _slot_values(n, t, today) | {"days": str(ANSWER_WITHIN_DAYS)}
    return fit(
        lambda v: t._(
            "Renfort: {organisation} has not answered yet for {mission}, {when}. Sorry! Your"
            " application stays open; send MISSIONS to see others.",
            **v,
        ),
        values,
        ("mission", "organisation"),
    )


def weekly_digest(n: WeeklyDigest, t: Translator, today: date | None) -> str:
    """To a coordinator by SMS: the week in two numbers."""

    pending, places = int(n.pending_count or 0), int(n.places_left or 0)
    values = {
        "organisation": n.organisation_name,
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


def slot_roster(n: SlotRoster, t: Translator, today: date | None) -> str:
    """To a coordinator by SMS: the slot is over; marking happens in Telegram."""

    return fit(
        lambda v: t._("Renfort: {mission}, {when} is over. Please mark who came in Telegram.", **v),
        _slot_values(n, t, today),
        ("mission",),
    )


def feedback_request(n: FeedbackRequest, t: Translator, today: date | None) -> str:
    """To the volunteer the day after: did it go well? Any reply is their note."""

    return fit(
        lambda v: t._(
            "Renfort: thank you for {mission}, {when}! Did it go well? Reply with a few"
            " words if you like.",
            **v,
        ),
        _slot_values(n, t, today),
        ("mission",),
    )


def feedback_thanks(t: Translator) -> str:
    """The answer to a volunteer's note about a slot."""
    return t._("Renfort: thank you for your note, we pass it on to the organisation.")


ORGANISER_RENDERERS: dict[str, Renderer] = {
    ApplicationNudge.kind: application_nudge,
    ApplicationLate.kind: application_late,
    WeeklyDigest.kind: weekly_digest,
    SlotRoster.kind: slot_roster,
    FeedbackRequest.kind: feedback_request,
}
