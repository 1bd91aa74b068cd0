"""Telegram texts of moderation: a mission for the referent to review (with Publish / Ask
for changes / Refuse), and the referent's decision as its coordinators read it. Registered
in render.RENDERERS."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from bot.actions import RESUBMIT, REVIEW_CHANGES, REVIEW_PUBLISH, REVIEW_REFUSE
from bot.buttons import Button
from bot.i18n import Translator
from bot.messaging.message import Message
from bot.notifications.moderation import (
    MissionApproved,
    MissionChangesRequested,
    MissionRefused,
    MissionReview,
    ReviewSlot,
)
from handlers.telegram.render.shared import Renderer, esc, place_text

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


def _slot_lines(n: MissionReview, t: Translator) -> list[str]:
    zone = ZoneInfo(n.timezone)
    slots = n.slots
    if not slots and n.starts_at is not None and n.ends_at is not None:
        slots = (ReviewSlot(starts_at=n.starts_at, ends_at=n.ends_at),)
    lines = []
    for slot in slots[:MAX_SLOTS_SHOWN]:
        span = t.slot_span(slot.starts_at, slot.ends_at, zone)
        line = "🗓 " + esc(span)
        if slot.capacity:
            line += " — " + t.n_("{n} volunteer", "{n} volunteers", int(slot.capacity))
        lines.append(line)
    if len(slots) > MAX_SLOTS_SHOWN:
        more = len(slots) - MAX_SLOTS_SHOWN
        lines.append(t.n_("… and {n} more slot", "… and {n} more slots", more))
    return lines


def _duplicate_lines(n: MissionReview, t: Translator) -> list[str]:
    hints = n.duplicates
    if not hints:
        return []
    lines = ["", "⚠️ " + t._("<b>Possible duplicate of:</b>")]
    lines += [
        "• "
        + t._(
            "{mission} ({organisation})",
            mission=esc(h.title),
            organisation=esc(h.organisation),
        )
        for h in hints
    ]
    return lines


def mission_review(n: MissionReview, t: Translator) -> Message:
    """To a referent: a new mission of their territory waits for their decision."""
    organisation = esc(n.organisation_name)
    if not n.organisation_verified:
        organisation += " · " + t._("not verified yet")
    description = str(n.description or "").strip()
    waiting = int(n.waiting_days or 0)
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
            "<b>" + esc(n.mission_title) + "</b>",
            "🏢 " + organisation,
            "📍 " + place_text(n, t),
            *_slot_lines(n, t),
            *(["", esc(description)] if description else []),
            *_duplicate_lines(n, t),
        ]
    )
    return Message.with_buttons(text, review_buttons(t, n.mission_id))


def mission_approved(n: MissionApproved, t: Translator) -> Message:
    """To the coordinators: the referent published their mission."""
    text = "✅ " + t._(
        "<b>{mission}</b> was approved by the referent of your territory: volunteers can"
        " find it now with /missions.",
        mission=esc(n.mission_title),
    )
    return Message(text)


def mission_changes_requested(n: MissionChangesRequested, t: Translator) -> Message:
    """To the coordinators: the referent's note; the mission is back to draft."""
    text = "\n".join(
        [
            "✏️ "
            + t._(
                "The referent of your territory asks for changes to <b>{mission}</b> before"
                " publishing it:",
                mission=esc(n.mission_title),
            ),
            "",
            "<i>" + esc(n.note or "") + "</i>",
            "",
            t._(
                "The mission is back to draft. Once you have seen to it, tap Resubmit or"
                " send /resubmit."
            ),
        ]
    )
    buttons = [[Button("📤 " + t._("Resubmit"), RESUBMIT, {"mission": n.mission_id})]]
    return Message.with_buttons(text, buttons)


def mission_refused(n: MissionRefused, t: Translator) -> Message:
    """To the coordinators: the referent refused their mission."""
    text = "❌ " + t._(
        "The referent of your territory refused <b>{mission}</b>: it will not be published."
        " Write to them if you would like to know more.",
        mission=esc(n.mission_title),
    )
    return Message(text)


MODERATION_RENDERERS: dict[str, Renderer] = {
    MissionReview.kind: mission_review,
    MissionApproved.kind: mission_approved,
    MissionChangesRequested.kind: mission_changes_requested,
    MissionRefused.kind: mission_refused,
}
