"""What every Telegram callback shares: the turn (who wrote, in which language, the inbound
id that makes the update count once), replies with database-backed buttons, and friendly
words for every refusal a service can give."""

from __future__ import annotations

import copy
import logging
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, NoReturn, TypeVar

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Message, Update
from telegram.constants import ChatType, ParseMode
from telegram.error import BadRequest, Forbidden, TelegramError
from telegram.ext import Application, ApplicationHandlerStop, CallbackContext, ExtBot

from bot.buttons import Button, Payload, save_buttons
from bot.conversation import answers
from bot.conversation.answers import Question
from bot.i18n import Translator
from bot.messaging.message import Pin
from bot.runtime import Renfort
from bot.services import people
from bot.services.errors import ServiceError
from bot.services.organisations import Organisation
from bot.services.people import Person
from bot.services.turns import TelegramSender, start_turn
from bot.text import clean_text
from handlers.telegram.limits import split_html
from handlers.telegram.map_link import map_button
from handlers.telegram.render.shared import esc as esc
from storage.database import (
    AlreadyProcessed,
    Inbound,
    TransactionCounts,
    mark_processed,
    turn_costs,
)

log = logging.getLogger(__name__)
CHANNEL = "telegram"
RENFORT_KEY = "renfort"
TURNS_KEY = "turns"  # update_id -> Turn, for the error handler's fresh context
HANDLED_KEY = "handled_updates"
Answer = TypeVar("Answer")


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
    started: float = field(default_factory=time.perf_counter)  # for the latency histogram
    # The organisations the sender coordinated when the turn began (read with the rest).
    memberships: tuple[Organisation, ...] = ()
    # The territories the sender was a referent of when the turn began.
    territories: tuple[str, ...] = ()
    # The conversation as stored when the turn began (handlers may change state and data
    # above to chain steps): a move back to it writes nothing.
    stored: tuple[str | None, dict[str, Any]] = (None, {})

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


# What every handler of an update is.
Callback = Callable[[Update, RenfortContext], Awaitable[None]]


RenfortApplication = Application[
    ExtBot[None], RenfortContext, dict[Any, Any], dict[Any, Any], dict[Any, Any], Any
]


async def begin_turn(update: Update, context: RenfortContext) -> None:
    """Skip updates already handled; find the sender, their language, conversation and the
    tapped button, in one read."""
    renfort = context.renfort
    started = time.perf_counter()
    if update.update_id in handled_updates(context.application.bot_data):
        # A turn that changed nothing leaves no row to find: a repeat (a webhook retry) is
        # caught here instead, in the process that answered it.
        skip_repeat(renfort, update.update_id)
    turn_costs.set(TransactionCounts())  # this update's own task: its cost alone
    inbound = Inbound(CHANNEL, str(update.update_id))
    user, chat = update.effective_user, update.effective_chat
    private = chat is not None and chat.type == ChatType.PRIVATE
    sender = None
    if user is not None and not user.is_bot:
        sender = TelegramSender(
            user_id=user.id,
            chat_id=chat.id if private and chat is not None else None,
            first_name=clean_text(user.first_name),
            # An IETF tag such as "fr" or "pt-br"; anything longer is not one.
            language_code=(user.language_code or "")[:16] or None,
        )
    if chat is not None:
        inbound.conversation_key = conversation_key(chat.id, user.id if user else None, private)
    query = update.callback_query
    start = await start_turn(
        renfort.db,
        channel=CHANNEL,
        external_id=inbound.external_id,
        sender=sender,
        conversation_key=inbound.conversation_key,
        button_token=query.data if query is not None else None,
    )
    if start.already_handled:
        skip_repeat(renfort, update.update_id)
    inbound.sender_changes = start.sender_changes
    renfort.metrics.count("inbound_total", help_text="Inbound messages", channel=CHANNEL)
    person = start.person
    state, data = start.conversation if start.conversation is not None else (None, {})
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
        started=started,
        payload=start.payload,
        memberships=start.memberships,
        territories=start.territories,
        stored=(state, copy.deepcopy(data)),
    )


def skip_repeat(renfort: Renfort, update_id: int) -> NoReturn:
    """Stop handling an update this bot has already answered."""
    log.info("update %s already handled, skipped", update_id)
    renfort.metrics.count("inbound_duplicates_total", channel=CHANNEL)
    raise ApplicationHandlerStop


def payload_int(context: RenfortContext, key: str) -> int:
    """A whole number the tapped button carries (0 when it carries none)."""
    payload = context.turn.payload
    value = payload.data.get(key) if payload else None
    return value if isinstance(value, int) else 0


def confirmed_conditions(context: RenfortContext) -> list[str]:
    """The conditions confirmed so far on the way to the tapped button."""
    payload = context.turn.payload
    value = payload.data.get("ok") if payload is not None else None
    return [str(c) for c in value] if isinstance(value, list) else []


async def answer_tapped(
    context: RenfortContext, question: Question[Answer], yes: bool, confirmed: Sequence[str] = ()
) -> Answer:
    """The tapper's yes or no to the question the button stands under (an offer, a callout,
    an alert, "still coming?"), recorded with the turn."""
    turn = context.turn
    return await answers.answer(
        context.renfort.db,
        person_id=turn.me.id,
        question=question,
        yes=yes,
        now=turn.now,
        inbound=turn.inbound,
        confirmed=confirmed,
    )


def conversation_key(chat_id: int, user_id: int | None, private: bool) -> str:
    """One conversation per private chat; in a group, one per person in it."""
    return str(chat_id) if private or user_id is None else f"{chat_id}:{user_id}"


async def end_turn(update: Update, context: RenfortContext) -> None:
    """Save a conversation move, or what Telegram told about the sender, that no service
    wrote; a turn that changed nothing writes nothing (repeating it would change nothing
    either)."""
    turn = context.application.bot_data.get(TURNS_KEY, {}).pop(update.update_id, None)
    if turn is not None and (moves_conversation(turn) or turn.inbound.sender_changes):
        await mark_processed(context.renfort.db, turn.inbound)
    if turn is not None:
        context.renfort.metrics.observe(
            "handler_seconds",
            time.perf_counter() - turn.started,
            help_text="Time to handle one inbound message",
            channel=CHANNEL,
        )
    handled_updates(context.application.bot_data).add(update.update_id)


def update_ids(update: object) -> str:
    """'update 12 (chat 34, user 34)': enough to find it again, nothing anyone wrote."""
    if not isinstance(update, Update):
        return type(update).__name__
    chat, user = update.effective_chat, update.effective_user
    return (
        f"update {update.update_id} (chat {chat.id if chat else '-'},"
        f" user {user.id if user else '-'})"
    )


def moves_conversation(turn: Turn) -> bool:
    """Whether the turn decided a conversation state that is not stored yet."""
    inbound = turn.inbound
    if not inbound.unsaved:
        return False
    stored_state, stored_data = turn.stored
    if inbound.clear_state:
        return stored_state is not None
    return (inbound.next_state, inbound.next_data) != (stored_state, stored_data)


class HandledUpdates:
    """The ids of the updates this process finished lately: a turn that changed nothing
    leaves no trace in the database, so repeats of it are recognised here (and the sandbox
    console waits on them)."""

    KEEP = 1000

    def __init__(self) -> None:
        self._ids: dict[int, None] = {}

    def add(self, update_id: int) -> None:
        self._ids[update_id] = None
        if len(self._ids) > self.KEEP:
            del self._ids[next(iter(self._ids))]

    def __contains__(self, update_id: object) -> bool:
        return update_id in self._ids


def handled_updates(bot_data: dict[Any, Any]) -> HandledUpdates:
    found = bot_data.setdefault(HANDLED_KEY, HandledUpdates())
    assert isinstance(found, HandledUpdates)
    return found


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
    # Ids only: the update itself carries what people wrote and the phone numbers they shared.
    log.error("error while handling %s", update_ids(update), exc_info=error)
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
    place: Pin | None = None,
) -> Message | None:
    """Answer the sender: edit the message whose button was tapped, or send a new one
    (several when the text is longer than one Telegram message, the buttons under the last:
    an edit too long keeps the first part, the rest follows). A `place` adds its map button
    on a row of its own, last."""
    rows = list(buttons or [])
    if place is not None:
        rows.append([map_button(context.turn.t, place)])
    markup = await keyboard(context.renfort, rows)
    query = update.callback_query
    parts = split_html(text)
    if edit and query is not None and isinstance(query.message, Message):
        # Cut to one message, the lines beyond it would be lost under buttons that still
        # name them (a long /mymissions): they follow in messages of their own.
        whole = len(parts) == 1
        try:
            edited = await query.message.edit_text(
                parts[0], reply_markup=markup if whole else None, parse_mode=ParseMode.HTML
            )
            if whole:
                return edited if isinstance(edited, Message) else None
            parts = parts[1:]
        except BadRequest as error:
            if "not modified" not in str(error).lower():
                log.info("could not edit, sending instead: %s", error)
            elif whole:
                return query.message
            else:
                parts = parts[1:]
    chat = update.effective_chat
    if chat is None:
        return None
    *first, last = parts
    try:
        for part in first:
            await context.bot.send_message(chat.id, part, parse_mode=ParseMode.HTML)
        return await context.bot.send_message(
            chat.id, last, reply_markup=markup, parse_mode=ParseMode.HTML
        )
    except Forbidden:
        log.info("chat %s blocked the bot before our reply", chat.id)
        return None


def typed_text(update: Update) -> str:
    """What the person typed, without control characters: every handler reads text here."""
    message = update.effective_message
    return clean_text(message.text or "") if message is not None else ""


def command_argument(context: RenfortContext) -> str:
    """The words after a command, joined, without control characters."""
    return clean_text("".join(context.args or []))


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
        "phone_landline": t._(
            "This is a landline number: it cannot receive SMS. Please share a mobile number."
        ),
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


async def refresh_person(context: RenfortContext) -> Person:
    """Reload the sender after a service changed them."""
    person = await people.get_person(context.renfort.db, context.turn.me.id)
    context.turn.person = person
    context.turn.t = context.renfort.translator(person.locale, person.telegram_language)
    return person
