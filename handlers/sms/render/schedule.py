"""SMS texts of the scheduled notifications (reminders, "Still coming?", the word to a
coordinator about a silent volunteer) and the answers to YES/NO to that question; each
fits one GSM-7 segment. Registered in handlers.sms.render.RENDERERS, which imports this
module, so its helpers are imported when a text is built."""

from __future__ import annotations

from datetime import date
from zoneinfo import ZoneInfo

from bot.i18n import Translator
from bot.messaging.message import Message
from bot.notifications.facts import ApplicationFacts
from bot.notifications.schedule import (
    AttendanceCheck,
    AttendanceUnconfirmed,
    ReminderDayBefore,
    ReminderHoursBefore,
)
from bot.services.applications import ApplicationView
from handlers.sms import dates
from handlers.sms.render.shared import Renderer, fit, place, when, yes_no


def _values(n: ApplicationFacts, t: Translator, today: date | None) -> dict[str, str]:

    return {
        "mission": n.mission_title,
        "when": when(n, t, today),
        "place": place(n, t),
    }


def _cancel_hint(n: ReminderDayBefore | ReminderHoursBefore, t: Translator) -> str:
    """How to cancel by SMS: the number in MY MISSIONS when we know it."""
    number = n.number
    if number:
        return t._("Can't come? Send CANCEL {number}.", number=number)
    return t._("Can't come? Send MY MISSIONS to cancel.")


def reminder_day_before(n: ReminderDayBefore, t: Translator, today: date | None) -> Message:
    """To the volunteer, the day before."""

    values = _values(n, t, today) | {"cancel": _cancel_hint(n, t)}
    text = fit(
        lambda v: t._("Renfort reminder: {mission}, {when}, {place}. {cancel}", **v),
        values,
        ("mission", "place"),
    )
    return Message(text, place=n.pin)


def reminder_hours_before(n: ReminderHoursBefore, t: Translator, today: date | None) -> Message:
    """To the volunteer, a few hours before the start."""

    values = _values(n, t, today) | {"cancel": _cancel_hint(n, t)}
    text = fit(
        lambda v: t._("Renfort: {mission} starts soon, {when}, {place}. {cancel}", **v),
        values,
        ("mission", "place"),
    )
    return Message(text, place=n.pin)


def attendance_check(n: AttendanceCheck, t: Translator, today: date | None) -> Message:
    """To the volunteer, on the day: are you still coming?"""

    values = _values(n, t, today)
    del values["place"]
    return yes_no(
        t,
        fit(
            lambda v: t._(
                "Renfort: are you still coming to {mission}, {when}? Reply YES or NO.", **v
            ),
            values,
            ("mission",),
        ),
    )


def attendance_unconfirmed(n: AttendanceUnconfirmed, t: Translator, today: date | None) -> str:
    """To a coordinator reachable only by SMS: a volunteer did not answer."""

    values = _values(n, t, today) | {"name": n.volunteer_name}
    del values["place"]
    return fit(
        lambda v: t._(
            "Renfort: {name} has not confirmed they are coming to {mission}, {when}.", **v
        ),
        values,
        ("mission", "name"),
    )


def _view_values(t: Translator, view: ApplicationView, today: date | None) -> dict[str, str]:
    span = dates.span(t.locale, view.starts_at, view.ends_at, ZoneInfo(view.timezone), today)
    return {"mission": view.mission_title, "when": span}


def attendance_confirmed(t: Translator, view: ApplicationView, today: date | None = None) -> str:
    """The answer to YES: the place is confirmed."""

    return fit(
        lambda v: t._("Thank you! See you {when} for {mission}.", **v),
        _view_values(t, view, today),
        ("mission",),
    )


def attendance_released(t: Translator, view: ApplicationView, today: date | None = None) -> str:
    """The answer to NO: the place was let go, and thanks for saying so."""

    return fit(
        lambda v: t._(
            "Thank you for telling us. Your place for {mission}, {when} goes to someone else.",
            **v,
        ),
        _view_values(t, view, today),
        ("mission",),
    )


SCHEDULE_RENDERERS: dict[str, Renderer] = {
    ReminderDayBefore.kind: reminder_day_before,
    ReminderHoursBefore.kind: reminder_hours_before,
    AttendanceCheck.kind: attendance_check,
    AttendanceUnconfirmed.kind: attendance_unconfirmed,
}
