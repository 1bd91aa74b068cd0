"""The volunteer's private chat: what each command, button and conversation state runs.

The journeys themselves live in `registration`, `profile`, `discovery` and `applying`;
this module routes to them and answers what nothing else understood."""

from __future__ import annotations

import re
from typing import Any

from telegram import Update
from telegram.ext import BaseHandler, CommandHandler, MessageHandler, filters

from bot.actions import ACCEPT_OFFER, ASK_CANCEL, CALLOUT_NO, CALLOUT_YES, DECLINE_OFFER
from bot.domain import GeoPoint
from handlers.telegram import (
    applying,
    attendance,
    callout_answers,
    channel_choice,
    discovery,
    exports,
    offers,
    phone,
    phone_consent,
    profile,
    registration,
    territory_alert,
)
from handlers.telegram.common import Callback, RenfortContext, command_argument, reply
from handlers.telegram.flow import (
    INTERESTS_SAVED,
    PICK_SLOT,
    PROFILE_NAME,
    PROFILE_PLACE,
    SET_LANGUAGE,
    SHOW_LIST,
    Step,
    commands_text,
    leave_profile_edit,
    polite,
)

MISSION_LINK = re.compile(r"m(\d{1,9})")
PRIVATE = filters.ChatType.PRIVATE


async def help_command(update: Update, context: RenfortContext) -> None:
    """Short help with the commands."""
    turn = context.turn
    leave_profile_edit(turn)
    registered = turn.person is not None and turn.person.registered
    text = turn.t._("Here is what I can do:") + "\n" + commands_text(turn.t, registered)
    if turn.memberships:
        text += "\n\n" + turn.t._(
            "As a coordinator: /pending, /newmission, /edit, /callout, /message, /roster,"
            " /export, /stats, /poster, /ics, /settings — or the same in your admin group."
        )
    if turn.territories:
        text += "\n\n" + turn.t._(
            "As a referent: /review for the missions waiting for you, /verify for the"
            " organisations of your territory, /alert to alert its volunteers."
        )
    await reply(update, context, text)


async def start_command(update: Update, context: RenfortContext) -> None:
    """Register or welcome back; a payload opens a mission (m123) or joins an organisation."""
    payload = command_argument(context)
    link = MISSION_LINK.fullmatch(payload)
    if link is not None:
        await discovery.show_mission(update, context, int(link.group(1)))
        return
    if payload:
        # The organiser's module owns invite codes; it may land after this one.
        from handlers.telegram import organiser

        join = getattr(organiser, "join_with_code", None)
        if join is not None:
            await join(update, context, payload)
            return
    await registration.start_registration(update, context)


async def on_location(update: Update, context: RenfortContext) -> None:
    """A shared location: the answer to 'where do you live?', or a new home area at any
    time, after which the missions are listed from there."""
    message = update.effective_message
    if message is None or message.location is None:
        return
    point = GeoPoint(message.location.latitude, message.location.longitude)
    turn = context.turn
    if turn.state == registration.REG_PLACE:
        await registration.location_shared(update, context, point)
    elif turn.state == PROFILE_PLACE:
        await profile.location_shared(update, context, point)
    elif turn.state in (territory_alert.TA_PLACE, territory_alert.TA_RADIUS):
        await territory_alert.location_shared(update, context, point)
    else:
        # Whatever conversation they are in (another registration step, an organiser's
        # wizard) goes on where it was.
        place = registration.shared_place(point)
        await registration.store_home(update, context, place, turn.state, turn.data)
        if turn.state in registration.REGISTRATION_STATES:
            await registration.resume(update, context)
        else:
            await discovery.show_list(update, context, discovery.Filters())


HANDLERS: list[BaseHandler[Any, RenfortContext, Any]] = [
    CommandHandler("start", polite(start_command), filters=PRIVATE),
    CommandHandler("help", help_command, filters=PRIVATE),
    CommandHandler("missions", polite(discovery.missions_command), filters=PRIVATE),
    CommandHandler("mymissions", polite(applying.mymissions_command), filters=PRIVATE),
    CommandHandler("profile", polite(profile.profile_command), filters=PRIVATE),
    CommandHandler("lang", polite(profile.lang_command), filters=PRIVATE),
    CommandHandler("channel", polite(channel_choice.channel_command), filters=PRIVATE),
    CommandHandler("calendar", polite(exports.calendar_command), filters=PRIVATE),
    MessageHandler(filters.LOCATION & PRIVATE, polite(on_location)),
    MessageHandler(filters.CONTACT & PRIVATE, polite(phone.on_contact)),
]

_STATES: dict[str, Step] = {
    registration.REG_NAME: registration.name_typed,
    registration.REG_PLACE: registration.place_typed,
    registration.REG_INTERESTS: registration.resume,
    PROFILE_NAME: profile.name_typed,
    PROFILE_PLACE: profile.place_typed,
}

_ACTIONS: dict[str, Step] = {
    registration.KEEP_NAME: registration.keep_name,
    registration.TOGGLE_INTEREST: registration.toggle_interest,
    registration.INTERESTS_DONE: registration.interests_done,
    profile.EDIT_FIELD: profile.edit_field,
    profile.SET_RADIUS: profile.set_radius,
    SET_LANGUAGE: profile.set_language,
    channel_choice.CHOOSE_CHANNEL: channel_choice.choose_channel,
    INTERESTS_SAVED: profile.interests_saved,
    SHOW_LIST: discovery.list_button,
    discovery.SHOW_MISSION: discovery.mission_button,
    discovery.CHOOSE_DOMAIN: discovery.choose_domain,
    discovery.LIST_RADIUS: discovery.list_radius,
    PICK_SLOT: applying.pick_slot,
    applying.CONFIRM_APPLY: applying.confirm_apply,
    ASK_CANCEL: applying.ask_cancel,
    applying.CANCEL: applying.cancel,
    applying.MY_MISSIONS: applying.mine_button,
    phone_consent.DECIDE: phone_consent.decide,
    phone_consent.MENU: phone_consent.show_consents,
    attendance.ATTENDANCE_YES: attendance.coming,
    attendance.ATTENDANCE_NO: attendance.not_coming,
    ACCEPT_OFFER: offers.accept,
    DECLINE_OFFER: offers.decline,
    CALLOUT_YES: callout_answers.available,
    CALLOUT_NO: callout_answers.not_available,
}

STATES: dict[str, Callback] = {state: polite(step) for state, step in _STATES.items()}
ACTIONS: dict[str, Callback] = {action: polite(act) for action, act in _ACTIONS.items()}
