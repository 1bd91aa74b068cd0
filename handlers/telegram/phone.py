"""A volunteer known by Telegram adds their phone number (Telegram's contact button) so
that SMS can reach them when Telegram cannot: one person, two channels, one history."""

from __future__ import annotations

from telegram import KeyboardButton, ReplyKeyboardMarkup, ReplyKeyboardRemove, Update

from bot.services import phones
from handlers.telegram import registration
from handlers.telegram.common import RenfortContext, refresh_person
from handlers.telegram.flow import send_with_keyboard


async def ask_for_phone(update: Update, context: RenfortContext) -> None:
    """Explain what the number is for, and offer Telegram's share-contact button."""
    t = context.turn.t
    text = t._(
        "If Telegram cannot reach you (no data, phone changed), I can send the same messages"
        " by SMS. Other volunteers never see your number, and an organisation sees it only if"
        " you allow that organisation. Tap the button below to share it, or ignore this"
        " message."
    )
    keyboard = ReplyKeyboardMarkup(
        [[KeyboardButton("📱 " + t._("Share my phone number"), request_contact=True)]],
        resize_keyboard=True,
        one_time_keyboard=True,
    )
    await send_with_keyboard(update, context, text, keyboard)


async def on_contact(update: Update, context: RenfortContext) -> None:
    """A shared contact: the sender's own number is kept for SMS, anyone else's refused."""
    message = update.effective_message
    user = update.effective_user
    if message is None or message.contact is None or user is None:
        return
    t = context.turn.t
    if message.contact.user_id != user.id:
        # A contact card of someone else: we only keep numbers people give for themselves.
        await send_with_keyboard(
            update,
            context,
            t._("Please share your own number with the button, not someone else's."),
            ReplyKeyboardRemove(),
        )
        return
    await phones.link_phone(
        context.renfort.db,
        context.turn.me.id,
        message.contact.phone_number,
        inbound=context.turn.inbound,
    )
    await refresh_person(context)
    done = context.turn.t._(
        "📱 Thank you. If Telegram cannot reach you, I will write by SMS. Your number stays"
        " private: I will ask you before any organisation may see it. To stop SMS at any"
        " time, reply STOP to one of them."
    )
    await send_with_keyboard(update, context, done, ReplyKeyboardRemove())
    if context.turn.state in registration.REGISTRATION_STATES:
        # Shared in the middle of registering: the question it interrupted comes back.
        await registration.resume(update, context)
