"""Telegram texts of moderation: a mission for the referent to review (with Publish / Ask
for changes / Refuse), and the referent's decision as its coordinators read it. Registered
in render.RENDERERS, which imports this module, so its helpers are imported when a
renderer runs."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from bot.actions import RESUBMIT, REVIEW_CHANGES, REVIEW_PUBLISH, REVIEW_REFUSE
from bot.buttons import Button
from bot.i18n import Translator

if TYPE_CHECKING:
    from bot.messaging.render import Rendered

MAX_SLOTS_SHOWN = 8


def review_buttons(t: Translator, mission_id: int) -> list[list[Button]]:
    data = {"mission": mission_id}
    return [
        [Button("✅ " + t._("Publish"), REVIEW_PUBLISH, data)],
        [
            Button("✏️ " + t._("Ask for changes"), REVIEW_CHANGES, data),
            Button("❌ " + t._("Refuse"), REVIEW_REFUSE, data),
        ],
    ]


def _slot_lines(payload: dict[str, Any], t: Translator) -> list[str]:
    from bot.messaging.render import esc

    zone = ZoneInfo(payload["timezone"])
    slots = payload.get("slots") or [
        {"starts_at": payload["starts_at"], "ends_at": payload["ends_at"], "capacity": None}
    ]
    lines = []
    for slot in slots[:MAX_SLOTS_SHOWN]:
        span = t.slot_span(
            datetime.fromisoformat(slot["starts_at"]), datetime.fromisoformat(slot["ends_at"]), zone
        )
        line = "🗓 " + esc(span)
        if slot.get("capacity"):
            line += " — " + t.n_("{n} volunteer", "{n} volunteers", int(slot["capacity"]))
        lines.append(line)
    if len(slots) > MAX_SLOTS_SHOWN:
        more = len(slots) - MAX_SLOTS_SHOWN
        lines.append(t.n_("… and {n} more slot", "… and {n} more slots", more))
    return lines


def _duplicate_lines(payload: dict[str, Any], t: Translator) -> list[str]:
    from bot.messaging.render import esc

    hints = payload.get("duplicates") or []
    if not hints:
        return []
    lines = ["", "⚠️ " + t._("<b>Possible duplicate of:</b>")]
    lines += [
        "• "
        + t._(
            "{mission} ({organisation})",
            mission=esc(h["title"]),
            organisation=esc(h["organisation"]),
        )
        for h in hints
    ]
    return lines


def mission_review(payload: dict[str, Any], t: Translator) -> Rendered:
    """To a referent: a new mission of their territory waits for their decision."""
    from bot.messaging.render import Rendered, _place, esc

    organisation = esc(payload["organisation_name"])
    if not payload.get("organisation_verified"):
        organisation += " · " + t._("not verified yet")
    description = str(payload.get("description") or "").strip()
    waiting = int(payload.get("waiting_days") or 0)
    reminder = []
    if waiting:
        reminder = [
            "⏰ "
            + t.n_(
                "Waiting for your decision for {n} day.",
                "Waiting for your decision for {n} days.",
                waiting,
            )
        ]
    text = "\n".join(
        [
            "🔎 " + t._("<b>Mission to review</b>"),
            *reminder,
            "<b>" + esc(payload["mission_title"]) + "</b>",
            "🏢 " + organisation,
            "📍 " + _place(payload, t),
            *_slot_lines(payload, t),
            *(["", esc(description)] if description else []),
            *_duplicate_lines(payload, t),
        ]
    )
    return Rendered(text, review_buttons(t, int(payload["mission_id"])))


def mission_approved(payload: dict[str, Any], t: Translator) -> Rendered:
    """To the coordinators: the referent published their mission."""
    from bot.messaging.render import Rendered, esc

    text = "✅ " + t._(
        "<b>{mission}</b> was approved by the referent of your territory: volunteers can"
        " find it now with /missions.",
        mission=esc(payload["mission_title"]),
    )
    return Rendered(text)


def mission_changes_requested(payload: dict[str, Any], t: Translator) -> Rendered:
    """To the coordinators: the referent's note; the mission is back to draft."""
    from bot.messaging.render import Rendered, esc

    text = "\n".join(
        [
            "✏️ "
            + t._(
                "The referent of your territory asks for changes to <b>{mission}</b> before"
                " publishing it:",
                mission=esc(payload["mission_title"]),
            ),
            "",
            "<i>" + esc(payload.get("note") or "") + "</i>",
            "",
            t._(
                "The mission is back to draft. Once you have seen to it, tap Resubmit or"
                " send /resubmit."
            ),
        ]
    )
    buttons = [[Button("📤 " + t._("Resubmit"), RESUBMIT, {"mission": int(payload["mission_id"])})]]
    return Rendered(text, buttons)


def mission_refused(payload: dict[str, Any], t: Translator) -> Rendered:
    """To the coordinators: the referent refused their mission."""
    from bot.messaging.render import Rendered, esc

    text = "❌ " + t._(
        "The referent of your territory refused <b>{mission}</b>: it will not be published."
        " Write to them if you would like to know more.",
        mission=esc(payload["mission_title"]),
    )
    return Rendered(text)


MODERATION_RENDERERS: dict[str, Callable[[dict[str, Any], Translator], Rendered]] = {
    "mission_review": mission_review,
    "mission_approved": mission_approved,
    "mission_changes_requested": mission_changes_requested,
    "mission_refused": mission_refused,
}
