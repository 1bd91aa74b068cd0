"""The volunteer applies for a slot, follows their applications and cancels one."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from telegram import Update

from bot.actions import ASK_CANCEL
from bot.buttons import Button
from bot.conversation import applying, cancelling
from bot.conversation.applying import AskCondition
from bot.domain import ANSWER_WITHIN_DAYS, ApplicationStatus
from bot.i18n import Translator
from bot.services.applications import ApplicationView
from bot.services.missions import MissionDetail
from handlers.telegram import offers, phone_consent, registration
from handlers.telegram.common import (
    RenfortContext,
    answer_query,
    confirmed_conditions,
    esc,
    reply,
)
from handlers.telegram.discovery import SHOW_MISSION
from handlers.telegram.flow import PICK_SLOT, leave_profile_edit
from handlers.telegram.render.offers import offer_buttons

CONFIRM_APPLY = "vol.apply"
CANCEL = "vol.cancel"
MY_MISSIONS = "vol.mine"


def _slot_id(context: RenfortContext) -> int:
    payload = context.turn.payload
    return int(payload.data.get("slot") or 0) if payload is not None else 0


async def _ask_condition(
    update: Update, context: RenfortContext, detail: MissionDetail, slot_id: int, step: AskCondition
) -> None:
    """The next condition to confirm, one button to say it is true."""
    t = context.turn.t
    text = "\n".join(
        [
            t._(
                "<b>{title}</b> asks volunteers to confirm this:",
                title=esc(detail.title),
            ),
            "",
            "☑️ <b>" + esc(step.condition) + "</b>",
            "",
            t._(
                "Is this true for you? {organisation} will see your answer; you are asked once.",
                organisation=esc(detail.organisation_name),
            ),
        ]
    )
    buttons = [
        [
            Button(
                "✅ " + t._("Yes, this is true"),
                PICK_SLOT,
                {"slot": slot_id, "ok": [*step.confirmed, step.condition]},
            )
        ],
        [Button("◀ " + t._("No, back to the mission"), SHOW_MISSION, {"id": detail.id})],
    ]
    await reply(update, context, text, buttons, edit=True)


async def pick_slot(update: Update, context: RenfortContext) -> None:
    """A slot tapped: what applying means, and a Confirm button."""
    await answer_query(update)
    turn = context.turn
    found = await applying.next_step(
        context.renfort.db,
        person_id=turn.me.id,
        registered=turn.me.registered,
        slot_id=_slot_id(context),
        confirmed=confirmed_conditions(context),
        now=turn.now,
    )
    if isinstance(found, applying.Register):
        await registration.ask_to_register(update, context, found.slot.id, found.detail.title)
        return
    detail, slot = found.detail, found.slot
    if isinstance(found.step, AskCondition):
        await _ask_condition(update, context, detail, slot.id, found.step)
        return
    t = turn.t
    lines = [
        t._("You are applying for:"),
        "",
        f"<b>{esc(detail.title)}</b>",
        "🏛 " + esc(detail.organisation_name),
        "🗓 " + esc(t.slot_span(slot.starts_at, slot.ends_at, detail.zone)),
        ("💻 " + t._("Remote")) if detail.remote else "📍 " + esc(detail.address),
        "",
    ]
    if slot.free:
        lines.append(
            t._(
                "Shall I send your application to {organisation}?",
                organisation=esc(detail.organisation_name),
            )
        )
    else:
        lines.append(
            t._(
                "This slot is full: you would join the waiting list, and I will tell you as "
                "soon as a place frees up. Shall I put you on it?"
            )
        )
    buttons = [
        [
            Button(
                "✅ " + t._("Confirm"),
                CONFIRM_APPLY,
                {"slot": slot.id, "ok": list(found.step.confirmed)},
            ),
            Button("◀ " + t._("Back"), SHOW_MISSION, {"id": detail.id}),
        ]
    ]
    await reply(update, context, "\n".join(lines), buttons, edit=True)


async def confirm_apply(update: Update, context: RenfortContext) -> None:
    """Confirm tapped: apply, then say what happens next."""
    await answer_query(update)
    turn = context.turn
    slot_id = _slot_id(context)
    await applying.open_slot(context.renfort.db, slot_id, turn.now)
    view = await applying.apply(
        context.renfort.db,
        person_id=turn.me.id,
        slot_id=slot_id,
        confirmed=confirmed_conditions(context),
        now=turn.now,
        inbound=turn.inbound,
    )
    t = turn.t
    span = esc(t.slot_span(view.starts_at, view.ends_at, ZoneInfo(view.timezone)))
    if view.status == ApplicationStatus.WAITLISTED:
        text = t._(
            "⏳ The slot is full. You are number {position} on the waiting list for "
            "<b>{title}</b> ({when}). I will tell you as soon as a place frees up.",
            position=view.waitlist_position or 1,
            title=esc(view.mission_title),
            when=span,
        )
    else:
        text = t.n_(
            "📨 Your application for <b>{title}</b> ({when}) has been sent to {organisation}. "
            "They usually answer within {days} day; I will tell you here.",
            "📨 Your application for <b>{title}</b> ({when}) has been sent to {organisation}. "
            "They usually answer within {days} days; I will tell you here.",
            ANSWER_WITHIN_DAYS,
            title=esc(view.mission_title),
            when=span,
            organisation=esc(view.organisation_name),
            days=ANSWER_WITHIN_DAYS,
        )
    await reply(update, context, text + "\n\n" + t._("See /mymissions."), edit=True)
    await phone_consent.ask_after_applying(
        update, context, view.organisation_id, view.organisation_name
    )


def status_text(t: Translator, view: ApplicationView) -> str:
    if view.offer_expires_at is not None:
        return offers.offer_status(t, view)
    if view.status == ApplicationStatus.WAITLISTED:
        return t._("⏳ Waiting list, position {position}", position=view.waitlist_position or 1)
    if view.status == ApplicationStatus.APPROVED:
        return t._("✅ Accepted by the organisation")
    if view.status == ApplicationStatus.CONFIRMED:
        return t._("✅ Accepted, and you confirmed you will come")
    return t._("📨 Sent, waiting for the organisation's answer")


async def mymissions_command(update: Update, context: RenfortContext) -> None:
    """The volunteer's applications, each with a Cancel button."""
    leave_profile_edit(context.turn)
    await show_mine(update, context)


async def mine_button(update: Update, context: RenfortContext) -> None:
    """Back to the list of their applications."""
    await answer_query(update)
    await show_mine(update, context, edit=True)


async def show_mine(update: Update, context: RenfortContext, *, edit: bool = False) -> None:
    turn = context.turn
    t = turn.t
    views = await cancelling.mine(context.renfort.db, turn.me.id, turn.now)
    if not views:
        text = t._("You have no mission yet. Send /missions to find one near you.")
        await reply(update, context, text, edit=edit)
        return
    lines = ["<b>" + t._("Your missions") + "</b>", ""]
    buttons: list[list[Button]] = []
    for number, view in enumerate(views, start=1):
        span = t.slot_span(view.starts_at, view.ends_at, ZoneInfo(view.timezone))
        lines += [
            f"<b>{number}. {esc(view.mission_title)}</b>",
            "🏛 " + esc(view.organisation_name),
            "🗓 " + esc(span),
            status_text(t, view),
            "",
        ]
        if view.offer_expires_at is not None:
            buttons += offer_buttons(t, view.id)
        label = "✖ " + t._("Cancel {number}. {title}", number=number, title=view.mission_title[:30])
        buttons.append([Button(label, ASK_CANCEL, {"app": view.id})])
    await reply(update, context, "\n".join(lines).strip(), buttons, edit=edit)


async def ask_cancel(update: Update, context: RenfortContext) -> None:
    """Cancel tapped: make sure before letting the place go."""
    await answer_query(update)
    turn = context.turn
    assert turn.payload is not None
    asked = await cancelling.ask_cancel(
        context.renfort.db,
        person_id=turn.me.id,
        application_id=int(turn.payload.data.get("app") or 0),
        now=turn.now,
    )
    view = asked.application
    t = turn.t
    span = esc(t.slot_span(view.starts_at, view.ends_at, ZoneInfo(view.timezone)))
    text = t._(
        "Cancel your place for <b>{title}</b> ({when})? {organisation} will be told, and "
        "your place goes to someone else.",
        title=esc(view.mission_title),
        when=span,
        organisation=esc(view.organisation_name),
    )
    buttons = [
        [
            Button("✅ " + t._("Yes, cancel"), CANCEL, {"app": view.id}),
            Button("◀ " + t._("No, keep it"), MY_MISSIONS),
        ]
    ]
    await reply(update, context, text, buttons, edit=True)


async def cancel(update: Update, context: RenfortContext) -> None:
    """Cancellation confirmed: free the place."""
    await answer_query(update)
    turn = context.turn
    assert turn.payload is not None
    view = await cancelling.cancel(
        context.renfort.db,
        person_id=turn.me.id,
        application_id=int(turn.payload.data.get("app") or 0),
        now=turn.now,
        inbound=turn.inbound,
    )
    t = turn.t
    text = t._(
        "Cancelled: <b>{title}</b>. Thank you for letting them know; your place is free for "
        "someone else.",
        title=esc(view.mission_title),
    )
    await reply(update, context, text + "\n\n" + t._("See /mymissions."), edit=True)
