"""Telegram texts of a coordinator's changes, to everyone concerned: a mission's new title or
place, a slot moved (old → new time), a slot or a mission cancelled with its reason, a
holder moved back to the waiting list when places were cut. Registered in
render.RENDERERS, which imports this module, so its helpers are imported when a text is
built."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from bot.domain import CANCEL_REASONS
from bot.i18n import Translator

if TYPE_CHECKING:
    from bot.messaging.render import Rendered


def reason_text(payload: Mapping[str, Any], t: Translator) -> str:
    """The cancellation's reason in the reader's language (a picked one) or as typed, in
    chat and SMS alike."""
    key = payload.get("reason_key")
    if isinstance(key, str) and key in CANCEL_REASONS:
        return t._(CANCEL_REASONS[key])
    return str(payload.get("reason") or t._("no reason given"))


def _old_slot(payload: dict[str, Any], t: Translator) -> str:
    from bot.messaging.render import _slot

    if not payload.get("old_starts_at"):
        return _slot(payload, t)
    return t.slot_span(
        datetime.fromisoformat(payload["old_starts_at"]),
        datetime.fromisoformat(payload["old_ends_at"]),
        ZoneInfo(payload["timezone"]),
    )


def _heading(payload: dict[str, Any], t: Translator) -> str:
    from bot.messaging.render import esc

    return t._(
        "<b>{mission}</b> · {organisation}",
        mission=esc(payload["mission_title"]),
        organisation=esc(payload["organisation_name"]),
    )


def _footer(payload: dict[str, Any], t: Translator) -> str:
    if payload.get("to_referent"):
        return t._("You receive this as the referent of the territory.")
    return t._("See /mymissions, or cancel there if this no longer suits you.")


def mission_changed(payload: dict[str, Any], t: Translator) -> Rendered:
    """To everyone concerned: the title, the description or the place changed."""
    from bot.messaging.render import Rendered, _place, _slot, esc

    changed = list(payload.get("changed") or [])
    heading = (
        t._("<b>A published mission of your territory changed</b>")
        if payload.get("to_referent")
        else t._("<b>A mission you signed up for changed</b>")
    )
    lines = ["✏️ " + heading, _heading(payload, t)]
    if "title" in changed and payload.get("old_title"):
        lines.append(t._("Formerly: {title}", title=esc(payload["old_title"])))
    if "address" in changed:
        old = t._("Remote") if payload.get("old_remote") else esc(payload.get("old_address") or "")
        lines.append(t._("📍 New place: {new} (was: {old})", new=_place(payload, t), old=old))
    else:
        lines.append("📍 " + _place(payload, t))
    if "description" in changed:
        lines.append(t._("The description was updated: see /mymissions."))
    lines += ["🗓 " + esc(_slot(payload, t)), "", _footer(payload, t)]
    return Rendered("\n".join(lines))


def slot_moved(payload: dict[str, Any], t: Translator) -> Rendered:
    """To everyone concerned: the slot has new times."""
    from bot.messaging.render import Rendered, _place, _slot, esc

    lines = [
        "🕘 " + t._("<b>New time</b>"),
        _heading(payload, t),
        t._("Was: {old}", old=esc(_old_slot(payload, t))),
        t._("Now: <b>{new}</b>", new=esc(_slot(payload, t))),
        "📍 " + _place(payload, t),
        "",
    ]
    if not payload.get("to_referent"):
        lines.append(t._("Your reminders follow the new time."))
    lines.append(_footer(payload, t))
    return Rendered("\n".join(lines))


def _cancelled(payload: dict[str, Any], t: Translator, title: str, closing: str) -> Rendered:
    """A slot or a whole mission will not take place: what, why, and what follows."""
    from bot.messaging.render import Rendered, _slot, esc

    lines = [
        "🚫 " + title,
        _heading(payload, t),
        "🗓 " + esc(_slot(payload, t)),
        t._("Reason: {reason}", reason=esc(reason_text(payload, t))),
        "",
        closing,
    ]
    return Rendered("\n".join(lines))


def slot_cancelled(payload: dict[str, Any], t: Translator) -> Rendered:
    """To everyone concerned: this slot will not take place."""
    return _cancelled(
        payload,
        t,
        t._("<b>Slot cancelled</b>"),
        t._("Your application for it is closed. Other missions need you: /missions"),
    )


def mission_cancelled(payload: dict[str, Any], t: Translator) -> Rendered:
    """To everyone concerned: the whole mission is cancelled."""
    return _cancelled(
        payload,
        t,
        t._("<b>Mission cancelled</b>"),
        t._("Your applications for it are closed. Other missions need you: /missions"),
    )


def moved_to_waitlist(payload: dict[str, Any], t: Translator) -> Rendered:
    """To a holder moved back to the waiting list because places were cut."""
    from bot.messaging.render import Rendered, _slot, esc

    lines = [
        "↩️ " + t._("<b>Fewer places</b>"),
        _heading(payload, t),
        "🗓 " + esc(_slot(payload, t)),
        t._(
            "The organisation needs fewer people for this slot, so you are back on the"
            " waiting list, at the top: the next place that frees up is offered to you first."
        ),
        "",
        t._("See /mymissions, or cancel there if this no longer suits you."),
    ]
    return Rendered("\n".join(lines))


MISSION_CHANGE_RENDERERS: dict[str, Callable[[dict[str, Any], Translator], Rendered]] = {
    "mission_changed": mission_changed,
    "slot_moved": slot_moved,
    "slot_cancelled": slot_cancelled,
    "mission_cancelled": mission_cancelled,
    "moved_to_waitlist": moved_to_waitlist,
}
