"""Telegram texts of a coordinator's changes, to everyone concerned: a mission's new title or
place, a slot moved (old → new time), a slot or a mission cancelled with its reason, a
holder moved back to the waiting list when places were cut. Registered in
render.RENDERERS."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from bot.domain import CANCEL_REASONS
from bot.i18n import Translator
from bot.messaging.message import Message
from bot.notifications.mission_changes import (
    Cancellation,
    ChangeFacts,
    MissionCancelled,
    MissionChanged,
    MovedToWaitlist,
    SlotCancelled,
    SlotMoved,
)
from handlers.telegram.render.shared import Renderer, esc, place_text, slot_text


def reason_text(n: Cancellation, t: Translator) -> str:
    """The cancellation's reason in the reader's language (a picked one) or as typed, in
    chat and SMS alike."""
    key = n.reason_key
    if isinstance(key, str) and key in CANCEL_REASONS:
        return t._(CANCEL_REASONS[key])
    return str(n.reason or t._("no reason given"))


def _old_slot(n: SlotMoved, t: Translator) -> str:
    if not n.old_starts_at or not n.old_ends_at:
        return slot_text(n, t)
    return esc(t.slot_span(n.old_starts_at, n.old_ends_at, ZoneInfo(n.timezone)))


def _heading(n: ChangeFacts, t: Translator) -> str:
    return t._(
        "<b>{mission}</b> · {organisation}",
        mission=esc(n.mission_title),
        organisation=esc(n.organisation_name),
    )


def _footer(n: ChangeFacts, t: Translator) -> str:
    if n.to_referent:
        return t._("You receive this as the referent of the territory.")
    return t._("See /mymissions, or cancel there if this no longer suits you.")


def mission_changed(n: MissionChanged, t: Translator) -> Message:
    """To everyone concerned: the title, the description or the place changed."""
    changed = list(n.changed)
    heading = (
        t._("<b>A published mission of your territory changed</b>")
        if n.to_referent
        else t._("<b>A mission you signed up for changed</b>")
    )
    lines = ["✏️ " + heading, _heading(n, t)]
    if "title" in changed and n.old_title:
        lines.append(t._("Formerly: {title}", title=esc(n.old_title)))
    if "address" in changed:
        old = t._("Remote") if n.old_remote else esc(n.old_address or "")
        lines.append(t._("📍 New place: {new} (was: {old})", new=place_text(n, t), old=old))
    else:
        lines.append("📍 " + place_text(n, t))
    if "description" in changed:
        lines.append(t._("The description was updated: see /mymissions."))
    lines += ["🗓 " + slot_text(n, t), "", _footer(n, t)]
    return Message("\n".join(lines))


def slot_moved(n: SlotMoved, t: Translator) -> Message:
    """To everyone concerned: the slot has new times."""
    lines = [
        "🕘 " + t._("<b>New time</b>"),
        _heading(n, t),
        t._("Was: {old}", old=_old_slot(n, t)),
        t._("Now: <b>{new}</b>", new=slot_text(n, t)),
        "📍 " + place_text(n, t),
        "",
    ]
    if not n.to_referent:
        lines.append(t._("Your reminders follow the new time."))
    lines.append(_footer(n, t))
    return Message("\n".join(lines))


def _cancelled(n: Cancellation, t: Translator, title: str, closing: str) -> Message:
    """A slot or a whole mission will not take place: what, why, and what follows."""
    lines = [
        "🚫 " + title,
        _heading(n, t),
        "🗓 " + slot_text(n, t),
        t._("Reason: {reason}", reason=esc(reason_text(n, t))),
        "",
        closing,
    ]
    return Message("\n".join(lines))


def slot_cancelled(n: SlotCancelled, t: Translator) -> Message:
    """To everyone concerned: this slot will not take place."""
    return _cancelled(
        n,
        t,
        t._("<b>Slot cancelled</b>"),
        t._("Your application for it is closed. Other missions need you: /missions"),
    )


def mission_cancelled(n: MissionCancelled, t: Translator) -> Message:
    """To everyone concerned: the whole mission is cancelled."""
    return _cancelled(
        n,
        t,
        t._("<b>Mission cancelled</b>"),
        t._("Your applications for it are closed. Other missions need you: /missions"),
    )


def moved_to_waitlist(n: MovedToWaitlist, t: Translator) -> Message:
    """To a holder moved back to the waiting list because places were cut."""
    lines = [
        "↩️ " + t._("<b>Fewer places</b>"),
        _heading(n, t),
        "🗓 " + slot_text(n, t),
        t._(
            "The organisation needs fewer people for this slot, so you are back on the"
            " waiting list, at the top: the next place that frees up is offered to you first."
        ),
        "",
        t._("See /mymissions, or cancel there if this no longer suits you."),
    ]
    return Message("\n".join(lines))


MISSION_CHANGE_RENDERERS: dict[str, Renderer] = {
    MissionChanged.kind: mission_changed,
    SlotMoved.kind: slot_moved,
    SlotCancelled.kind: slot_cancelled,
    MissionCancelled.kind: mission_cancelled,
    MovedToWaitlist.kind: moved_to_waitlist,
}
