"""The referent's side in their private chat: the Publish / Ask for changes / Refuse buttons
under a mission in review, the note they type for the organisation, /verify for the
organisations of their territory; and the coordinators' /resubmit."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import timedelta

from telegram import Update
from telegram.ext import BaseHandler, CommandHandler

from bot.actions import (
    RESUBMIT,
    REVIEW_CHANGES,
    REVIEW_PUBLISH,
    REVIEW_REFUSE,
    VERIFY,
)
from bot.buttons import Button
from bot.i18n import Translator
from bot.services import moderation
from bot.services.errors import ServiceError
from handlers.telegram.common import (
    Callback,
    RenfortContext,
    answer_query,
    esc,
    refusal_text,
    reply,
    typed_text,
)
from handlers.telegram.wizard import advance, expiring

MOD_NOTE = "mod_note"
NOTE_TTL = timedelta(hours=24)


def refusal(t: Translator, error: ServiceError) -> str:
    messages = {
        "not_referent": t._("Only the referent of this territory can do that."),
        "mission_not_in_review": t._("This mission is no longer waiting for review."),
        "not_draft": t._("This mission is not waiting for changes any more."),
        "review_note": t._("Please type a few words for the organisation."),
    }
    return messages.get(error.code) or refusal_text(t, error)


def _mission_id(context: RenfortContext) -> int:
    payload = context.turn.payload
    return int(payload.data.get("mission", 0)) if payload else 0


async def _original(update: Update) -> str:
    message = update.effective_message
    return message.text_html if message is not None and message.text else ""


Decide = Callable[..., Awaitable[moderation.Reviewed]]


async def _conclude(
    update: Update, context: RenfortContext, decide: Decide, outcome: Callable[[str], str]
) -> None:
    """Run the referent's decision; the review message keeps its text and says the outcome."""
    t = context.turn.t
    await answer_query(update)
    try:
        done = await decide(
            context.renfort.db,
            mission_id=_mission_id(context),
            referent_id=context.turn.me.id,
            inbound=context.turn.inbound,
        )
    except ServiceError as error:
        await reply(update, context, refusal(t, error))
        return
    text = outcome(esc(done.title))
    await reply(update, context, await _original(update) + "\n\n" + text, edit=True)


async def publish(update: Update, context: RenfortContext) -> None:
    """Publish: the mission goes live; its coordinators are told."""
    t = context.turn.t
    await _conclude(
        update,
        context,
        moderation.publish,
        lambda title: t._("✅ Published: <b>{mission}</b>.", mission=title),
    )


async def ask_changes(update: Update, context: RenfortContext) -> None:
    """Ask for changes: the next message the referent types is the note."""
    t = context.turn.t
    await answer_query(update)
    advance(context, MOD_NOTE, fresh=True, mission=_mission_id(context))
    await reply(
        update,
        context,
        t._(
            "What should the organisation change? Type your message; they will receive it"
            " as you write it."
        ),
    )


async def on_note(update: Update, context: RenfortContext) -> None:
    """The referent's note: the mission goes back to draft; the coordinators get the note."""
    t = context.turn.t
    note = typed_text(update)
    mission_id = int(context.turn.data.get("mission", 0))
    try:
        done = await moderation.ask_changes(
            context.renfort.db,
            mission_id=mission_id,
            referent_id=context.turn.me.id,
            note=note,
            inbound=context.turn.inbound.goto(None),
        )
    except ServiceError as error:
        if error.code != "review_note":
            advance(context, None)
        await reply(update, context, refusal(t, error))
        return
    await reply(
        update,
        context,
        t._(
            "Sent to the organisation: <b>{mission}</b> is back to draft until they resubmit it.",
            mission=esc(done.title),
        ),
    )


async def refuse(update: Update, context: RenfortContext) -> None:
    """Refuse: the mission is cancelled; its coordinators are told."""
    t = context.turn.t
    await _conclude(
        update,
        context,
        moderation.refuse,
        lambda title: t._("❌ Refused: <b>{mission}</b>.", mission=title),
    )


async def _resubmit(update: Update, context: RenfortContext, mission_id: int) -> None:
    t = context.turn.t
    try:
        done = await moderation.resubmit(
            context.renfort.db,
            mission_id=mission_id,
            actor_id=context.turn.me.id,
            inbound=context.turn.inbound,
        )
    except ServiceError as error:
        await reply(update, context, refusal(t, error))
        return
    if done.status == "published":
        text = t._("<b>{mission}</b> is published.", mission=esc(done.title))
    else:
        text = t._(
            "<b>{mission}</b> was sent to the referent again. You will hear from them here.",
            mission=esc(done.title),
        )
    await reply(update, context, text)


async def resubmit_button(update: Update, context: RenfortContext) -> None:
    """The Resubmit button under the referent's note."""
    await answer_query(update)
    await _resubmit(update, context, _mission_id(context))


async def resubmit_command(update: Update, context: RenfortContext) -> None:
    """/resubmit: send a mission sent back for changes to review again."""
    t = context.turn.t
    drafts = await moderation.drafts_sent_back(context.renfort.db, context.turn.me.id)
    if not drafts:
        await reply(update, context, t._("No mission of yours is waiting for changes."))
        return
    if len(drafts) == 1:
        await _resubmit(update, context, drafts[0][0])
        return
    buttons = [[Button(title, RESUBMIT, {"mission": mission_id})] for mission_id, title in drafts]
    await reply(update, context, t._("Which mission do you resubmit?"), buttons)


async def verify_command(update: Update, context: RenfortContext) -> None:
    """/verify: the organisations of the referent's territory still to verify."""
    t = context.turn.t
    if not context.turn.private:
        await reply(update, context, t._("Send /verify to me in a private chat."))
        return
    try:
        pending = await moderation.unverified_organisations(context.renfort.db, context.turn.me.id)
    except ServiceError as error:
        await reply(update, context, refusal(t, error))
        return
    if not pending:
        await reply(update, context, t._("Every organisation of your territory is verified."))
        return
    lines = [t._("Organisations of your territory to verify:")]
    lines += [f"• {esc(o.name)} ({esc(o.postcode or '')})" for o in pending]
    buttons = [
        [Button("✔️ " + t._("Verify {name}", name=o.name), VERIFY, {"organisation": o.id})]
        for o in pending
    ]
    await reply(update, context, "\n".join(lines), buttons)


async def verify(update: Update, context: RenfortContext) -> None:
    """A Verify button under /verify's list."""
    t = context.turn.t
    payload = context.turn.payload
    organisation_id = int(payload.data.get("organisation", 0)) if payload else 0
    try:
        organisation = await moderation.verify_organisation(
            context.renfort.db,
            organisation_id=organisation_id,
            actor_id=context.turn.me.id,
            inbound=context.turn.inbound,
        )
    except ServiceError as error:
        await answer_query(update)
        await reply(update, context, refusal(t, error))
        return
    await answer_query(update, t._("{name} is verified.", name=organisation.name))
    await reply(update, context, t._("✔️ <b>{name}</b> is verified.", name=esc(organisation.name)))


unless_stale = expiring(
    NOTE_TTL, lambda t: t._("Your note from earlier was dropped; tap Ask for changes again.")
)

HANDLERS: list[BaseHandler[Update, RenfortContext, None]] = [
    CommandHandler("verify", verify_command),
    CommandHandler("resubmit", resubmit_command),
]
STATES: dict[str, Callback] = {MOD_NOTE: unless_stale(on_note)}
ACTIONS: dict[str, Callback] = {
    REVIEW_PUBLISH: publish,
    REVIEW_CHANGES: ask_changes,
    REVIEW_REFUSE: refuse,
    RESUBMIT: resubmit_button,
    VERIFY: verify,
}
