"""The organiser: joining an organisation, linking its admin group, deciding on
applications with one tap (admin_group), creating missions in chat (new_mission).

In groups the bot runs in privacy mode and sees only commands and replies to its own
messages, so everything there goes through commands and buttons."""

from __future__ import annotations

from typing import Any

from telegram import Update
from telegram.constants import ChatMemberStatus, ChatType
from telegram.ext import BaseHandler, ChatMemberHandler, CommandHandler, filters

from bot.actions import APPROVE, FEEDBACK, REFUSE, ROSTER_MARK
from bot.buttons import Button
from bot.i18n import Translator
from bot.services import organisations, people
from bot.services.errors import NotAllowed, ServiceError
from bot.services.organisations import Organisation
from handlers.telegram import (
    admin_group,
    alert_answers,
    board_link,
    callout,
    callout_board,
    exports,
    feedback,
    mission_edit,
    mission_edit_new_slots,
    mission_edit_slots,
    moderation,
    new_mission,
    pending,
    posters,
    refusal_note,
    review_queue,
    roster,
    settings,
    stats,
    territory_alert,
)
from handlers.telegram.common import (
    Callback,
    RenfortContext,
    answer_query,
    command_argument,
    esc,
    refusal_text,
    reply,
)
from handlers.telegram.flow import tapped_organisation

LINK_PICK = "link_pick"
ABSENT = (ChatMemberStatus.LEFT, ChatMemberStatus.BANNED)
PRESENT = (ChatMemberStatus.MEMBER, ChatMemberStatus.ADMINISTRATOR)


def _link_command(context: RenfortContext) -> str:
    # "/link@bot" reaches the bot in privacy mode even when other bots share the group.
    return f"/link@{context.bot.username}"


def _next_steps(t: Translator, context: RenfortContext) -> str:
    return t._(
        "Next: add me to your organisation's Telegram group and send {link} there. New"
        " applications will then arrive in that group with Approve and Refuse buttons."
        " To publish a mission, send /newmission here.",
        link=_link_command(context),
    )


async def join_with_code(update: Update, context: RenfortContext, code: str) -> None:
    """Make the sender a coordinator of the organisation the invite code belongs to."""
    t = context.turn.t
    db = context.renfort.db
    me = context.turn.me
    already = {o.id for o in await organisations.memberships(db, me.id)}
    try:
        organisation = await organisations.join(db, me.id, code, inbound=context.turn.inbound)
    except ServiceError as error:
        usage = t._("Send /join followed by the code, for example /join K7M2PQ9X.")
        message = update.effective_message
        if message is not None and (message.text or "").startswith("/start"):
            # A link with a stray payload: the person may simply be a volunteer.
            usage += "\n" + t._("To register as a volunteer instead, send /start.")
        await reply(update, context, refusal_text(t, error) + "\n" + usage)
        return
    name = esc(organisation.name)
    if organisation.id in already:
        welcome = t._("You are already a coordinator of <b>{organisation}</b>.", organisation=name)
    else:
        welcome = t._(
            "Welcome! You are now a coordinator of <b>{organisation}</b>.", organisation=name
        )
    await reply(update, context, welcome + "\n\n" + _next_steps(t, context))


async def join_command(update: Update, context: RenfortContext) -> None:
    """/join CODE: become a coordinator of an organisation."""
    t = context.turn.t
    if not context.turn.private:
        # An invite code typed in a group would be seen by everyone there.
        await reply(update, context, t._("Send /join with your invite code to me privately."))
        return
    code = command_argument(context)
    if not code:
        await reply(
            update,
            context,
            t._(
                "Send /join followed by the invite code your organisation gave you, for"
                " example /join K7M2PQ9X."
            ),
        )
        return
    await join_with_code(update, context, code)


async def _link(
    update: Update, context: RenfortContext, organisation: Organisation, *, edit: bool
) -> None:
    """Make the current group the organisation's admin chat and say what happens next."""
    t = context.turn.t
    chat = update.effective_chat
    if chat is None:
        return
    db = context.renfort.db
    current = await organisations.organisation_of_chat(db, chat.id)
    try:
        await organisations.link_admin_chat(
            db,
            person_id=context.turn.me.id,
            organisation_id=organisation.id,
            chat_id=chat.id,
            title=chat.title,
            inbound=context.turn.inbound,
        )
    except NotAllowed:
        await _refuse_stranger(update, context)
        return
    except ServiceError as error:
        await answer_query(update)
        await reply(update, context, refusal_text(t, error), edit=edit)
        return
    await answer_query(update)
    name = esc(organisation.name)
    if current is not None and current.id == organisation.id:
        text = t._(
            "This group is already the admin group of <b>{organisation}</b>.", organisation=name
        )
    else:
        text = t._(
            "This group is now the admin group of <b>{organisation}</b>. New applications will"
            " appear here; any coordinator of {organisation} can approve or refuse them with"
            " one tap.",
            organisation=name,
        )
    await reply(update, context, text, edit=edit)


def stranger_text(t: Translator, context: RenfortContext) -> str:
    return t._(
        "Only coordinators of an organisation can link this group. If you are one, send me"
        " /join with your invite code in a private chat (@{bot}), then /link here again.",
        bot=context.bot.username,
    )


async def _refuse_stranger(update: Update, context: RenfortContext) -> None:
    text = stranger_text(context.turn.t, context)
    if update.callback_query is not None:
        await admin_group.alert(update, text)
    else:
        await reply(update, context, text)


async def link_command(update: Update, context: RenfortContext) -> None:
    """/link in a group: make it the admin group of the sender's organisation."""
    t = context.turn.t
    if context.turn.private:
        await reply(
            update,
            context,
            t._(
                "Send {link} in your organisation's Telegram group, after adding me to it.",
                link=_link_command(context),
            ),
        )
        return
    mine = await organisations.memberships(context.renfort.db, context.turn.me.id)
    if not mine:
        await _refuse_stranger(update, context)
        return
    if len(mine) == 1:
        await _link(update, context, mine[0], edit=False)
        return
    buttons = [[Button(o.name, LINK_PICK, {"organisation_id": o.id})] for o in mine]
    await reply(update, context, t._("Which organisation is this group for?"), buttons)


async def link_pick(update: Update, context: RenfortContext) -> None:
    """The organisation button under /link's question; the tapper must be a member."""
    chosen = await tapped_organisation(context)
    if chosen is None:
        await _refuse_stranger(update, context)
        return
    await _link(update, context, chosen, edit=True)


async def bot_membership_changed(update: Update, context: RenfortContext) -> None:
    """The bot was added to a group (hint: /link) or blocked in a private chat."""
    change = update.my_chat_member
    if change is None:
        return
    old, new = change.old_chat_member.status, change.new_chat_member.status
    if change.chat.type == ChatType.PRIVATE:
        if new == ChatMemberStatus.BANNED:
            await people.mark_telegram_unreachable(context.renfort.db, change.from_user.id)
        return
    if (
        change.chat.type in (ChatType.GROUP, ChatType.SUPERGROUP)
        and old in ABSENT
        and new in PRESENT
    ):
        t = context.turn.t
        text = t._(
            "Hello! A coordinator sends {link} here to receive the organisation's applications"
            " in this group.",
            link=_link_command(context),
        )
        await reply(update, context, text)


def _group_help(t: Translator, context: RenfortContext) -> str:
    about = t._(
        "In this group I post new applications with Approve and Refuse buttons. A coordinator"
        " links the group with {link}. To join an organisation or create a mission, write to"
        " me privately: @{bot}",
        link=_link_command(context),
        bot=context.bot.username,
    )
    commands = t._(
        "Here, coordinators can use /pending for the applications still waiting for an"
        " answer, /callout to alert volunteers when people are missing, /roster to see who is"
        " coming, /edit to change a mission, and /settings for reminders."
    )
    tools = t._(
        "Also: /message to write to volunteers, /export for a mission's applications,"
        " /stats, /poster to print, /ics for the calendar feed."
    )
    board = t._("/board sends you, privately, a link to the live board in your browser.")
    return about + "\n\n" + commands + "\n" + tools + "\n" + board


async def group_help(update: Update, context: RenfortContext) -> None:
    """/help in a group: what the bot does here."""
    await reply(update, context, _group_help(context.turn.t, context))


async def group_text(update: Update, context: RenfortContext) -> None:
    """Free text in a group: members talk among themselves there, so answer only someone
    replying to one of the bot's messages."""
    message = update.effective_message
    replied = message.reply_to_message if message else None
    if replied and replied.from_user and replied.from_user.id == context.bot.id:
        await reply(update, context, _group_help(context.turn.t, context))


HANDLERS: list[BaseHandler[Any, RenfortContext, Any]] = [
    CommandHandler("join", join_command),
    CommandHandler("link", link_command),
    CommandHandler("newmission", new_mission.new_mission_command),
    CommandHandler("edit", mission_edit.edit_command),
    CommandHandler("settings", settings.settings_command),
    CommandHandler("roster", roster.roster_command),
    CommandHandler("board", board_link.board_command),
    CommandHandler("callout", callout.callout_command),
    CommandHandler("export", exports.export_command),
    CommandHandler("ics", exports.ics_command),
    CommandHandler("stats", stats.stats_command),
    CommandHandler("poster", posters.poster_command),
    CommandHandler("pending", pending.pending_command),
    CommandHandler("review", review_queue.review_command, filters=filters.ChatType.PRIVATE),
    CommandHandler("alert", territory_alert.alert_command),
    *moderation.HANDLERS,
    CommandHandler("help", group_help, filters=filters.ChatType.GROUPS),
    ChatMemberHandler(bot_membership_changed, ChatMemberHandler.MY_CHAT_MEMBER),
]
STATES: dict[str, Callback] = {
    **new_mission.STATES,
    **callout.STATES,
    **moderation.STATES,
    **mission_edit.STATES,
    **mission_edit_slots.STATES,
    **mission_edit_new_slots.STATES,
    refusal_note.REFUSE_NOTE: refusal_note.on_note,
    **territory_alert.STATES,
}
ACTIONS: dict[str, Callback] = {
    APPROVE: admin_group.approve,
    REFUSE: admin_group.refuse,
    admin_group.REFUSE_REASON: admin_group.refuse_with_reason,
    admin_group.REFUSE_BACK: admin_group.refuse_back,
    refusal_note.REFUSE_WRITE: refusal_note.ask_note,
    LINK_PICK: link_pick,
    **new_mission.ACTIONS,
    **settings.ACTIONS,
    **callout.ACTIONS,
    **callout_board.ACTIONS,
    **moderation.ACTIONS,
    **mission_edit.ACTIONS,
    **mission_edit_slots.ACTIONS,
    **mission_edit_new_slots.ACTIONS,
    **territory_alert.ACTIONS,
    **alert_answers.ACTIONS,
    ROSTER_MARK: roster.mark,
    exports.EXPORT_PICK: exports.export_pick,
    posters.POSTER_PICK: posters.poster_pick,
    FEEDBACK: feedback.feedback,  # a volunteer's tap, answered with the roster's follow-up
}
