"""Notifications as an SMS: plain text in the person's language, one GSM-7 segment wherever
possible. Values from people (titles, names, addresses) are shortened before a message
spills into a second paid part; our own words never are."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime
from typing import Any

from bot.domain import ANSWER_WITHIN_DAYS, NO_SHOWS_WARNING, REFUSAL_REASONS, ApplicationStatus
from bot.i18n import Translator
from bot.messaging.message import Message, message
from bot.notifications import UnknownNotification, load
from bot.notifications.applications import (
    ApplicationCancelled,
    ApplicationDecided,
    ApplicationSubmitted,
)
from handlers.sms.render.alerts import ALERT_RENDERERS
from handlers.sms.render.callouts import CALLOUT_RENDERERS
from handlers.sms.render.election import ELECTION_RENDERERS
from handlers.sms.render.mission_changes import MISSION_CHANGE_RENDERERS
from handlers.sms.render.moderation import MODERATION_RENDERERS
from handlers.sms.render.offers import OFFER_RENDERERS
from handlers.sms.render.organisers import ORGANISER_RENDERERS
from handlers.sms.render.relay import RELAY_RENDERERS
from handlers.sms.render.schedule import SCHEDULE_RENDERERS
from handlers.sms.render.shared import Renderer, fit, place, today_of, when


def application_decided(n: ApplicationDecided, t: Translator, today: date | None) -> str:
    """To the volunteer: the organisation's answer."""
    values = {
        "organisation": n.organisation_name,
        "mission": n.mission_title,
        "when": when(n, t, today),
        "place": place(n, t),
    }
    status = n.status
    if status == ApplicationStatus.APPROVED:
        return fit(
            lambda v: t._(
                "Renfort: {organisation} accepted you for {mission}, {when}, {place}."
                " MY MISSIONS to see yours.",
                **v,
            ),
            values,
            ("mission", "place", "organisation"),
        )
    if status == ApplicationStatus.REFUSED:
        label = REFUSAL_REASONS.get(str(n.reason), REFUSAL_REASONS["other"])
        values["reason"] = str(n.reason_note or t._(label))
        del values["place"]
        return fit(
            lambda v: t._(
                "Renfort: {organisation} could not accept you for {mission}, {when}"
                " ({reason}). Send MISSIONS to find another.",
                **v,
            ),
            values,
            ("mission", "organisation", "reason"),
        )
    raise UnknownNotification(f"application_decided with status {status!r}")


def _volunteer(n: ApplicationSubmitted, t: Translator) -> str:
    name = n.volunteer_name
    return t._("{name} (via SMS)", name=name) if n.volunteer_via_sms else name


def application_submitted(n: ApplicationSubmitted, t: Translator, today: date | None) -> str:
    """To a coordinator who can only be reached by SMS: someone applied."""
    values = {
        "name": _volunteer(n, t),
        "mission": n.mission_title,
        "when": when(n, t, today),
        "days": str(ANSWER_WITHIN_DAYS),
    }
    no_shows = int(n.no_shows or 0)
    if no_shows >= NO_SHOWS_WARNING:
        # The warning replaces the deadline: one SMS has room for one of them.
        return fit(
            lambda v: t.n_(
                "Renfort: {name} applied for {mission}, {when}. WARNING: did not come"
                " {n} time before. Answer in Telegram.",
                "Renfort: {name} applied for {mission}, {when}. WARNING: did not come"
                " {n} times before. Answer in Telegram.",
                no_shows,
                **v,
            ),
            values,
            ("mission", "name"),
        )
    return fit(
        lambda v: t.n_(
            "Renfort: {name} applied for {mission}, {when}. Please answer in Telegram"
            " within {days} day.",
            "Renfort: {name} applied for {mission}, {when}. Please answer in Telegram"
            " within {days} days.",
            ANSWER_WITHIN_DAYS,
            **v,
        ),
        values,
        ("mission", "name"),
    )


def application_cancelled(n: ApplicationCancelled, t: Translator, today: date | None) -> str:
    """To a coordinator who can only be reached by SMS: a volunteer let go of their place."""
    return fit(
        lambda v: t._(
            "Renfort: {name} cancelled their place for {mission}, {when}. The place is free again.",
            **v,
        ),
        {
            "name": n.volunteer_name,
            "mission": n.mission_title,
            "when": when(n, t, today),
        },
        ("mission", "name"),
    )


# A kind's renderer takes that kind's notification (see the catalogue's test).
RENDERERS: dict[str, Renderer] = {
    ApplicationDecided.kind: application_decided,
    ApplicationSubmitted.kind: application_submitted,
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


def notification_message(
    kind: str, payload: Mapping[str, Any], t: Translator, now: datetime | None = None
) -> Message:
    """The notification an outbox row holds (its kind, its stored payload) in the language
    of `t`: its SMS text, and the answers it asks for."""
    renderer = RENDERERS.get(kind)
    if renderer is None:
        raise UnknownNotification(f"no SMS text for notification kind {kind!r}")
    return message(renderer(load(kind, payload), t, today_of(now)))


def render_notification(
    kind: str, payload: Mapping[str, Any], t: Translator, now: datetime | None = None
) -> str:
    """The notification as one SMS in the language of `t`."""
    return notification_message(kind, payload, t, now).text
