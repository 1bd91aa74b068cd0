"""Telegram texts of election week's timing: an application whose slot comes soon, the
evening list of tomorrow's applications still without an answer, and the volunteer's note
that their answer is still awaited. Registered in render.RENDERERS."""

from __future__ import annotations

from datetime import date
from zoneinfo import ZoneInfo

from bot.actions import ASK_CANCEL
from bot.buttons import Button
from bot.i18n import Translator
from bot.messaging.message import Message
from bot.notifications.election import (
    ApplicationNudgeSoon,
    ApplicationStillPending,
    PendingTomorrow,
)
from bot.notifications.facts import ApplicationLine
from handlers.telegram.render.shared import Renderer, decision_buttons, esc, slot_text

MAX_LISTED = 25  # a list longer than this says how many more, /pending shows them


def _name(n: ApplicationNudgeSoon | ApplicationLine, t: Translator) -> str:
    name = esc(n.volunteer_name)
    return t._("{name} (via SMS)", name=name) if n.volunteer_via_sms else name


def application_nudge_soon(n: ApplicationNudgeSoon, t: Translator) -> Message:
    """To the organisation: an application waits and its slot is close; decide from here."""
    hours = int(n.hours_left or 1)
    left = (
        t.n_("{n} hour", "{n} hours", hours)
        if hours < 48
        else t.n_("{n} day", "{n} days", hours // 24)
    )
    text = "\n".join(
        [
            "⏰ "
            + t._(
                "<b>Slot soon, still no answer</b> · {organisation}",
                organisation=esc(n.organisation_name),
            ),
            t._(
                "<b>{name}</b> applied for <b>{mission}</b>, which starts in {left}.",
                name=_name(n, t),
                mission=esc(n.mission_title),
                left=left,
            ),
            "🗓 " + slot_text(n, t),
            "",
            t._("Answer now so that they know whether to come."),
        ]
    )
    return Message.with_buttons(text, decision_buttons(t, n.application_id))


def pending_tomorrow(n: PendingTomorrow, t: Translator) -> Message:
    """To the organisation, the evening before: tomorrow's applications without an answer."""
    items = list(n.items)
    day = t.weekday_date(date.fromisoformat(n.date))
    lines = [
        "🌙 "
        + t._(
            "<b>Tomorrow, no answer yet</b> · {organisation}",
            organisation=esc(n.organisation_name),
        ),
        t.n_(
            "{n} application for {day} still waits for your answer:",
            "{n} applications for {day} still wait for your answer:",
            len(items),
            day=esc(day),
        ),
    ]
    for item in items[:MAX_LISTED]:
        zone = ZoneInfo(item.timezone)
        starts = item.starts_at.astimezone(zone)
        lines.append(
            "• "
            + t._(
                "<b>{name}</b> — {mission}, {time}",
                name=_name(item, t),
                mission=esc(item.mission_title),
                time=t.clock(starts),
            )
        )
    if len(items) > MAX_LISTED:
        lines.append(t.n_("… and {n} more", "… and {n} more", len(items) - MAX_LISTED))
    lines += ["", t._("They do not know yet whether to come: answer them with /pending.")]
    return Message("\n".join(lines))


def application_still_pending(n: ApplicationStillPending, t: Translator) -> Message:
    """To the volunteer, the evening before: no answer yet; cancel if plans changed."""
    text = "\n".join(
        [
            "⏳ "
            + t._(
                "Your application for <b>{mission}</b> tomorrow is still waiting for"
                " {organisation}'s answer.",
                mission=esc(n.mission_title),
                organisation=esc(n.organisation_name),
            ),
            "🗓 " + slot_text(n, t),
            "",
            t._(
                "I will tell you as soon as they answer. If you can no longer come, cancel"
                " it so that they can count on someone else."
            ),
        ]
    )
    data = {"app": n.application_id}
    return Message.with_buttons(
        text, [[Button("✖ " + t._("Cancel my application"), ASK_CANCEL, data)]]
    )


ELECTION_RENDERERS: dict[str, Renderer] = {
    ApplicationNudgeSoon.kind: application_nudge_soon,
    PendingTomorrow.kind: pending_tomorrow,
    ApplicationStillPending.kind: application_still_pending,
}
