"""Telegram texts of relayed messages: a coordinator's message to a volunteer (with a Reply
button) and a volunteer's answer in the admin group (a coordinator answers by replying to
it). Only first names: never a phone number or a username. Registered in render.RENDERERS."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from bot.actions import REPLY_TO_RELAY
from bot.buttons import Button
from bot.i18n import Translator
from bot.messaging.rendered import esc

if TYPE_CHECKING:
    from bot.messaging.render import Rendered


def _body(payload: dict[str, Any], t: Translator) -> str:
    text = str(payload.get("text") or "")
    return esc(text) if text else "<i>" + t._("(message deleted)") + "</i>"


def relay_to_volunteer(payload: dict[str, Any], t: Translator) -> Rendered:
    """To a volunteer: an organisation's message, answered with Reply or a reply."""
    from bot.messaging.render import Rendered

    heading = t._(
        "<b>Message from {organisation}</b>", organisation=esc(payload["organisation_name"])
    )
    if payload.get("mission_title"):
        heading += " · " + esc(payload["mission_title"])
    text = "\n".join(
        [
            "✉️ " + heading,
            "",
            _body(payload, t),
            "",
            "<i>" + t._("Tap Reply (or reply to this message) to answer them.") + "</i>",
        ]
    )
    buttons = [[Button("↩️ " + t._("Reply"), REPLY_TO_RELAY, {"relay": payload.get("relay_id")})]]
    return Rendered(text, buttons)


def relay_to_organisation(payload: dict[str, Any], t: Translator) -> Rendered:
    """To the organisation: a volunteer's answer; a reply to it goes back to them."""
    from bot.messaging.render import Rendered

    name = esc(payload.get("volunteer_name") or t._("A volunteer"))
    if payload.get("volunteer_via_sms"):
        name = t._("{name} (via SMS)", name=name)
    if payload.get("mission_title"):
        heading = t._(
            "<b>{name}</b> answered · {mission}",
            name=name,
            mission=esc(payload["mission_title"]),
        )
    else:
        heading = t._("<b>{name}</b> answered", name=name)
    text = "\n".join(
        [
            "💬 " + heading,
            "",
            _body(payload, t),
            "",
            "<i>" + t._("Reply to this message to answer this volunteer.") + "</i>",
        ]
    )
    return Rendered(text)


RELAY_RENDERERS: dict[str, Callable[[dict[str, Any], Translator], Rendered]] = {
    "relay_to_volunteer": relay_to_volunteer,
    "relay_to_organisation": relay_to_organisation,
}
