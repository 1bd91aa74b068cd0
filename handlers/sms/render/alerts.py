"""SMS texts of territory alerts: the alert (answered with a bare YES or NO), a slot offered
(YES to accept), and a volunteer available told to a coordinator reached only by SMS.
Registered in handlers.sms.render.RENDERERS."""

from __future__ import annotations

from datetime import date

from bot.i18n import Translator
from bot.messaging.message import Message
from bot.notifications.alerts import AlertOffer, AlertVolunteerAvailable, TerritoryAlert
from handlers.sms.render.shared import Renderer, fit, place, shorten, when, yes_no


def territory_alert(n: TerritoryAlert, t: Translator, today: date | None) -> Message:
    """To a volunteer: YES if available, NO otherwise. The referent's words are the alert,
    so they may take two parts; only a text too long even for two is cut."""
    from handlers.sms.gsm7 import fit_encoding, segments

    def build(text: str) -> str:
        if n.urgent:
            return t._(
                "Renfort URGENT, civic reserve: {text} Reply YES if you are available, NO"
                " otherwise.",
                text=text,
            )
        return t._(
            "Renfort, civic reserve: {text} Reply YES if you are available, NO otherwise.",
            text=text,
        )

    words = " ".join(n.text.split())
    message = fit_encoding(build(words))
    while segments(message) > 2 and len(words) > 20:
        words = shorten(words, len(words) - 10)
        message = fit_encoding(build(words))
    return yes_no(t, message)


def alert_offer(n: AlertOffer, t: Translator, today: date | None) -> Message:
    """To a volunteer who said available: YES takes the place, NO declines."""

    values = {
        "organisation": n.organisation_name,
        "mission": n.mission_title,
        "when": when(n, t, today),
        "place": place(n, t),
    }
    return yes_no(
        t,
        fit(
            lambda v: t._(
                "Renfort: {organisation} offers you a place: {mission}, {when}, {place}. Reply YES"
                " to accept, NO to decline.",
                **v,
            ),
            values,
            ("mission", "place", "organisation"),
        ),
    )


def volunteer_available(n: AlertVolunteerAvailable, t: Translator, today: date | None) -> str:
    """To a coordinator reached only by SMS: offering is done in Telegram."""

    return fit(
        lambda v: t._(
            "Renfort: {name} is available for the civic reserve's alert. Offer a slot in Telegram.",
            **v,
        ),
        {"name": n.first_name},
        ("name",),
    )


ALERT_RENDERERS: dict[str, Renderer] = {
    TerritoryAlert.kind: territory_alert,
    AlertVolunteerAvailable.kind: volunteer_available,
    AlertOffer.kind: alert_offer,
}


# ---- replies to a YES or NO ----------------------------------------------------------


def alert_answered(t: Translator, outcome: str) -> str:
    from handlers.sms.replies import one

    if outcome == "available":
        return one(
            t._(
                "Thank you! The organisations nearby may offer you a mission; reply YES to"
                " accept it."
            )
        )
    if outcome == "unavailable":
        return one(t._("Noted, thank you."))
    return one(t._("You already answered this alert. Thank you!"))


def offer_answered(t: Translator, outcome: str, mission: str, when: str) -> str:

    if outcome == "accepted":
        return fit(
            lambda v: t._(
                "Thank you! You are on the team for {mission}, {when}. Send MY MISSIONS to"
                " see your missions.",
                **v,
            ),
            {"mission": mission, "when": when},
            ("mission",),
        )
    from handlers.sms.replies import one

    if outcome == "declined":
        return one(t._("Noted, thank you. The offer is declined."))
    if outcome == "full":
        return one(t._("Sorry, this slot filled up meanwhile. Thank you for being there!"))
    return one(t._("This offer is over. Thank you!"))
