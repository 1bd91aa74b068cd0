"""/settings: coordinators choose when volunteers are reminded and whether they are asked
"Still coming?", in the admin group or privately; only members may look or change."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import time
from typing import Any

from telegram import Update

from bot.buttons import Button
from bot.i18n import Translator
from bot.services import organisations, settings
from bot.services.errors import NotAllowed, ServiceError
from bot.services.settings import ReminderSettings
from handlers.telegram import admin_group
from handlers.telegram.common import RenfortContext, answer_query, esc, refusal_text, reply

SHOW = "org.settings"
CHANGE = "org.settings_set"
DAY_BEFORE_HOURS = (17, 18, 19, 20)
HOURS_BEFORE = (1, 2, 3)
DAY_BEFORE, HOURS, ATTENDANCE = "day_before", "hours_before", "attendance"


def _mark(label: str, on: bool) -> str:
    return f"✓ {label}" if on else label


def _hour(t: Translator, hour: int) -> str:
    return t.clock(time(hour))


def settings_text(t: Translator, current: ReminderSettings) -> str:
    day_before = (
        t._("the day before at {time}", time=_hour(t, current.remind_day_before_at))
        if current.remind_day_before_at is not None
        else t._("off")
    )
    hours = (
        t.n_("{n} hour before the start", "{n} hours before the start", current.remind_hours_before)
        if current.remind_hours_before is not None
        else t._("off")
    )
    lines = [
        "⚙️ "
        + t._(
            "<b>Reminders and attendance</b> · {organisation}",
            organisation=esc(current.organisation_name),
        ),
        "🌙 " + t._("Reminder: {when}", when=day_before),
        "⏰ " + t._("Last reminder: {when}", when=hours),
        "🙋 "
        + t._(
            '"Still coming?" on the day: {state}',
            state=t._("on") if current.attendance_check else t._("off"),
        ),
        "",
        t._("Tap to change. Volunteers who do not answer are reported here an hour before."),
    ]
    return "\n".join(lines)


def settings_buttons(t: Translator, current: ReminderSettings) -> list[list[Button]]:
    org = current.organisation_id

    def change(label: str, what: str, value: Any, on: bool) -> Button:
        return Button(_mark(label, on), CHANGE, {"org": org, "set": what, "value": value})

    day = current.remind_day_before_at
    hours = current.remind_hours_before
    return [
        [change("🌙 " + _hour(t, h), DAY_BEFORE, h, day == h) for h in DAY_BEFORE_HOURS]
        + [change("🌙 " + t._("Off"), DAY_BEFORE, None, day is None)],
        [change("⏰ " + t._("{n} h", n=h), HOURS, h, hours == h) for h in HOURS_BEFORE]
        + [change("⏰ " + t._("Off"), HOURS, None, hours is None)],
        [
            change("🙋 " + t._("On"), ATTENDANCE, True, current.attendance_check),
            change("🙋 " + t._("Off"), ATTENDANCE, False, not current.attendance_check),
        ],
    ]


async def _show(
    update: Update, context: RenfortContext, organisation_id: int, *, edit: bool
) -> None:
    t = context.turn.t
    current = await settings.reminder_settings(
        context.renfort.db, actor_id=context.turn.me.id, organisation_id=organisation_id
    )
    await reply(update, context, settings_text(t, current), settings_buttons(t, current), edit=edit)


async def _refuse(update: Update, context: RenfortContext, error: ServiceError) -> None:
    text = refusal_text(context.turn.t, error)
    if update.callback_query is not None:
        await admin_group.alert(update, text)  # others in the group need not see it
    else:
        await reply(update, context, text)


async def settings_command(update: Update, context: RenfortContext) -> None:
    """/settings: the admin group's organisation, or the sender's own in private."""
    turn = context.turn
    t = turn.t
    db = context.renfort.db
    try:
        if not turn.private:
            chat = update.effective_chat
            linked = await organisations.organisation_of_chat(db, chat.id) if chat else None
            if linked is None:
                await reply(
                    update,
                    context,
                    t._("This group is not an organisation's admin group yet: send /link first."),
                )
                return
            await _show(update, context, linked.id, edit=False)
            return
        mine = await organisations.memberships(db, turn.me.id)
        if not mine:
            raise NotAllowed("not_member")
        if len(mine) == 1:
            await _show(update, context, mine[0].id, edit=False)
            return
        buttons = [[Button(o.name, SHOW, {"org": o.id})] for o in mine]
        await reply(update, context, t._("Settings of which organisation?"), buttons)
    except ServiceError as error:
        await _refuse(update, context, error)


async def show_button(update: Update, context: RenfortContext) -> None:
    """An organisation picked under /settings."""
    payload = context.turn.payload
    try:
        await _show(update, context, int(payload.data["org"]) if payload else 0, edit=True)
    except ServiceError as error:
        await _refuse(update, context, error)
        return
    await answer_query(update)


async def change_button(update: Update, context: RenfortContext) -> None:
    """A setting tapped: save it, then show the settings as they are now."""
    payload = context.turn.payload
    assert payload is not None
    what, value = payload.data.get("set"), payload.data.get("value")
    fields = {DAY_BEFORE: "remind_day_before_at", HOURS: "remind_hours_before"}
    change: dict[str, Any] = {fields.get(str(what), "attendance_check"): value}
    try:
        current = await settings.update_reminder_settings(
            context.renfort.db,
            actor_id=context.turn.me.id,
            organisation_id=int(payload.data.get("org") or 0),
            inbound=context.turn.inbound,
            **change,
        )
    except ServiceError as error:
        await _refuse(update, context, error)
        return
    t = context.turn.t
    await answer_query(update, t._("Saved."))
    await reply(update, context, settings_text(t, current), settings_buttons(t, current), edit=True)


ACTIONS: dict[str, Callable[[Update, RenfortContext], Awaitable[None]]] = {
    SHOW: show_button,
    CHANGE: change_button,
}
