"""What the volunteer's modules share: moving the conversation only when a service call
succeeds, the keyboard that asks for a location, the list of commands, the names of the
buttons one module shows and another answers, what a tapped button carries."""

from __future__ import annotations

import functools
from collections.abc import Callable, Coroutine, Iterator
from contextlib import contextmanager, suppress
from typing import Any

from telegram import KeyboardButton, ReplyKeyboardMarkup, ReplyKeyboardRemove, Update
from telegram.constants import ParseMode
from telegram.error import Forbidden

from bot.domain import DOMAINS
from bot.i18n import Translator
from bot.services import organisations
from bot.services.errors import ServiceError
from bot.services.organisations import Organisation
from bot.services.people import Person
from handlers.telegram.common import (
    RenfortContext,
    Turn,
    answer_query,
    esc,
    refusal_text,
    reply,
    typed_text,
)
from handlers.telegram.limits import fit_html
from storage.database import Inbound

# What python-telegram-bot's handlers accept: an `async def` callback.
Step = Callable[[Update, RenfortContext], Coroutine[Any, Any, None]]

# Button actions shown by one module and answered by another.
PICK_SLOT = "vol.pick_slot"
SHOW_LIST = "vol.list"
SET_LANGUAGE = "vol.lang"
INTERESTS_SAVED = "vol.interests_saved"

# Conversation states whose free text edits the profile; a command abandons them.
PROFILE_NAME, PROFILE_PLACE = "profile:name", "profile:place"


@contextmanager
def moving(turn: Turn, state: str | None, **data: Any) -> Iterator[Inbound]:
    """The turn's inbound, set to move the conversation to `state`; a refusal from the
    service leaves the conversation where it was (end_turn would otherwise save the move)."""
    inbound = turn.inbound.goto(state, **data)
    try:
        yield inbound
    except ServiceError:
        inbound.forget_state()
        raise


def polite(callback: Step) -> Step:
    """Answer a service's refusal in the person's words. The application's error handler
    cannot: python-telegram-bot gives it a fresh context, without the turn."""

    @functools.wraps(callback)
    async def answering(update: Update, context: RenfortContext) -> None:
        try:
            await callback(update, context)
        except ServiceError as error:
            await answer_query(update)
            await reply(update, context, refusal_text(context.turn.t, error))

    return answering


def leave_profile_edit(turn: Turn) -> None:
    """A command typed while we wait for a new name or place means 'never mind'."""
    if turn.state in (PROFILE_NAME, PROFILE_PLACE):
        turn.inbound.goto(None)


def tapped_choice(turn: Turn, subject: str, choice: str) -> tuple[int, bool] | None:
    """The id and the yes or no a two-way button carries (👍/👎, present/absent, show/hide
    the phone number); None when the button is not one this version drew."""
    data = turn.payload.data if turn.payload else {}
    subject_id, chosen = data.get(subject), data.get(choice)
    if not isinstance(subject_id, int) or not isinstance(chosen, bool):
        return None
    return subject_id, chosen


async def tapped_organisation(context: RenfortContext) -> Organisation | None:
    """The organisation a button names, if the tapper still coordinates it."""
    payload = context.turn.payload
    wanted = payload.data.get("organisation_id") if payload else None
    mine = await organisations.memberships(context.renfort.db, context.turn.me.id)
    return next((o for o in mine if o.id == wanted), None)


def message_text(update: Update) -> str:
    return typed_text(update).strip()


def checked(label: str, on: bool) -> str:
    return f"✓ {label}" if on else label


def location_keyboard(t: Translator) -> ReplyKeyboardMarkup:
    """Telegram's own 'share my location' button; typing a place stays possible."""
    return ReplyKeyboardMarkup(
        [[KeyboardButton("📍 " + t._("Share my location"), request_location=True)]],
        resize_keyboard=True,
        one_time_keyboard=True,
        input_field_placeholder=t._("Postcode or town"),
    )


async def send_with_keyboard(
    update: Update,
    context: RenfortContext,
    text: str,
    markup: ReplyKeyboardMarkup | ReplyKeyboardRemove,
) -> None:
    """A message carrying a reply keyboard (common.reply only builds inline buttons)."""
    chat = update.effective_chat
    if chat is None:
        return
    # If they blocked the bot meanwhile there is nobody to tell.
    with suppress(Forbidden):
        await context.bot.send_message(
            chat.id, fit_html(text), reply_markup=markup, parse_mode=ParseMode.HTML
        )


def home_area(t: Translator, person: Person) -> str:
    if person.home is None:
        return t._("not set yet")
    if person.town:
        return esc(f"{person.town} ({person.postcode})" if person.postcode else person.town)
    return t._("the location you shared")


def interests_text(t: Translator, person: Person) -> str:
    # Every domain is what finishing a registration gives someone who ticked none.
    if not person.interests or set(DOMAINS) <= set(person.interests):
        return t._("everything")
    return esc(", ".join(t._(DOMAINS[key]) for key in person.interests if key in DOMAINS))


def radius_text(t: Translator, radius_km: int | None) -> str:
    return t._("everywhere") if radius_km is None else t._("{km} km", km=radius_km)


def radius_button(t: Translator, radius_km: int | None) -> str:
    return "🌍 " + t._("Everywhere") if radius_km is None else t._("{km} km", km=radius_km)


def commands_text(t: Translator, registered: bool) -> str:
    lines = [
        t._("/missions — find missions near you"),
        t._("/mymissions — your applications"),
        t._("/profile — your details"),
        t._("/lang — language"),
        t._("/calendar — your commitments for your calendar"),
        t._("/block — stop messages from an organisation"),
        t._("/mydata — everything stored about you; /forget — erase it"),
        t._("/help — this help"),
    ]
    if not registered:
        lines.insert(0, t._("/start — register (one minute)"))
    return "\n".join(lines)
