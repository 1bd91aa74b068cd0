"""What every Telegram callback shares: the turn (who wrote, in which language, the inbound
id that makes the update count once), replies with database-backed buttons, and friendly
words for every refusal a service can give."""

from __future__ import annotations

import html
import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Message, Update
from telegram.constants import ChatType, ParseMode
from telegram.error import BadRequest, Forbidden, TelegramError
from telegram.ext import Application, ApplicationHandlerStop, CallbackContext, ExtBot

from bot.buttons import Button, Payload, save_buttons
from bot.i18n import Translator
from bot.runtime import Renfort
from bot.services import people
from bot.services.errors import ServiceError
from bot.services.people import Person
from storage.database import (
    AlreadyProcessed,
    Inbound,
    is_processed,
    load_conversation,
    mark_processed,
)

log = logging.getLogger(__name__)
CHANNEL = "telegram"
RENFORT_KEY = "renfort"
TURNS_KEY = "turns"  # update_id -> Turn, for the error handler's fresh context


@dataclass
class Turn:
    """One update being handled: who, in which language, and its bookkeeping."""

    inbound: Inbound
    person: Person | None
    t: Translator
    now: datetime
    chat_id: int | None
    private: bool
    state: str | None
    data: dict[str, Any]
    payload: Payload | None = None

    @property
    def me(self) -> Person:
        if self.person is None:
            raise RuntimeError("this update has no sender")
        return self.person


class RenfortContext(CallbackContext[ExtBot[None], dict[Any, Any], dict[Any, Any], dict[Any, Any]]):
    """The callback context, with the running service and the current turn."""

    turn: Turn

    @property
    def renfort(self) -> Renfort:
        value = self.application.bot_data[RENFORT_KEY]
        assert isinstance(value, Renfort)
        return value


RenfortApplication = Application[
    ExtBot[None], RenfortContext, dict[Any, Any], dict[Any, Any], dict[Any, Any], Any
]


async def begin_turn(update: Update, context: RenfortContext) -> None:
    """Skip updates already handled; find the sender, their language and conversation."""
    renfort = context.renfort
    inbound = Inbound(CHANNEL, str(update.update_id))
    if await is_processed(renfort.db, CHANNEL, inbound.external_id):
        log.info("update %s already handled, skipped", update.update_id)
        renfort.metrics.count("inbound_duplicates_total", channel=CHANNEL)
        raise ApplicationHandlerStop
    renfort.metrics.count("inbound_total", help_text="Inbound messages", channel=CHANNEL)
    user, chat = update.effective_user, update.effective_chat
    private = chat is not None and chat.type == ChatType.PRIVATE
    person = None
    if user is not None and not user.is_bot:
        person = await people.ensure_telegram_person(
            renfort.db,
            telegram_user_id=user.id,
            chat_id=chat.id if private and chat is not None else None,
            first_name=user.first_name,
            language_code=user.language_code,
        )
    state: str | None = None
    data: dict[str, Any] = {}
    if chat is not None:
        inbound.conversation_key = conversation_key(chat.id, user.id if user else None, private)
        stored = await load_conversation(renfort.db, CHANNEL, inbound.conversation_key)
        if stored is not None:
            state, data = stored
    t = renfort.translator(person.locale if person else None, user.language_code if user else None)
    context.turn = context.application.bot_data.setdefault(TURNS_KEY, {})[update.update_id] = Turn(
        inbound=inbound,
        person=person,
        t=t,
        now=renfort.now(),
        chat_id=chat.id if chat else None,
        private=private,
        state=state,
        data=data,
    )


def conversation_key(chat_id: int, user_id: int | None, private: bool) -> str:
    """One conversation per private chat; in a group, one per person in it."""
    return str(chat_id) if private or user_id is None else f"{chat_id}:{user_id}"


async def end_turn(update: Update, context: RenfortContext) -> None:
    """Record the update as handled (if no service did) and save the conversation state."""
    turn = context.application.bot_data.get(TURNS_KEY, {}).pop(update.update_id, None)
    if turn is not None:
        await mark_processed(context.renfort.db, turn.inbound)


async def on_error(update: object, context: RenfortContext) -> None:
    """Log with context and tell the person politely; never let one update stop the bot."""
    error = context.error
    if isinstance(error, AlreadyProcessed):
        return
    # python-telegram-bot hands the error handler a fresh context: find the turn by id.
    turn = None
    if isinstance(update, Update):
        turn = context.application.bot_data.get(TURNS_KEY, {}).get(update.update_id)
    if isinstance(error, ServiceError) and turn is not None and isinstance(update, Update):
        await reply(update, context, refusal_text(turn.t, error))
        return
    log.error("error while handling %r", update, exc_info=error)
    context.renfort.metrics.count("handler_errors_total", help_text="Unexpected handler errors")
    if isinstance(update, Update) and update.effective_chat is not None:
        t = turn.t if turn is not None else context.renfort.translator(None)
        try:
            await context.bot.send_message(
                update.effective_chat.id,
                t._("Sorry, something went wrong on our side. Please try again in a moment."),
            )
        except TelegramError:
            log.warning("could not apologise in chat %s", update.effective_chat.id)


async def keyboard(renfort: Renfort, rows: list[list[Button]]) -> InlineKeyboardMarkup | None:
    """Inline keyboard whose callback data are tokens stored in the database."""
    rows = [row for row in rows if row]
    if not rows:
        return None
    callbacks = [[b for b in row if b.url is None] for row in rows]
    stored = await save_buttons(renfort.db, callbacks)
    tokens = iter(token for row in stored for _label, token in row)
    markup: list[list[InlineKeyboardButton]] = []
    for row in rows:
        markup.append(
            [
                InlineKeyboardButton(b.label, url=b.url)
                if b.url
                else InlineKeyboardButton(b.label, callback_data=next(tokens))
                for b in row
            ]
        )
    return InlineKeyboardMarkup(markup)


async def reply(
    update: Update,
    context: RenfortContext,
    text: str,
    buttons: list[list[Button]] | None = None,
    *,
    edit: bool = False,
) -> Message | None:
    """Answer the sender: edit the message whose button was tapped, or send a new one."""
    markup = await keyboard(context.renfort, buttons or [])
    query = update.callback_query
    if edit and query is not None and isinstance(query.message, Message):
        try:
            edited = await query.message.edit_text(
                text, reply_markup=markup, parse_mode=ParseMode.HTML
            )
            return edited if isinstance(edited, Message) else None
        except BadRequest as error:
            if "not modified" in str(error).lower():
                return query.message
            log.info("could not edit, sending instead: %s", error)
    chat = update.effective_chat
    if chat is None:
        return None
    try:
        return await context.bot.send_message(
            chat.id, text, reply_markup=markup, parse_mode=ParseMode.HTML
        )
    except Forbidden:
        log.info("chat %s blocked the bot before our reply", chat.id)
        return None


def esc(value: object) -> str:
    """Escape a value for Telegram's HTML parse mode."""
    return html.escape(str(value), quote=False)


def refusal_text(t: Translator, error: ServiceError) -> str:
    """A service's refusal, in the person's words."""
    d = error.details
    messages = {
        "not_registered": t._("Please finish registering first: send /start."),
        "slot_not_found": t._("This slot no longer exists."),
        "mission_not_found": t._("This mission no longer exists."),
        "application_not_found": t._("This application no longer exists."),
        "mission_closed": t._("This mission is closed now; send /missions to see others."),
        "slot_started": t._("This slot has already started; send /missions to see others."),
        "slot_over": t._("This slot is already over."),
        "slot_cancelled": t._("This slot is cancelled; send /missions to see others."),
        "already_applied": t._("You have already applied for this slot; see /mymissions."),
        "overlap": t._(
            "You are already committed at that time ({mission}). Cancel it first in /mymissions.",
            mission=esc(d.get("mission_title", "")),
        ),
        "not_active": t._("This application is no longer active."),
        "conditions_unconfirmed": t._(
            "This mission asks you to confirm its conditions first: tap its slot again."
        ),
        "not_member": t._("Only coordinators of this organisation can do that."),
        "invite_code": t._("This invite code is not valid. Check it with your organisation."),
        "chat_linked_elsewhere": t._(
            "This group is already the admin group of another organisation."
        ),
        "first_name": t._("Please type your first name (letters)."),
        "person_not_found": t._("Please send /start first."),
        "phone": t._("This does not look like a phone number I can text."),
        "phone_taken": t._("This number is already linked to another Telegram account."),
        "not_referent": t._("Only a referent of a territory can alert its volunteers."),
        "outside_territory": t._("This place is outside your territory."),
        "alert_text": t._("Please type 3 to 200 characters."),
        "alert_not_found": t._("This alert no longer exists. Thank you!"),
        "offer_not_found": t._("This offer no longer exists."),
        "volunteer_blocked": t._(
            "This volunteer does not wish to hear from your organisation: no slot can be"
            " offered to them."
        ),
        "already_offered": t._("You already offered this slot to this volunteer."),
        "slot_full": t._("This slot is full now."),
    }
    return messages.get(error.code, t._("Sorry, that is not possible right now."))


async def answer_query(update: Update, text: str | None = None) -> None:
    """Stop the button's spinner (Telegram asks for an answer to every tap)."""
    if update.callback_query is not None:
        try:
            await update.callback_query.answer(text)
        except TelegramError as error:
            log.debug("callback answer failed: %s", error)


def person_required(turn: Turn) -> Person:
    if turn.person is None:
        raise ApplicationHandlerStop
    return turn.person


async def refresh_person(context: RenfortContext) -> Person:
    """Reload the sender after a service changed them."""
    person = await people.get_person(context.renfort.db, context.turn.me.id)
    context.turn.person = person
    context.turn.t = context.renfort.translator(person.locale, person.telegram_language)
    return person
