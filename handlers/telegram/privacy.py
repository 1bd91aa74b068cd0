"""The person's data in Telegram: /mydata sends everything stored about them as a JSON
document; /forget, once confirmed, erases them."""

from __future__ import annotations

from typing import Any

from telegram import InputFile, Update
from telegram.ext import BaseHandler, CommandHandler, filters

from bot.buttons import Button
from bot.messaging.message import Message
from bot.services import privacy
from handlers.telegram.common import Callback, RenfortContext, answer_query, reply

FORGET_YES, FORGET_NO = "privacy.forget", "privacy.keep"


async def mydata_command(update: Update, context: RenfortContext) -> None:
    """/mydata: everything Renfort stores about the sender, as a JSON file."""
    t, chat = context.turn.t, update.effective_chat
    if chat is None:
        return
    answer = Message(
        t._("Everything Renfort stores about you. /forget erases it."),
        document=await privacy.my_data(
            context.renfort.db, person_id=context.turn.me.id, inbound=context.turn.inbound
        ),
    )
    await send_with_document(context, chat.id, answer)


async def send_with_document(context: RenfortContext, chat_id: int, answer: Message) -> None:
    """A message with its document as Telegram shows one: the file itself, under the text."""
    if answer.document is None:
        await context.bot.send_message(chat_id, answer.text)
        return
    document = answer.document
    await context.bot.send_document(
        chat_id, InputFile(document.content, filename=document.filename), caption=answer.text
    )


async def forget_command(update: Update, context: RenfortContext) -> None:
    """/forget: ask before erasing."""
    t = context.turn.t
    text = t._(
        "Erase everything Renfort knows about you? Your applications still to come are"
        " cancelled and your places go to others. This cannot be undone."
    )
    buttons = [
        [
            Button("🗑 " + t._("Yes, erase me"), FORGET_YES),
            Button(t._("No, keep my data"), FORGET_NO),
        ]
    ]
    await reply(update, context, text, buttons)


async def forget_confirmed(update: Update, context: RenfortContext) -> None:
    """The confirmation: erase the person now."""
    t = context.turn.t
    await answer_query(update)
    context.turn.inbound.goto(None)
    await privacy.forget(
        context.renfort.db,
        person_id=context.turn.me.id,
        now=context.turn.now,
        inbound=context.turn.inbound,
    )
    context.renfort.notify_outbox()
    text = t._(
        "Done: your data is erased. If you write to me again, we start afresh. Thank you for"
        " your help!"
    )
    await reply(update, context, text, edit=True)


async def forget_declined(update: Update, context: RenfortContext) -> None:
    """No: nothing changes."""
    await answer_query(update)
    await reply(update, context, context.turn.t._("Nothing was erased."), edit=True)


PRIVATE = filters.ChatType.PRIVATE
HANDLERS: list[BaseHandler[Any, RenfortContext, Any]] = [
    CommandHandler("mydata", mydata_command, filters=PRIVATE),
    CommandHandler("forget", forget_command, filters=PRIVATE),
]
ACTIONS: dict[str, Callback] = {FORGET_YES: forget_confirmed, FORGET_NO: forget_declined}
