"""Deciding on applications from the buttons under each one: a tap to approve, two to
refuse with a reason. The message then says who decided and when, with no buttons left,
so a coordinator scrolling the group sees at once what is still to be done."""

from __future__ import annotations

import logging
from zoneinfo import ZoneInfo

from telegram import Bot, Message, Update
from telegram.constants import ParseMode
from telegram.error import BadRequest, Forbidden, TelegramError

from bot.buttons import Button
from bot.domain import AUTOMATIC_REASONS, REFUSAL_REASONS, ApplicationStatus
from bot.i18n import Translator
from bot.runtime import Renfort
from bot.services import applications, people
from bot.services.applications import ApplicationView
from bot.services.errors import NotAllowed, NotFound, ServiceError
from handlers.telegram.common import (
    RenfortContext,
    answer_query,
    esc,
    keyboard,
    refusal_text,
    reply,
)
from handlers.telegram.render import decision_buttons
from storage.database import Database

log = logging.getLogger(__name__)

REFUSE_REASON = "refuse_reason"
REFUSE_BACK = "refuse_back"
REFUSE_WRITE = "refuse_write"  # answered by refusal_note

APPROVED_LIKE = (
    ApplicationStatus.APPROVED,
    ApplicationStatus.CONFIRMED,
    ApplicationStatus.ATTENDED,
    ApplicationStatus.NO_SHOW,
)


async def alert(update: Update, text: str) -> None:
    """A popup only the tapper sees; a refusal shown as a fleeting toast goes unnoticed."""
    query = update.callback_query
    if query is None:
        return
    try:
        await query.answer(text[:200], show_alert=True)
    except TelegramError as error:
        log.debug("callback alert failed: %s", error)


def not_member_text(t: Translator, organisation_name: str) -> str:
    return t._(
        "Only coordinators of {organisation} can decide on its applications. If you are one,"
        " send me /join with your invite code in a private chat.",
        organisation=organisation_name,
    )


def _when(t: Translator, view: ApplicationView) -> str:
    if view.decided_at is None:
        return ""
    local = view.decided_at.astimezone(ZoneInfo(view.timezone))
    return t._("{day} at {time}", day=t.short_date(local), time=t.clock(local))


def outcome_line(t: Translator, view: ApplicationView) -> str:
    """What became of the application, who decided and when (in the mission's zone)."""
    who = esc(view.decided_by_name or "?")
    when = _when(t, view)
    if view.status in APPROVED_LIKE:
        return t._("✅ Approved by {name}, {when}", name=who, when=when)
    if view.status == ApplicationStatus.REFUSED:
        reason = REFUSAL_REASONS.get(view.reason or "", REFUSAL_REASONS["other"])
        if view.decided_by_name is None:  # refused by Renfort itself (the mission closed)
            return t._("❌ Closed automatically, {when} — {reason}", when=when, reason=t._(reason))
        return t._(
            "❌ Refused by {name}, {when} — {reason}", name=who, when=when, reason=t._(reason)
        )
    if view.status == ApplicationStatus.CANCELLED:
        return t._("↩️ Withdrawn by the volunteer")
    if view.status == ApplicationStatus.WAITLISTED:
        return t._("⏳ On the waiting list")
    return t._("⏳ Waiting for a decision")


def no_longer_pending(t: Translator, view: ApplicationView) -> str:
    """Why a tap changed nothing: who decided first, or that the volunteer withdrew."""
    if view.decided_by_name is None:
        return t._("Nothing to decide any more: {outcome}", outcome=outcome_line(t, view))
    return t._("Already decided: {outcome}", outcome=outcome_line(t, view))


async def chat_translator(context: RenfortContext, chat_id: int) -> Translator:
    """Words for whoever reads a chat: the tapper in their private chat, another coordinator
    in theirs, and in a group the service's language, as the dispatcher posted it."""
    turn = context.turn
    if turn.private and chat_id == turn.chat_id:
        return turn.t
    return await reader_translator(context.renfort, chat_id)


async def reader_translator(renfort: Renfort, chat_id: int) -> Translator:
    """Words for whoever reads a chat, when nobody is writing in it now."""
    if chat_id > 0:  # a private chat's id is its user's id
        person = await people.find_by_telegram(renfort.db, chat_id)
        if person is not None:
            return renfort.translator(person.locale, person.telegram_language)
    return renfort.translator(None)


async def _here(context: RenfortContext) -> Translator:
    return await chat_translator(context, context.turn.chat_id or 0)


async def summary(context: RenfortContext, t: Translator, view: ApplicationView) -> str:
    """The application in a few lines: the volunteer's first name only, never a phone."""
    return await summary_of(context.renfort.db, t, view)


async def summary_of(db: Database, t: Translator, view: ApplicationView) -> str:
    volunteer = await people.get_person(db, view.person_id)
    span = t.slot_span(view.starts_at, view.ends_at, ZoneInfo(view.timezone))
    return t._(
        "<b>{mission}</b>\n{slot}\nVolunteer: {name}",
        mission=esc(view.mission_title),
        slot=esc(span),
        name=esc(volunteer.first_name),
    )


async def outcome_text(context: RenfortContext, t: Translator, view: ApplicationView) -> str:
    return await summary(context, t, view) + "\n\n" + outcome_line(t, view)


async def swap_buttons(update: Update, context: RenfortContext, rows: list[list[Button]]) -> None:
    """New buttons under the tapped message, its text untouched: the facts about the
    volunteer stay in view while the coordinator picks a reason."""
    query = update.callback_query
    if query is None:
        return
    try:
        await query.edit_message_reply_markup(await keyboard(context.renfort, rows))
    except BadRequest as error:
        log.info("could not change the buttons: %s", error)


async def show_outcome(update: Update, context: RenfortContext, view: ApplicationView) -> None:
    """Replace the tapped message by the outcome, without buttons."""
    await reply(update, context, await outcome_text(context, await _here(context), view), edit=True)


async def update_copies(update: Update, context: RenfortContext, view: ApplicationView) -> None:
    """Show the decision on the application's other messages too (other admin chats, or
    each coordinator's private chat while no group is linked), so nobody decides twice."""
    query = update.callback_query
    tapped = query.message if query is not None else None
    skip = (tapped.chat.id, tapped.message_id) if isinstance(tapped, Message) else None
    await show_decision(context.bot, context.renfort, view, skip)


async def show_decision(
    bot: Bot, renfort: Renfort, view: ApplicationView, skip: tuple[int, int] | None = None
) -> None:
    """Every message that showed the application to coordinators shows the decision, without
    its buttons (a decision taken on the board as well as one tapped in a chat)."""
    for chat_id, message_id in await applications.posted_copies(renfort.db, view.id):
        if (chat_id, message_id) == skip:
            continue
        t = await reader_translator(renfort, chat_id)
        text = await summary_of(renfort.db, t, view) + "\n\n" + outcome_line(t, view)
        try:
            await bot.edit_message_text(
                text, chat_id=chat_id, message_id=message_id, parse_mode=ParseMode.HTML
            )
        except (BadRequest, Forbidden) as error:
            # Deleted, too old to edit, or the chat is gone: that copy simply stays.
            log.info("could not update application %s in chat %s: %s", view.id, chat_id, error)


async def tapped_application(update: Update, context: RenfortContext) -> ApplicationView | None:
    """The application behind the button, if the tapper may decide on it; else an alert."""
    t = context.turn.t
    payload = context.turn.payload
    application_id = payload.data.get("application_id") if payload else None
    if not isinstance(application_id, int):
        await alert(update, t._("This button has expired. Send /help to start again."))
        return None
    db = context.renfort.db
    try:
        view = await applications.get_application(db, application_id)
    except NotFound as error:
        await alert(update, refusal_text(t, error))
        return None
    if view.organisation_id not in {o.id for o in context.turn.memberships}:
        await alert(update, not_member_text(t, view.organisation_name))
        return None
    return view


async def decide(
    update: Update, context: RenfortContext, view: ApplicationView, reason: str | None
) -> None:
    """Record the decision (approve when reason is None) and show it on the message."""
    t = context.turn.t
    try:
        decision = await applications.decide(
            context.renfort.db,
            application_id=view.id,
            actor_id=context.turn.me.id,
            approve=reason is None,
            reason=reason,
            inbound=context.turn.inbound,
            now=context.turn.now,
        )
    except NotAllowed:
        await alert(update, not_member_text(t, view.organisation_name))
        return
    except ServiceError as error:
        await alert(update, refusal_text(t, error))
        return
    decided = decision.application
    if decision.changed:
        context.renfort.notify_outbox()
        await answer_query(update, t._("Done. The volunteer will be told."))
    else:
        await alert(update, no_longer_pending(t, decided))
    await show_outcome(update, context, decided)
    if decision.changed:
        await update_copies(update, context, decided)


async def approve(update: Update, context: RenfortContext) -> None:
    """Approve the application under the tapped message."""
    view = await tapped_application(update, context)
    if view is not None:
        await decide(update, context, view, reason=None)


async def refuse(update: Update, context: RenfortContext) -> None:
    """Ask for the reason of a refusal, as buttons on the same message."""
    view = await tapped_application(update, context)
    if view is None:
        return
    t = context.turn.t
    if view.status != ApplicationStatus.PENDING:
        await alert(update, no_longer_pending(t, view))
        await show_outcome(update, context, view)
        return
    here = await _here(context)
    buttons = [
        [Button(here._(label), REFUSE_REASON, {"application_id": view.id, "reason": key})]
        for key, label in REFUSAL_REASONS.items()
        if key not in AUTOMATIC_REASONS
    ]
    buttons.append(
        [Button(here._("✍️ Write the reason"), REFUSE_WRITE, {"application_id": view.id})]
    )
    buttons.append([Button(here._("« Back"), REFUSE_BACK, {"application_id": view.id})])
    await answer_query(update, t._("Why? Tap the reason; the volunteer will be told."))
    await swap_buttons(update, context, buttons)


async def refuse_with_reason(update: Update, context: RenfortContext) -> None:
    """Refuse the application for the reason tapped."""
    view = await tapped_application(update, context)
    if view is None:
        return
    payload = context.turn.payload
    reason = payload.data.get("reason") if payload else None
    if not isinstance(reason, str) or reason not in REFUSAL_REASONS:
        reason = "other"
    await decide(update, context, view, reason=reason)


async def refuse_back(update: Update, context: RenfortContext) -> None:
    """Put the Approve and Refuse buttons back: the coordinator changed their mind."""
    view = await tapped_application(update, context)
    if view is None:
        return
    await answer_query(update)
    if view.status != ApplicationStatus.PENDING:
        await show_outcome(update, context, view)
        return
    await swap_buttons(update, context, decision_buttons(await _here(context), view.id))
