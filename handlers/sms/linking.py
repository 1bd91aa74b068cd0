"""On a phone (SMS or WhatsApp): LINK 123456 joins this number to the profile that asked
for the code in Telegram; CHANNEL WHATSAPP / SMS / TELEGRAM chooses where Renfort writes."""

from __future__ import annotations

import re

from bot.i18n import Translator
from bot.services import channels, phones
from bot.services.errors import ServiceError
from handlers.sms.parse import Command, fold
from handlers.sms.replies import one
from handlers.sms.turn import IDLE, SmsTurn

_LINK = re.compile(r"^(?:LIEN|LINK|CODE) ?(\d{6})$")
_CHANNEL = re.compile(r"^(?:CANAL|CHANNEL) (TELEGRAM|WHATSAPP|SMS)$")


def link_code(command: Command) -> str | None:
    found = _LINK.match(fold(command.text))
    return found.group(1) if found else None


def channel_choice(command: Command) -> str | None:
    found = _CHANNEL.match(fold(command.text))
    return found.group(1).lower() if found else None


def channel_name(t: Translator, channel: str) -> str:
    return {"telegram": "Telegram", "whatsapp": "WhatsApp"}.get(channel, t._("SMS"))


async def link(turn: SmsTurn, code: str) -> None:
    """Join this phone to the code's person; they are answered in their own language."""
    db = turn.renfort.db
    try:
        person = await channels.use_link_code(
            db, code, turn.phone, turn.channel, turn.now, turn.goto(IDLE)
        )
    except ServiceError as error:
        turn.inbound.forget_state()
        turn.say(refused(turn.t, error.code))
        return
    turn.contact = await phones.find_by_phone(db, turn.phone)
    turn.speak(person.locale)
    turn.say(
        one(
            turn.t._(
                "Linked, {name}: Renfort will write to you here. CHANNEL TELEGRAM to go back.",
                name=person.first_name,
            )
        )
    )


async def choose(turn: SmsTurn, channel: str) -> None:
    try:
        await channels.choose(turn.renfort.db, turn.person.id, channel, turn.goto(IDLE))
    except ServiceError as error:
        turn.inbound.forget_state()
        turn.say(refused(turn.t, error.code))
        return
    turn.say(
        one(
            turn.t._(
                "Renfort will write to you on {channel}.", channel=channel_name(turn.t, channel)
            )
        )
    )


def refused(t: Translator, code: str) -> str:
    if code == "channel_not_linked":
        return one(t._("That channel is not linked yet: send /channel to Renfort in Telegram."))
    if code in ("phone_taken", "phone_already_linked"):
        return one(t._("This number already belongs to another Renfort profile."))
    return one(t._("This code is unknown or expired. Send /channel in Telegram for a new one."))
