"""Telegram texts of election week's timing: an application whose slot comes soon, the
evening list of tomorrow's applications still without an answer, and the volunteer's note
that their answer is still awaited. Registered in render.RENDERERS."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from bot.actions import ASK_CANCEL
from bot.buttons import Button
from bot.i18n import Translator
from bot.messaging.render_organisers import _decision_buttons, _rendered, _slot
from bot.messaging.rendered import esc

if TYPE_CHECKING:
    from bot.messaging.render import Rendered

MAX_LISTED = 25  # a list longer than this says how many more, /pending shows them


def _name(payload: dict[str, Any], t: Translator) -> str:
    name = esc(payload["volunteer_name"])
    return t._("{name} (via SMS)", name=name) if payload.get("volunteer_via_sms") else name


def application_nudge_soon(payload: dict[str, Any], t: Translator) -> Rendered:
    """To the organisation: an application waits and its slot is close; decide from here."""
    hours = int(payload.get("hours_left") or 1)
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
                organisation=esc(payload["organisation_name"]),
            ),
            t._(
                "<b>{name}</b> applied for <b>{mission}</b>, which starts in {left}.",
                name=_name(payload, t),
                mission=esc(payload["mission_title"]),
                left=left,
            ),
            "🗓 " + _slot(payload, t),
            "",
            t._("Answer now so that they know whether to come."),
        ]
    )
    return _rendered(text, _decision_buttons(t, int(payload["application_id"])))


def pending_tomorrow(payload: dict[str, Any], t: Translator) -> Rendered:
    """To the organisation, the evening before: tomorrow's applications without an answer."""
    items = list(payload.get("items") or [])
    day = t.weekday_date(date.fromisoformat(str(payload["date"])))
    lines = [
        "🌙 "
        + t._(
            "<b>Tomorrow, no answer yet</b> · {organisation}",
            organisation=esc(payload["organisation_name"]),
        ),
        t.n_(
            "{n} application for {day} still waits for your answer:",
            "{n} applications for {day} still wait for your answer:",
            len(items),
            day=esc(day),
        ),
    ]
    for item in items[:MAX_LISTED]:
        zone = ZoneInfo(item["timezone"])
        starts = datetime.fromisoformat(item["starts_at"]).astimezone(zone)
        lines.append(
            "• "
            + t._(
                "<b>{name}</b> — {mission}, {time}",
                name=_name(item, t),
                mission=esc(item["mission_title"]),
                time=t.clock(starts),
            )
        )
    if len(items) > MAX_LISTED:
        lines.append(t.n_("… and {n} more", "… and {n} more", len(items) - MAX_LISTED))
    lines += ["", t._("They do not know yet whether to come: answer them with /pending.")]
    return _rendered("\n".join(lines))


def application_still_pending(payload: dict[str, Any], t: Translator) -> Rendered:
    """To the volunteer, the evening before: no answer yet; cancel if plans changed."""
    text = "\n".join(
        [
            "⏳ "
            + t._(
                "Your application for <b>{mission}</b> tomorrow is still waiting for"
                " {organisation}'s answer.",
                mission=esc(payload["mission_title"]),
                organisation=esc(payload["organisation_name"]),
            ),
            "🗓 " + _slot(payload, t),
            "",
            t._(
                "I will tell you as soon as they answer. If you can no longer come, cancel"
                " it so that they can count on someone else."
            ),
        ]
    )
    data = {"app": int(payload["application_id"])}
    return _rendered(text, [[Button("✖ " + t._("Cancel my application"), ASK_CANCEL, data)]])


ELECTION_RENDERERS: dict[str, Callable[[dict[str, Any], Translator], Rendered]] = {
    "application_nudge_soon": application_nudge_soon,
    "pending_tomorrow": pending_tomorrow,
    "application_still_pending": application_still_pending,
}
