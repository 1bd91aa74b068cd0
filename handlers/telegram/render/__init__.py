"""Notifications as a person reads them: Telegram HTML and buttons, in their language.

Each renderer takes its kind's notification (bot.notifications), rebuilt from the plain
values the services put in the outbox, so rendering never touches the database. Every value
that came from a person (names, titles, addresses) is escaped; only our own markup is HTML."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from bot.domain import ANSWER_WITHIN_DAYS, NO_SHOWS_WARNING, REFUSAL_REASONS, ApplicationStatus
from bot.i18n import Translator
from bot.messaging.message import Message
from bot.notifications import UnknownNotification as UnknownNotification
from bot.notifications import load
from bot.notifications.applications import (
    ApplicationCancelled,
    ApplicationDecided,
    ApplicationSubmitted,
)
from handlers.telegram.render.alerts import ALERT_RENDERERS
from handlers.telegram.render.callouts import CALLOUT_RENDERERS
from handlers.telegram.render.election import ELECTION_RENDERERS
from handlers.telegram.render.mission_changes import MISSION_CHANGE_RENDERERS
from handlers.telegram.render.moderation import MODERATION_RENDERERS
from handlers.telegram.render.offers import OFFER_RENDERERS
from handlers.telegram.render.organisers import ORGANISER_RENDERERS
from handlers.telegram.render.relay import RELAY_RENDERERS
from handlers.telegram.render.schedule import SCHEDULE_RENDERERS
from handlers.telegram.render.shared import Renderer, place_text, slot_text
from handlers.telegram.render.shared import decision_buttons as decision_buttons
from handlers.telegram.render.shared import esc as esc


def _volunteer_facts(n: ApplicationSubmitted, t: Translator) -> str:
    """Distance, track record: what helps a coordinator decide, never a phone number."""
    facts: list[str] = []
    if n.distance_km is not None:
        facts.append(t._("lives {distance} away", distance=t.distance(n.distance_km)))
    attended = int(n.attended or 0)
    if attended:
        facts.append(t.n_("{n} mission attended", "{n} missions attended", attended))
    else:
        facts.append(t._("no mission attended yet"))
    no_shows = int(n.no_shows or 0)
    if no_shows:
        facts.append(t.n_("{n} no-show", "{n} no-shows", no_shows))
    return " · ".join(facts)


def _no_show_warning(n: ApplicationSubmitted, t: Translator) -> list[str]:
    """A line of its own once a volunteer has missed slots before: easy to miss in the facts."""
    no_shows = int(n.no_shows or 0)
    if no_shows < NO_SHOWS_WARNING:
        return []
    return [
        "⚠️ "
        + t.n_(
            "<b>Did not come {n} time</b> without warning: check with them before approving.",
            "<b>Did not come {n} times</b> without warning: check with them before approving.",
            no_shows,
        )
    ]


def application_submitted(n: ApplicationSubmitted, t: Translator) -> Message:
    """To the organisation: someone applied; approve or refuse with one tap."""
    name = esc(n.volunteer_name)
    if n.volunteer_via_sms:
        name = t._("{name} (via SMS)", name=name)
    text = "\n".join(
        [
            "📝 "
            + t._(
                "<b>New application</b> · {organisation}",
                organisation=esc(n.organisation_name),
            ),
            t._(
                "<b>{name}</b> applied for <b>{mission}</b>",
                name=name,
                mission=esc(n.mission_title),
            ),
            "🗓 " + slot_text(n, t),
            "👤 " + esc(_volunteer_facts(n, t)),
            *confirmed_lines(n.conditions, t),
            *_no_show_warning(n, t),
            "",
            t.n_(
                "Please answer within {n} day.",
                "Please answer within {n} days.",
                ANSWER_WITHIN_DAYS,
            ),
        ]
    )
    return Message.with_buttons(text, decision_buttons(t, n.application_id))


def confirmed_lines(conditions: Sequence[str], t: Translator) -> list[str]:
    """The conditions the volunteer confirmed, for the coordinator deciding."""
    return [
        "☑️ " + t._("Confirms: {condition}", condition=esc(condition)) for condition in conditions
    ]


def application_decided(n: ApplicationDecided, t: Translator) -> Message:
    """To the volunteer: the organisation's answer."""
    mission, organisation = esc(n.mission_title), esc(n.organisation_name)
    status = n.status
    if status == ApplicationStatus.APPROVED:
        lines = [
            "✅ " + t._("<b>You're in!</b>"),
            t._(
                "{organisation} approved your application for <b>{mission}</b>.",
                organisation=organisation,
                mission=mission,
            ),
            "🗓 " + slot_text(n, t),
            "📍 " + place_text(n, t),
            "",
            t._("See /mymissions for the details, or to cancel if your plans change."),
        ]
    elif status == ApplicationStatus.REFUSED:
        label = REFUSAL_REASONS.get(str(n.reason), REFUSAL_REASONS["other"])
        lines = [
            t._(
                "{organisation} could not accept your application for <b>{mission}</b> ({slot}).",
                organisation=organisation,
                mission=mission,
                slot=slot_text(n, t),
            ),
            t._("Reason: {reason}", reason=esc(n.reason_note or t._(label))),
            "",
            t._("Thank you for offering your time. Other missions need you: /missions"),
        ]
    else:
        raise UnknownNotification(f"application_decided with status {status!r}")
    return Message("\n".join(lines))


def application_cancelled(n: ApplicationCancelled, t: Translator) -> Message:
    """To the organisation: a volunteer let go of their place."""
    text = "\n".join(
        [
            "↩️ "
            + t._(
                "<b>Cancellation</b> · {organisation}",
                organisation=esc(n.organisation_name),
            ),
            t._(
                "{name} cancelled their place for <b>{mission}</b>.",
                name=esc(n.volunteer_name),
                mission=esc(n.mission_title),
            ),
            "🗓 " + slot_text(n, t),
            t._("The place is free again."),
        ]
    )
    return Message(text)


RENDERERS: dict[str, Renderer] = {
    ApplicationSubmitted.kind: application_submitted,
    ApplicationDecided.kind: application_decided,
    ApplicationCancelled.kind: application_cancelled,
    **SCHEDULE_RENDERERS,
    **OFFER_RENDERERS,
    **ORGANISER_RENDERERS,
    **CALLOUT_RENDERERS,
    **MODERATION_RENDERERS,
    **RELAY_RENDERERS,
    **MISSION_CHANGE_RENDERERS,
    **ELECTION_RENDERERS,
    **ALERT_RENDERERS,
}


def render(kind: str, payload: Mapping[str, Any], t: Translator) -> Message:
    """The notification an outbox row holds (its kind, its stored payload), in the language
    of `t`."""
    renderer = RENDERERS.get(kind)
    if renderer is None:
        raise UnknownNotification(f"no renderer for notification kind {kind!r}")
    return renderer(load(kind, payload), t)
