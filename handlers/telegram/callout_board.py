"""A callout's live status message: the counts as they stand, and the coordinators' Stop,
Widen and +1 buttons under it. The counts are redrawn by callout_refresh, a few seconds
apart; a tap here redraws at once for the person who tapped."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from telegram import Bot, Message, Update
from telegram.constants import ParseMode
from telegram.error import TelegramError

from bot.buttons import Button
from bot.i18n import Translator
from bot.runtime import Renfort
from bot.services import callouts, people
from bot.services.callout_choices import admin_group_of
from bot.services.callouts import CalloutView
from bot.services.errors import NotAllowed, ServiceError
from handlers.telegram.admin_group import alert
from handlers.telegram.common import (
    Callback,
    RenfortContext,
    answer_query,
    esc,
    keyboard,
    refusal_text,
    reply,
)
from handlers.telegram.flow import radius_button

log = logging.getLogger(__name__)

STOP = "co.stop"
WIDEN = "co.widen"
RAISE = "co.raise"
DRAW_MARGIN = timedelta(seconds=2)
# Widen moves to the next of these; None is everywhere.
RADII: tuple[int | None, ...] = (5, 10, 30, None)


def wider_radii(radius_km: int | None) -> list[int | None]:
    """The radii wider than this one, nearest first (none once it reaches everyone)."""
    if radius_km is None:
        return []
    return [r for r in RADII if r is None or r > radius_km]


def status_line(t: Translator, view: CalloutView) -> str:
    labels = {
        "active": "🟢 " + t._("Active"),
        "filled": "✅ " + t._("Filled"),
        "stopped": "⏹ " + t._("Stopped"),
        "exhausted": "⚠️ " + t._("Nobody left to ask"),
    }
    return t._("Status: {status}", status=labels.get(view.status, view.status))


def status_text(t: Translator, view: CalloutView) -> str:
    """The callout in full, as the admin group follows it."""
    zone = ZoneInfo(view.timezone)
    where = t._("Remote") if view.remote else esc(view.address)
    lines = [
        "🚨 " + t._("<b>Callout</b> · {mission}", mission=esc(view.mission_title)),
        esc(t.slot_span(view.starts_at, view.ends_at, zone)),
        where,
        "",
        t._("Needed: {needed} · places left: {left}", needed=view.needed, left=view.places_left),
        t._(
            "Asked: {asked} · sent: {sent} · delivered: {delivered}",
            asked=view.asked,
            sent=view.sent,
            delivered=view.delivered,
        ),
        t._(
            "✅ Yes: {yes} · ❌ No: {no} · ⏳ Waiting: {waiting}",
            yes=view.yes,
            no=view.no,
            waiting=view.waiting,
        ),
        t.n_("{n} wave sent", "{n} waves sent", view.waves_sent),
    ]
    if view.status == "active" and view.next_wave_at is not None:
        lines[-1] += " · " + t._(
            "next at {time} if needed", time=t.clock(view.next_wave_at.astimezone(zone))
        )
    lines += ["", status_line(t, view)]
    return "\n".join(lines)


def status_buttons(t: Translator, view: CalloutView) -> list[list[Button]]:
    """Stop, Widen and +1 while they can change something."""
    ref = {"callout_id": view.id}
    row: list[Button] = []
    if view.status in ("active", "exhausted"):
        row.append(Button("⏹ " + t._("Stop"), STOP, ref))
        wider = wider_radii(view.targeting.radius_km)
        if wider:
            label = "📍 " + t._("Widen: {radius}", radius=radius_button(t, wider[0]))
            row.append(Button(label, WIDEN, {**ref, "radius_km": wider[0]}))
    if view.status in ("active", "filled"):
        row.append(Button("➕ " + t._("1 more"), RAISE, ref))
    return [row]


async def words_for(renfort: Renfort, chat_id: int) -> Translator:
    """A group reads the service's language; a private chat its person's."""
    if chat_id > 0:  # a private chat's id is its user's id
        person = await people.find_by_telegram(renfort.db, chat_id)
        if person is not None:
            return renfort.translator(person.locale, person.telegram_language)
    return renfort.translator(None)


def refusal(t: Translator, error: ServiceError) -> str:
    """A callout service's refusal, in the coordinator's words."""
    messages = {
        "callout_not_found": t._("This callout no longer exists."),
        "callout_closed": t._("This callout was stopped; send /callout to launch a new one."),
        "slot_full": t._("This slot is already full: nobody needs to be alerted."),
        "organisation_not_verified": t._(
            "Callouts are open to organisations verified by the referent of your territory."
            " Ask them to verify your organisation; your missions stay open meanwhile."
        ),
        "mission_without_place": t._(
            "This mission has no place on the map: choose Everywhere as the radius."
        ),
        "callout_needs_urgent": t._(
            "It is night until 08:00 and the slot starts before then: mark the callout urgent"
            " to alert people now."
        ),
    }
    return messages.get(error.code) or refusal_text(t, error)


async def post_status(update: Update, context: RenfortContext, view: CalloutView) -> None:
    """Just launched: the confirmation becomes the live status message. Launched privately,
    the admin group (if linked) gets the live message and the private chat a snapshot."""
    turn, renfort = context.turn, context.renfort
    group = None if not turn.private else await admin_group_of(renfort.db, view.organisation_id)
    if group is not None and await _post_in(context, group, view):
        t = turn.t
        note = t._("Sent. The live counts and buttons are in your admin group.")
        await reply(update, context, status_text(t, view) + "\n\n" + note, edit=True)
        return
    words = await words_for(renfort, turn.chat_id or 0)
    text = status_text(words, view)
    shown = await reply(update, context, text, status_buttons(words, view), edit=True)
    if isinstance(shown, Message):
        await _remember(context, view, shown.chat.id, shown.message_id)


async def _post_in(context: RenfortContext, chat_id: int, view: CalloutView) -> bool:
    return await post_status_in(context.bot, context.renfort, chat_id, view, context.turn.now)


async def post_status_in(
    bot: Bot, renfort: Renfort, chat_id: int, view: CalloutView, now: datetime
) -> bool:
    """A new status message in the admin group (a callout launched in the chat or on the
    board); False if the group cannot get it."""
    words = await words_for(renfort, chat_id)
    markup = await keyboard(renfort, status_buttons(words, view))
    try:
        sent = await bot.send_message(
            chat_id, status_text(words, view), reply_markup=markup, parse_mode=ParseMode.HTML
        )
    except TelegramError as error:
        log.info("callout %s: no status message in group %s: %s", view.id, chat_id, error)
        return False
    await callouts.set_status_message(
        renfort.db, callout_id=view.id, chat_id=chat_id, message_id=sent.message_id
    )
    await callouts.mark_rendered(renfort.db, view.id, drawn_at(now))
    return True


async def _remember(
    context: RenfortContext, view: CalloutView, chat_id: int, message_id: int
) -> None:
    db = context.renfort.db
    await callouts.set_status_message(
        db, callout_id=view.id, chat_id=chat_id, message_id=message_id
    )
    await callouts.mark_rendered(db, view.id, drawn_at(context.turn.now))


def drawn_at(now: datetime) -> datetime:
    """When a drawing counts from: a little before `now`, so a change committed while we
    drew is drawn again rather than missed (at worst one edit Telegram calls unmodified)."""
    return now - DRAW_MARGIN


async def _tapped(update: Update, context: RenfortContext) -> int | None:
    payload = context.turn.payload
    callout_id = payload.data.get("callout_id") if payload else None
    if not isinstance(callout_id, int):
        await alert(update, context.turn.t._("This button has expired. Send /help to start again."))
        return None
    return callout_id


async def _apply(
    update: Update,
    context: RenfortContext,
    change: Callable[[int], Awaitable[CalloutView]],
    done: str,
) -> None:
    """Run a coordinator's change, then redraw the status message at once."""
    callout_id = await _tapped(update, context)
    if callout_id is None:
        return
    t = context.turn.t
    try:
        view = await change(callout_id)
    except NotAllowed:
        await alert(update, t._("Only coordinators of this organisation can change its callout."))
        return
    except ServiceError as error:
        await alert(update, refusal(t, error))
        return
    context.renfort.notify_outbox()
    await answer_query(update, done)
    words = await words_for(context.renfort, context.turn.chat_id or 0)
    await reply(update, context, status_text(words, view), status_buttons(words, view), edit=True)
    await callouts.mark_rendered(context.renfort.db, view.id, drawn_at(context.turn.now))


async def stop(update: Update, context: RenfortContext) -> None:
    """Stop: nobody else is asked; unsent alerts are withdrawn."""
    turn = context.turn

    async def change(callout_id: int) -> CalloutView:
        return await callouts.stop(
            context.renfort.db,
            actor_id=turn.me.id,
            callout_id=callout_id,
            now=turn.now,
            inbound=turn.inbound,
        )

    await _apply(update, context, change, turn.t._("Stopped. Nobody else will be alerted."))


async def widen(update: Update, context: RenfortContext) -> None:
    """Widen: the next radius, and a new wave if people are still needed."""
    turn = context.turn
    payload = turn.payload
    radius = payload.data.get("radius_km") if payload else None

    async def change(callout_id: int) -> CalloutView:
        return await callouts.widen(
            context.renfort.db,
            actor_id=turn.me.id,
            callout_id=callout_id,
            radius_km=radius if isinstance(radius, int) else None,
            now=turn.now,
            inbound=turn.inbound,
        )

    await _apply(update, context, change, turn.t._("Widened."))


async def raise_need(update: Update, context: RenfortContext) -> None:
    """+1: one more person needed; the callout goes on asking."""
    turn = context.turn

    async def change(callout_id: int) -> CalloutView:
        current = await callouts.get_callout(context.renfort.db, callout_id)
        return await callouts.raise_need(
            context.renfort.db,
            actor_id=turn.me.id,
            callout_id=callout_id,
            needed=current.needed + 1,
            now=turn.now,
            inbound=turn.inbound,
        )

    await _apply(update, context, change, turn.t._("One more person needed."))


ACTIONS: dict[str, Callback] = {STOP: stop, WIDEN: widen, RAISE: raise_need}
