"""All Telegram wiring in one place: which update goes to which callback."""

from __future__ import annotations

import logging
from typing import Any

from telegram import Update
from telegram.ext import (
    Application,
    ApplicationBuilder,
    BaseHandler,
    CallbackQueryHandler,
    ContextTypes,
    ExtBot,
    MessageHandler,
    TypeHandler,
    Updater,
    filters,
)

from bot.runtime import Renfort
from handlers.telegram import organiser, privacy, relay, unreadable, volunteer
from handlers.telegram.bot_api import telegram_bot
from handlers.telegram.chat_order import ChatOrderedProcessor
from handlers.telegram.common import (
    RENFORT_KEY,
    Callback,
    RenfortApplication,
    RenfortContext,
    answer_query,
    begin_turn,
    end_turn,
    on_error,
)
from handlers.telegram.transport import AiohttpRequest

log = logging.getLogger(__name__)

BEGIN_GROUP, MAIN_GROUP, END_GROUP = -1, 0, 1

# Every conversation state and every button action, by name, from each role's module.
STATES: dict[str, Callback] = {**volunteer.STATES, **organiser.STATES, **relay.STATES}
ACTIONS: dict[str, Callback] = {
    **volunteer.ACTIONS,
    **organiser.ACTIONS,
    **relay.ACTIONS,
    **privacy.ACTIONS,
}


async def on_button(update: Update, context: RenfortContext) -> None:
    """Resolve the tapped button's token in the database and run its action."""
    payload = context.turn.payload  # resolved with the rest of the turn's reads
    action = ACTIONS.get(payload.action) if payload else None
    if payload is None or action is None:
        await answer_query(
            update, context.turn.t._("This button has expired. Send /help to start again.")
        )
        return
    context.turn.payload = payload
    await action(update, context)


async def on_text(update: Update, context: RenfortContext) -> None:
    """Free text: the answer to the current conversation step, else a short help."""
    state = context.turn.state
    handler = STATES.get(state) if state else None
    if handler is None:
        if await relay.answered_relay(update, context):  # a reply to a relayed message
            return
        handler = volunteer.help_command if context.turn.private else organiser.group_text
    await handler(update, context)


def feature_handlers() -> list[BaseHandler[Any, RenfortContext, Any]]:
    commands = [*organiser.HANDLERS, *volunteer.HANDLERS, *relay.HANDLERS, *privacy.HANDLERS]
    return [
        *unreadable.FIRST_HANDLERS,
        *commands,
        CallbackQueryHandler(on_button),
        MessageHandler(filters.TEXT & ~filters.COMMAND, on_text),
        MessageHandler(filters.COMMAND & filters.ChatType.PRIVATE, volunteer.help_command),
        *unreadable.FALLBACK_HANDLERS,
        unreadable.group_pointer(commands),
    ]


def wire(application: RenfortApplication, renfort: Renfort) -> RenfortApplication:
    application.bot_data[RENFORT_KEY] = renfort
    application.add_handler(TypeHandler(Update, begin_turn), group=BEGIN_GROUP)
    application.add_handlers(feature_handlers(), group=MAIN_GROUP)
    application.add_handler(TypeHandler(Update, end_turn), group=END_GROUP)
    application.add_error_handler(on_error)
    return application


def build_application(
    renfort: Renfort,
    *,
    with_updater: bool = True,
    polling_request: AiohttpRequest | None = None,
    bot: ExtBot[None] | None = None,
    updater: Updater | None = None,
) -> RenfortApplication:
    """The python-telegram-bot Application, pointed at the configured Bot API server;
    `polling_request` carries its getUpdates calls (one connection by default). Built on
    `updater` when given, one that may already be polling (handlers/telegram/bot_api.py),
    else on `bot` without an updater of its own when it is given."""
    builder: ApplicationBuilder[Any, Any, Any, Any, Any, Any] = (
        Application.builder()
        .context_types(ContextTypes(context=RenfortContext))
        .concurrent_updates(ChatOrderedProcessor())
    )
    if updater is not None:
        builder = builder.updater(updater)
    elif bot is not None:
        builder = builder.bot(bot).updater(None)
    else:
        builder = builder.bot(telegram_bot(renfort.settings, polling_request))
        if not with_updater:
            builder = builder.updater(None)
    application: RenfortApplication = builder.build()
    return wire(application, renfort)
