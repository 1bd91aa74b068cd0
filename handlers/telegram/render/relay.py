"""Telegram texts of relayed messages: a coordinator's message to a volunteer (with a Reply
button) and a volunteer's answer in the admin group (a coordinator answers by replying to
it). Only first names: never a phone number or a username. Registered in render.RENDERERS."""

from __future__ import annotations

from bot.actions import REPLY_TO_RELAY
from bot.buttons import Button
from bot.i18n import Translator
from bot.messaging.message import Message
from bot.notifications.relay import RelayToOrganisation, RelayToVolunteer
from handlers.telegram.render.shared import Renderer, esc


def _body(n: RelayToVolunteer | RelayToOrganisation, t: Translator) -> str:
    text = str(n.text or "")
    return esc(text) if text else "<i>" + t._("(message deleted)") + "</i>"


def relay_to_volunteer(n: RelayToVolunteer, t: Translator) -> Message:
    """To a volunteer: an organisation's message, answered with Reply or a reply."""
    heading = t._("<b>Message from {organisation}</b>", organisation=esc(n.organisation_name))
    if n.mission_title:
        heading += " · " + esc(n.mission_title)
    text = "\n".join(
        [
            "✉️ " + heading,
            "",
            _body(n, t),
            "",
            "<i>" + t._("Tap Reply (or reply to this message) to answer them.") + "</i>",
        ]
    )
    buttons = [[Button("↩️ " + t._("Reply"), REPLY_TO_RELAY, {"relay": n.relay_id})]]
    return Message.with_buttons(text, buttons)


def relay_to_organisation(n: RelayToOrganisation, t: Translator) -> Message:
    """To the organisation: a volunteer's answer; a reply to it goes back to them."""
    name = esc(n.volunteer_name or t._("A volunteer"))
    if n.volunteer_via_sms:
        name = t._("{name} (via SMS)", name=name)
    if n.mission_title:
        heading = t._(
            "<b>{name}</b> answered · {mission}",
            name=name,
            mission=esc(n.mission_title),
        )
    else:
        heading = t._("<b>{name}</b> answered", name=name)
    text = "\n".join(
        [
            "💬 " + heading,
            "",
            _body(n, t),
            "",
            "<i>" + t._("Reply to this message to answer this volunteer.") + "</i>",
        ]
    )
    return Message(text)


RELAY_RENDERERS: dict[str, Renderer] = {
    RelayToVolunteer.kind: relay_to_volunteer,
    RelayToOrganisation.kind: relay_to_organisation,
}
