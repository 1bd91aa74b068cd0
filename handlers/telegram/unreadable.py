"""Messages the bot cannot take as an answer: an edit of an earlier message (it would be
read as a fresh answer to whatever question is open now), a command sent anonymously (a
group's anonymous administrator, a channel: nobody to check the rights of), a sticker,
photo, voice note or file where text is expected, and a volunteer's command sent in a
group. Each gets a short hint instead of silence."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from telegram import Update
from telegram.ext import BaseHandler, CommandHandler, MessageHandler, filters

from handlers.telegram.common import RenfortContext, reply

PRIVATE = filters.ChatType.PRIVATE


async def on_edited(update: Update, context: RenfortContext) -> None:
    """An edited message: say that edits are not read, in private chats only (in a group
    everyone would see the hint)."""
    if context.turn.private:
        t = context.turn.t
        await reply(
            update,
            context,
            t._("I don't read edited messages. Please send your answer again as a new message."),
        )


async def on_anonymous(update: Update, context: RenfortContext) -> None:
    """A command signed by a group or channel rather than a person."""
    t = context.turn.t
    await reply(
        update,
        context,
        t._(
            "I cannot tell who sent this command: it was sent anonymously. Please send it"
            " from your own account (in the group settings, turn off 'Remain anonymous')."
        ),
    )


async def on_unreadable(update: Update, context: RenfortContext) -> None:
    """A sticker, photo, voice note, file… in a private chat: say what the bot reads."""
    t = context.turn.t
    await reply(
        update,
        context,
        t._(
            "I can only read text (and your location or phone number when I ask for them)."
            " Please type your answer, or send /help."
        ),
    )


async def on_private_command(update: Update, context: RenfortContext) -> None:
    """A command of the private chat sent in a group: where to send it instead."""
    message = update.effective_message
    command = (message.text or "").split()[0].split("@")[0] if message is not None else ""
    t = context.turn.t
    text = t._(
        "Send {command} to me in a private chat: @{bot}", command=command, bot=context.bot.username
    )
    await reply(update, context, text)


# First of the main group: an edit must not reach the handlers of fresh messages, nor an
# anonymous command the handlers that check who sent it.
FIRST_HANDLERS: list[BaseHandler[Any, RenfortContext, Any]] = [
    MessageHandler(filters.UpdateType.EDITED, on_edited),
    # Before the commands: each of them needs to know the person who sent it.
    MessageHandler(filters.COMMAND & filters.SenderChat.ALL, on_anonymous),
]
# Last of the main group: whatever no other handler took in a private chat.
FALLBACK_HANDLERS: list[BaseHandler[Any, RenfortContext, Any]] = [
    MessageHandler(
        PRIVATE & filters.UpdateType.MESSAGE & ~filters.TEXT & ~filters.StatusUpdate.ALL,
        on_unreadable,
    ),
]


def private_commands(handlers: Iterable[BaseHandler[Any, RenfortContext, Any]]) -> list[str]:
    """The commands `handlers` answer in a private chat only: what they show (missions near
    home, one's applications, profile, data) is the sender's own, not the group's. Read
    from the wiring, so a new private command is pointed to from a group as well."""
    commands = [h for h in handlers if isinstance(h, CommandHandler)]
    private = {c for h in commands if h.filters is PRIVATE for c in h.commands}
    elsewhere = {c for h in commands if h.filters is not PRIVATE for c in h.commands}
    return sorted(private - elsewhere)


def group_pointer(
    handlers: Iterable[BaseHandler[Any, RenfortContext, Any]],
) -> BaseHandler[Any, RenfortContext, Any]:
    """The private chat's commands sent in a group: told where to send them instead."""
    return CommandHandler(
        private_commands(handlers), on_private_command, filters=filters.ChatType.GROUPS
    )
