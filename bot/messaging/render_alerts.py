"""Telegram texts of territory alerts: the alert to a volunteer (Available / Not available),
a volunteer available told to an organisation of the territory (Offer a slot), and the slot
offered to the volunteer (Accept / Decline). Registered in render.RENDERERS.

`render` imports this module to register it, so its helpers are imported when a renderer
runs, not when this module loads."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from bot.actions import (
    ALERT_NO,
    ALERT_OFFER_ACCEPT,
    ALERT_OFFER_DECLINE,
    ALERT_OFFER_SLOT,
    ALERT_YES,
)
from bot.buttons import Button
from bot.i18n import Translator

if TYPE_CHECKING:
    from bot.messaging.render import Rendered


def alert_buttons(t: Translator, alert_id: int) -> list[list[Button]]:
    data = {"alert": alert_id}
    return [
        [
            Button("✅ " + t._("Available"), ALERT_YES, data),
            Button("❌ " + t._("Not available"), ALERT_NO, data),
        ]
    ]


def territory_alert(payload: dict[str, Any], t: Translator) -> Rendered:
    """To a volunteer: the civic reserve's alert, to answer available or not."""
    from bot.messaging.render import Rendered, esc

    if payload.get("urgent"):
        title = "🚨 " + t._("<b>Urgent alert from the civic reserve</b>")
    else:
        title = "📣 " + t._("<b>Alert from the civic reserve</b>")
    lines = [title, "", esc(payload["text"])]
    if payload.get("place_name"):
        lines.append("📍 " + esc(payload["place_name"]))
    lines += [
        "",
        t._(
            "Are you available? If you are, the organisations nearby may offer you a"
            " mission; you choose whether to accept."
        ),
    ]
    return Rendered("\n".join(lines), alert_buttons(t, int(payload["alert_id"])))


def volunteer_available(payload: dict[str, Any], t: Translator) -> Rendered:
    """To an organisation of the territory: someone available, with Offer a slot."""
    from bot.messaging.render import Rendered, esc

    who = "<b>" + esc(payload["first_name"]) + "</b>"
    if payload.get("distance_km") is not None:
        who += " · " + t._("{distance} away", distance=t.distance(payload["distance_km"]))
    elif payload.get("town"):
        who += " · " + esc(payload["town"])
    text = "\n".join(
        [
            "🙋 " + t._("{who} is available for the civic reserve's alert:", who=who),
            "<i>" + esc(payload["text"]) + "</i>",
            "",
            t._("Offer them one of your slots with a free place; they choose whether to accept."),
        ]
    )
    data = {"r": int(payload["recipient_id"]), "o": int(payload["organisation_id"])}
    return Rendered(text, [[Button("📩 " + t._("Offer a slot"), ALERT_OFFER_SLOT, data)]])


def offer_buttons(t: Translator, offer_id: int) -> list[list[Button]]:
    data = {"offer": offer_id}
    return [
        [
            Button("✅ " + t._("Accept"), ALERT_OFFER_ACCEPT, data),
            Button("❌ " + t._("Decline"), ALERT_OFFER_DECLINE, data),
        ]
    ]


def alert_offer(payload: dict[str, Any], t: Translator) -> Rendered:
    """To a volunteer who said available: an organisation offers a slot."""
    from bot.messaging.render import Rendered, _place, _slot, esc

    lines = [
        "📩 "
        + t._(
            "<b>{organisation}</b> offers you a place: <b>{mission}</b>",
            organisation=esc(payload["organisation_name"]),
            mission=esc(payload["mission_title"]),
        ),
        "🗓 " + esc(_slot(payload, t)),
        "📍 " + _place(payload, t),
    ]
    conditions = [str(c) for c in payload.get("conditions") or []]
    if conditions:
        lines += ["", t._("By accepting, you confirm:")]
        lines += ["☑️ " + esc(c) for c in conditions]
    lines += ["", t._("Will you take it?")]
    return Rendered("\n".join(lines), offer_buttons(t, int(payload["offer_id"])))


ALERT_RENDERERS: dict[str, Callable[[dict[str, Any], Translator], Rendered]] = {
    "territory_alert": territory_alert,
    "alert_volunteer_available": volunteer_available,
    "alert_offer": alert_offer,
}
