"""Telegram texts of the scheduled notifications: reminders, "Still coming?" and the word
to the organisation about a volunteer who did not answer. Registered in render.RENDERERS."""

from __future__ import annotations

from bot.actions import ATTENDANCE_NO, ATTENDANCE_YES
from bot.buttons import Button
from bot.i18n import Translator
from bot.messaging.message import Message
from bot.notifications.facts import Placed
from bot.notifications.schedule import (
    AttendanceCheck,
    AttendanceUnconfirmed,
    ReminderDayBefore,
    ReminderHoursBefore,
)
from handlers.telegram.render.shared import Renderer, answer_buttons, esc, slot_text


def _place(n: Placed, t: Translator) -> str:
    if n.remote:
        return "💻 " + t._("Remote")
    return "📍 " + esc(n.address or t._("Address to be confirmed"))


def _how_to_cancel(t: Translator) -> str:
    return t._(
        "Can't come any more? Cancel in /mymissions so that someone else can take your place."
    )


def reminder_day_before(n: ReminderDayBefore, t: Translator) -> Message:
    """To the volunteer, the day before: when, where, how to cancel."""
    lines = [
        "⏰ " + t._("<b>Reminder</b> · {organisation}", organisation=esc(n.organisation_name)),
        t._("You are expected for <b>{mission}</b>:", mission=esc(n.mission_title)),
        "🗓 " + slot_text(n, t),
        _place(n, t),
        "",
        _how_to_cancel(t),
    ]
    return Message("\n".join(lines), place=n.pin)


def reminder_hours_before(n: ReminderHoursBefore, t: Translator) -> Message:
    """To the volunteer, a few hours before the start."""
    lines = [
        "⏰ " + t._("<b>Soon: {mission}</b>", mission=esc(n.mission_title)),
        "🗓 " + slot_text(n, t),
        _place(n, t),
        "🏛 " + esc(n.organisation_name),
        "",
        _how_to_cancel(t),
    ]
    return Message("\n".join(lines), place=n.pin)


def attendance_buttons(t: Translator, application_id: int) -> list[list[Button]]:
    """Yes / I can't come under the question."""
    data = {"app": application_id}
    return answer_buttons(
        (t._("Yes, I'm coming"), ATTENDANCE_YES), (t._("I can't come"), ATTENDANCE_NO), data
    )


def attendance_check(n: AttendanceCheck, t: Translator) -> Message:
    """To the volunteer, on the day: are you still coming?"""
    lines = [
        "🙋 " + t._("<b>Still coming?</b>"),
        t._(
            "<b>{mission}</b> with {organisation}",
            mission=esc(n.mission_title),
            organisation=esc(n.organisation_name),
        ),
        "🗓 " + slot_text(n, t),
        _place(n, t),
        "",
        t._("If you can't come, say so now: someone else can take your place."),
    ]
    return Message.with_buttons("\n".join(lines), attendance_buttons(t, n.application_id))


def attendance_unconfirmed(n: AttendanceUnconfirmed, t: Translator) -> Message:
    """To the organisation, an hour before: a volunteer did not answer 'Still coming?'."""
    lines = [
        "⚠️ "
        + t._(
            "<b>Not confirmed</b> · {organisation}",
            organisation=esc(n.organisation_name),
        ),
        t._(
            "{name} has not confirmed they are coming to <b>{mission}</b>.",
            name=esc(n.volunteer_name),
            mission=esc(n.mission_title),
        ),
        "🗓 " + slot_text(n, t),
    ]
    return Message("\n".join(lines))


SCHEDULE_RENDERERS: dict[str, Renderer] = {
    ReminderDayBefore.kind: reminder_day_before,
    ReminderHoursBefore.kind: reminder_hours_before,
    AttendanceCheck.kind: attendance_check,
    AttendanceUnconfirmed.kind: attendance_unconfirmed,
}
