"""A message's place on Telegram: a button opening OpenStreetMap at the point, on a row of
its own under the message's other buttons. The text already says the address; the button
only saves typing it into a map."""

from __future__ import annotations

from dataclasses import replace

from bot.buttons import Button
from bot.i18n import Translator
from bot.messaging.message import Choice, Message, Pin
from bot.messaging.pins import map_url


def map_button(t: Translator, pin: Pin) -> Button:
    return Button("🗺 " + t._("Map"), "", url=map_url(pin))


def with_map(message: Message, t: Translator) -> Message:
    """`message` with its place's button on the last row; unchanged without a place."""
    if message.place is None:
        return message
    button = map_button(t, message.place)
    row = max((c.row for c in message.choices if c.action is not None), default=-1) + 1
    return replace(
        message, choices=(*message.choices, Choice(button.label, action=button, row=row))
    )
