"""Relay messaging in Telegram. A coordinator sends /message (in the admin group or
privately), taps the mission, the slot or all, one volunteer or all, and types the text as a
reply to the bot (groups are in privacy mode). Volunteers answer with the Reply button or by
replying to the message; a coordinator answers a volunteer by replying to their message in
the group. /block and /unblock let a volunteer refuse an organisation's messages."""

from __future__ import annotations

from typing import Any
from zoneinfo import ZoneInfo

from telegram import ForceReply, Message, Update
from telegram.constants import ParseMode
from telegram.ext import BaseHandler, CommandHandler, filters

from bot.actions import REPLY_TO_RELAY
from bot.buttons import Button
from bot.i18n import Translator
from bot.services import organisations, relay
from bot.services.errors import NotAllowed, ServiceError
from handlers.telegram.admin_group import alert
from handlers.telegram.common import (
    Callback,
    RenfortContext,
    answer_query,
    esc,
    refusal_text,
    reply,
    typed_text,
)
from handlers.telegram.wizard import advance

RELAY_PICK = "relay_pick"  # buttons shown: mission, slot, volunteer
RELAY_TEXT = "relay_text"  # waiting for the coordinator's text
RELAY_ANSWER = "relay_answer"  # waiting for a volunteer's answer
PICK_MISSION, PICK_SLOT, PICK_PERSON = "relay.mission", "relay.slot", "relay.person"
BLOCK, UNBLOCK = "relay.block", "relay.unblock"
EVERYONE = 0
MAX_BUTTONS = 12


def _button(context: RenfortContext, label: str, action: str, **data: Any) -> Button:
    return Button(label, action, {**data, "by": context.turn.me.id})


async def _mine(update: Update, context: RenfortContext) -> organisations.Organisation | None:
    """The organisation the coordinator writes for: the group's, or their only one."""
    turn, t, db = context.turn, context.turn.t, context.renfort.db
    mine = await organisations.memberships(db, turn.me.id)
    if not turn.private:
        linked = await organisations.organisation_of_chat(db, turn.chat_id or 0)
        if linked is None or linked.id not in {o.id for o in mine}:
            await reply(update, context, refusal_text(t, NotAllowed("not_member")))
            return None
        return linked
    if len(mine) == 1:
        return mine[0]
    text = (
        refusal_text(t, NotAllowed("not_member"))
        if not mine
        else t._("Send /message in the admin group of the organisation you write for.")
    )
    await reply(update, context, text)
    return None


async def message_command(update: Update, context: RenfortContext) -> None:
    """/message: pick the mission whose volunteers to write to."""
    t = context.turn.t
    organisation = await _mine(update, context)
    if organisation is None:
        return
    choices = await relay.missions_with_volunteers(
        context.renfort.db, organisation_id=organisation.id, now=context.turn.now
    )
    if not choices:
        advance(context, None)
        await reply(update, context, t._("No mission of yours has volunteers to write to yet."))
        return
    advance(context, RELAY_PICK, fresh=True, org=organisation.id)
    rows = [
        [_button(context, f"{c.title} ({c.volunteers})", PICK_MISSION, mission=c.id)]
        for c in choices[:MAX_BUTTONS]
    ]
    await reply(update, context, t._("Write to the volunteers of which mission?"), rows)


async def _own_step(update: Update, context: RenfortContext) -> bool:
    payload = context.turn.payload
    author = payload.data.get("by") if payload else None
    if author != context.turn.me.id or context.turn.state != RELAY_PICK:
        await alert(update, context.turn.t._("This is someone else's message, or an old one."))
        return False
    return True


def _when(t: Translator, choice: relay.Choice) -> str:
    local = choice.starts_at.astimezone(ZoneInfo(choice.timezone))
    return f"{t.weekday_date(local)} {t.clock(local)}"


async def pick_mission(update: Update, context: RenfortContext) -> None:
    """The mission: now all its slots, or one."""
    if not await _own_step(update, context):
        return
    t = context.turn.t
    mission = int(context.turn.payload.data["mission"]) if context.turn.payload else 0
    slots = await relay.slots_with_volunteers(context.renfort.db, mission_id=mission)
    advance(context, RELAY_PICK, mission=mission)
    rows = [[_button(context, t._("All slots"), PICK_SLOT, slot=EVERYONE)]]
    rows += [
        [_button(context, f"{_when(t, s)} ({s.volunteers})", PICK_SLOT, slot=s.id)]
        for s in slots[:MAX_BUTTONS]
    ]
    await answer_query(update)
    await reply(update, context, t._("All slots, or one?"), rows, edit=True)


async def pick_slot(update: Update, context: RenfortContext) -> None:
    """The slot (or all): now everyone, or one volunteer."""
    if not await _own_step(update, context):
        return
    t = context.turn.t
    slot = int(context.turn.payload.data["slot"]) if context.turn.payload else 0
    data = advance(context, RELAY_PICK, slot=slot or None)
    volunteers = await relay.volunteers_of(
        context.renfort.db, mission_id=int(data["mission"]), slot_id=slot or None
    )
    rows = [[_button(context, t._("Everyone ({n})", n=len(volunteers)), PICK_PERSON, person=0)]]
    rows += [
        [_button(context, v.first_name or "?", PICK_PERSON, person=v.person_id)]
        for v in volunteers[: MAX_BUTTONS * 2]
    ]
    await answer_query(update)
    await reply(update, context, t._("Everyone, or one volunteer?"), rows, edit=True)


async def force_reply(update: Update, context: RenfortContext, text: str) -> None:
    """Ask for free text as a reply to the bot: in a group it is all the bot can see."""
    chat = update.effective_chat
    if chat is None:
        return
    await context.bot.send_message(
        chat.id, text, parse_mode=ParseMode.HTML, reply_markup=ForceReply(selective=False)
    )


async def pick_person(update: Update, context: RenfortContext) -> None:
    """Who gets it is settled: ask for the text."""
    if not await _own_step(update, context):
        return
    t = context.turn.t
    person = int(context.turn.payload.data["person"]) if context.turn.payload else 0
    advance(context, RELAY_TEXT, person=person or None)
    await answer_query(update)
    await reply(update, context, t._("Noted."), edit=True)
    await force_reply(
        update,
        context,
        t._(
            "Reply to this message with your text. Volunteers get it from the organisation,"
            " by Telegram or SMS; nobody sees anyone's number."
        ),
    )


def _sent_text(t: Translator, sent: relay.Sent) -> str:
    lines = [t.n_("Sent to {n} volunteer.", "Sent to {n} volunteers.", sent.delivered)]
    for name in sent.blocked:
        lines.append(
            t._("{name}: this volunteer does not accept messages from you.", name=esc(name or "?"))
        )
    return "\n".join(lines)


def _shortened_note(t: Translator, body: str) -> str:
    """Said when the text was longer than a relayed message may be, so nobody believes
    the end of it arrived."""
    if len(body.strip()) <= relay.MAX_BODY:
        return ""
    return "\n" + t.n_(
        "Only the first {n} character was passed on.",
        "Only the first {n} characters were passed on.",
        relay.MAX_BODY,
    )


def _text_of(update: Update) -> str:
    return typed_text(update)


async def relay_text(update: Update, context: RenfortContext) -> None:
    """The coordinator's text: relayed through the outbox to each volunteer."""
    t, data = context.turn.t, context.turn.data
    body = _text_of(update)
    if not body.strip():
        await force_reply(update, context, t._("Please reply with the text to send."))
        return
    context.turn.inbound.goto(None)
    sent = await relay.send_to_volunteers(
        context.renfort.db,
        actor_id=context.turn.me.id,
        organisation_id=int(data["org"]),
        mission_id=int(data["mission"]),
        slot_id=data.get("slot"),
        person_id=data.get("person"),
        body=body,
        now=context.turn.now,
        inbound=context.turn.inbound,
    )
    context.renfort.notify_outbox()
    await reply(update, context, _sent_text(t, sent) + _shortened_note(t, body))


async def reply_button(update: Update, context: RenfortContext) -> None:
    """A volunteer taps Reply under an organisation's message."""
    t = context.turn.t
    relay_id = context.turn.payload.data.get("relay") if context.turn.payload else None
    await answer_query(update)
    if not isinstance(relay_id, int):
        return
    context.turn.inbound.goto(RELAY_ANSWER, relay=relay_id)
    await force_reply(update, context, t._("Type your answer; I will pass it on."))


async def _answer(update: Update, context: RenfortContext, relay_id: int) -> None:
    t = context.turn.t
    answered = await relay.answer_organisation(
        context.renfort.db,
        person_id=context.turn.me.id,
        body=_text_of(update),
        now=context.turn.now,
        relay_id=relay_id,
        inbound=context.turn.inbound,
    )
    if answered is None:
        await reply(update, context, t._("This conversation is over."))
        return
    context.renfort.notify_outbox()
    await reply(
        update,
        context,
        t._("Passed on to {organisation}.", organisation=esc(answered.organisation_name))
        + _shortened_note(t, _text_of(update)),
    )


async def relay_answer(update: Update, context: RenfortContext) -> None:
    """The volunteer's answer after tapping Reply."""
    relay_id = context.turn.data.get("relay")
    if not _text_of(update).strip():
        await force_reply(update, context, context.turn.t._("Type your answer; I will pass it on."))
        return
    context.turn.inbound.goto(None)
    if isinstance(relay_id, int):
        await _answer(update, context, relay_id)


async def answered_relay(update: Update, context: RenfortContext) -> bool:
    """A reply to a relayed message: a volunteer answering the organisation, or a coordinator
    answering a volunteer in the group. False when the message replies to something else."""
    message = update.effective_message
    replied = message.reply_to_message if isinstance(message, Message) else None
    if replied is None or replied.from_user is None or replied.from_user.id != context.bot.id:
        return False
    if not _text_of(update).strip() or context.turn.person is None:
        return False
    db, chat_id = context.renfort.db, replied.chat.id
    if context.turn.private:
        async with db.reading("relay_reply") as conn:
            row = await relay.relay_of_message(conn, chat_id, replied.message_id)
        if row is None or row.direction != relay.TO_VOLUNTEER:
            return False
        await _answer(update, context, int(row.id))
        return True
    if not await relay.is_relay_message(db, chat_id, replied.message_id):
        return False
    try:
        sent = await relay.answer_in_group(
            db,
            actor_id=context.turn.me.id,
            chat_id=chat_id,
            message_id=replied.message_id,
            body=_text_of(update),
            now=context.turn.now,
            inbound=context.turn.inbound,
        )
    except ServiceError as error:
        await reply(update, context, refusal_text(context.turn.t, error))
        return True
    if sent is None:
        return False
    context.renfort.notify_outbox()
    await reply(update, context, _sent_text(context.turn.t, sent))
    return True


async def _contacts_rows(context: RenfortContext, blocked: bool) -> list[list[Button]]:
    found = await relay.contacts(context.renfort.db, person_id=context.turn.me.id)
    action = UNBLOCK if blocked else BLOCK
    icon = "✅ " if blocked else "🚫 "
    return [
        [Button(icon + c.name, action, {"org": c.organisation_id})]
        for c in found
        if c.blocked == blocked
    ]


async def block_command(update: Update, context: RenfortContext) -> None:
    """/block: the organisations that wrote to me, each with a Block button."""
    t = context.turn.t
    rows = await _contacts_rows(context, blocked=False)
    if not rows:
        await reply(update, context, t._("No organisation you still accept has written to you."))
        return
    await reply(update, context, t._("Stop receiving messages from which organisation?"), rows)


async def unblock_command(update: Update, context: RenfortContext) -> None:
    """/unblock: the organisations I blocked, each with an Unblock button."""
    t = context.turn.t
    rows = await _contacts_rows(context, blocked=True)
    if not rows:
        await reply(update, context, t._("You have not blocked any organisation."))
        return
    await reply(update, context, t._("Accept messages again from which organisation?"), rows)


async def _set_blocked(update: Update, context: RenfortContext, blocked: bool) -> None:
    t = context.turn.t
    organisation_id = context.turn.payload.data.get("org") if context.turn.payload else None
    await answer_query(update)
    if not isinstance(organisation_id, int):
        return
    name = await relay.set_blocked(
        context.renfort.db,
        person_id=context.turn.me.id,
        organisation_id=organisation_id,
        blocked=blocked,
        inbound=context.turn.inbound,
    )
    text = (
        t._(
            "{organisation} can no longer send you messages. /unblock to undo.",
            organisation=esc(name),
        )
        if blocked
        else t._("{organisation} can send you messages again.", organisation=esc(name))
    )
    await reply(update, context, text, edit=True)


async def block(update: Update, context: RenfortContext) -> None:
    """The Block button."""
    await _set_blocked(update, context, True)


async def unblock(update: Update, context: RenfortContext) -> None:
    """The Unblock button."""
    await _set_blocked(update, context, False)


PRIVATE = filters.ChatType.PRIVATE
HANDLERS: list[BaseHandler[Any, RenfortContext, Any]] = [
    CommandHandler("message", message_command),
    CommandHandler("block", block_command, filters=PRIVATE),
    CommandHandler("unblock", unblock_command, filters=PRIVATE),
]
STATES: dict[str, Callback] = {RELAY_TEXT: relay_text, RELAY_ANSWER: relay_answer}
ACTIONS: dict[str, Callback] = {
    PICK_MISSION: pick_mission,
    PICK_SLOT: pick_slot,
    PICK_PERSON: pick_person,
    REPLY_TO_RELAY: reply_button,
    BLOCK: block,
    UNBLOCK: unblock,
}
