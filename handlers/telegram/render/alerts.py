"""Telegram texts of territory alerts: the alert to a volunteer (Available / Not available),
a volunteer available told to an organisation of the territory (Offer a slot), and the slot
offered to the volunteer (Accept / Decline). Registered in render.RENDERERS."""

from __future__ import annotations

from bot.actions import (
    ALERT_NO,
    ALERT_OFFER_ACCEPT,
    ALERT_OFFER_DECLINE,
    ALERT_OFFER_SLOT,
    ALERT_YES,
)
from bot.buttons import Button
from bot.i18n import Translator
from bot.messaging.message import Message
from bot.notifications.alerts import AlertOffer, AlertVolunteerAvailable, TerritoryAlert
from handlers.telegram.render.shared import Renderer, answer_buttons, esc, place_text, slot_text


def alert_buttons(t: Translator, alert_id: int) -> list[list[Button]]:
    data = {"alert": alert_id}
    return answer_buttons((t._("Available"), ALERT_YES), (t._("Not available"), ALERT_NO), data)


def territory_alert(n: TerritoryAlert, t: Translator) -> Message:
    """To a volunteer: the civic reserve's alert, to answer available or not."""
    if n.urgent:
        title = "🚨 " + t._("<b>Urgent alert from the civic reserve</b>")
    else:
        title = "📣 " + t._("<b>Alert from the civic reserve</b>")
    lines = [title, "", esc(n.text)]
    if n.place_name:
        lines.append("📍 " + esc(n.place_name))
    lines += [
        "",
        t._(
            "Are you available? If you are, the organisations nearby may offer you a"
            " mission; you choose whether to accept."
        ),
    ]
    return Message.with_buttons("\n".join(lines), alert_buttons(t, n.alert_id))


def volunteer_available(n: AlertVolunteerAvailable, t: Translator) -> Message:
    """To an organisation of the territory: someone available, with Offer a slot."""
    who = "<b>" + esc(n.first_name) + "</b>"
    if n.distance_km is not None:
        who += " · " + t._("{distance} away", distance=t.distance(n.distance_km))
    elif n.town:
        who += " · " + esc(n.town)
    text = "\n".join(
        [
            "🙋 " + t._("{who} is available for the civic reserve's alert:", who=who),
            "<i>" + esc(n.text) + "</i>",
            "",
            t._("Offer them one of your slots with a free place; they choose whether to accept."),
        ]
    )
    data = {"r": n.recipient_id, "o": n.organisation_id}
    return Message.with_buttons(
        text, [[Button("📩 " + t._("Offer a slot"), ALERT_OFFER_SLOT, data)]]
    )


def offer_buttons(t: Translator, offer_id: int) -> list[list[Button]]:
    data = {"offer": offer_id}
    return answer_buttons(
        (t._("Accept"), ALERT_OFFER_ACCEPT), (t._("Decline"), ALERT_OFFER_DECLINE), data
    )


def alert_offer(n: AlertOffer, t: Translator) -> Message:
    """To a volunteer who said available: an organisation offers a slot."""
    lines = [
        "📩 "
        + t._(
            "<b>{organisation}</b> offers you a place: <b>{mission}</b>",
            organisation=esc(n.organisation_name),
            mission=esc(n.mission_title),
        ),
        "🗓 " + slot_text(n, t),
        "📍 " + place_text(n, t),
    ]
    conditions = [str(c) for c in n.conditions]
    if conditions:
        lines += ["", t._("By accepting, you confirm:")]
        lines += ["☑️ " + esc(c) for c in conditions]
    lines += ["", t._("Will you take it?")]
    return Message.with_buttons("\n".join(lines), offer_buttons(t, n.offer_id))


ALERT_RENDERERS: dict[str, Renderer] = {
    TerritoryAlert.kind: territory_alert,
    AlertVolunteerAvailable.kind: volunteer_available,
    AlertOffer.kind: alert_offer,
}
