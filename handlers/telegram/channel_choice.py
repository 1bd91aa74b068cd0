"""/channel: where Renfort writes to a volunteer (Telegram, WhatsApp or SMS), and the
one-time code that joins their phone to this profile when they send it from WhatsApp or SMS."""

from __future__ import annotations

from telegram import Update

from bot.buttons import Button
from bot.config import WHATSAPP_PREFIX
from bot.i18n import Translator
from bot.services import channels
from handlers.telegram.common import RenfortContext, answer_query, esc, reply
from handlers.telegram.flow import checked, leave_profile_edit

CHOOSE_CHANNEL = "choose_channel"


def channel_name(t: Translator, channel: str) -> str:
    names = {"telegram": "Telegram", "whatsapp": "WhatsApp", "sms": t._("SMS")}
    return names.get(channel, channel)


async def channel_command(update: Update, context: RenfortContext) -> None:
    """The channels this person can be reached on, the one chosen, and a link code."""
    turn, renfort = context.turn, context.renfort
    leave_profile_edit(turn)
    t, me, settings = turn.t, turn.me, renfort.settings
    current = await channels.preferred(renfort.db, me.id) or "telegram"
    offered = ["telegram"]
    if me.has_phone and settings.whatsapp_enabled:
        offered.append("whatsapp")
    if me.has_phone and settings.sms_enabled:
        offered.append("sms")
    lines = [t._("Renfort writes to you on: {channel}.", channel=channel_name(t, current))]
    if settings.sms_enabled and settings.twilio_from_number:
        code = await channels.new_link_code(renfort.db, me.id, renfort.now())
        sms_number = settings.twilio_from_number
        if settings.whatsapp_enabled and settings.twilio_whatsapp_from:
            numbers = t._(
                "{whatsapp} on WhatsApp or {sms} by SMS",
                whatsapp=settings.twilio_whatsapp_from.removeprefix(WHATSAPP_PREFIX),
                sms=sms_number,
            )
        else:
            numbers = t._("{sms} by SMS", sms=sms_number)
        lines.append(
            t._(
                "To get Renfort on your phone, send <b>LINK {code}</b> to {numbers} within"
                " 15 minutes.",
                code=code,
                numbers=esc(numbers),
            )
        )
    buttons = [
        Button(
            checked(channel_name(t, channel), channel == current),
            CHOOSE_CHANNEL,
            {"channel": channel},
        )
        for channel in offered
    ]
    await reply(update, context, "\n\n".join(lines), [buttons] if len(buttons) > 1 else [])


async def choose_channel(update: Update, context: RenfortContext) -> None:
    await answer_query(update)
    turn = context.turn
    assert turn.payload is not None
    channel = str(turn.payload.data.get("channel"))
    await channels.choose(context.renfort.db, turn.me.id, channel, inbound=turn.inbound)
    await reply(
        update,
        context,
        turn.t._("Renfort writes to you on: {channel}.", channel=channel_name(turn.t, channel)),
        edit=True,
    )
