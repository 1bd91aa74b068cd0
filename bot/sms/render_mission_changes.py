"""SMS texts of a coordinator's changes, to people reached by SMS: a mission's new title or
place, a slot moved (old -> new time), a slot or mission cancelled with its reason, a holder
moved back to the waiting list. Each fits one GSM-7 segment; titles, places and typed
reasons are shortened first. Registered in bot.sms.render.RENDERERS, which imports this
module, so its helpers are imported when a text is built."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from bot.i18n import Translator
from bot.messaging.render_mission_changes import reason_text
from bot.sms import dates


def _old_when(payload: Mapping[str, Any], t: Translator, today: date | None) -> str:
    from bot.sms.render import when

    if not payload.get("old_starts_at"):
        return when(payload, t, today)
    return dates.span(
        t.locale,
        datetime.fromisoformat(payload["old_starts_at"]),
        datetime.fromisoformat(payload["old_ends_at"]),
        ZoneInfo(payload["timezone"]),
        today,
    )


def mission_changed(payload: Mapping[str, Any], t: Translator, today: date | None) -> str:
    """The place, the title or the description of a mission someone signed up for changed."""
    from bot.sms.render import fit, place, when

    values = {
        "mission": str(payload["mission_title"]),
        "when": when(payload, t, today),
        "place": place(payload, t),
    }
    changed = payload.get("changed") or []
    if "address" in changed:
        return fit(
            lambda v: t._("Renfort: {mission}, {when} now takes place at {place}.", **v),
            values,
            ("mission", "place"),
        )
    if "title" in changed:
        return fit(
            lambda v: t._(
                "Renfort: the mission you signed up for, {when}, is now called {mission}.", **v
            ),
            values,
            ("mission",),
        )
    return fit(
        lambda v: t._("Renfort: {organisation} updated the details of {mission}, {when}.", **v),
        values | {"organisation": str(payload["organisation_name"])},
        ("mission", "organisation"),
    )


def slot_moved(payload: Mapping[str, Any], t: Translator, today: date | None) -> str:
    """The slot has new times: old -> new."""
    from bot.sms.render import fit, when

    return fit(
        lambda v: t._(
            "Renfort: new time for {mission}: {new} (was {old}). Reminders follow. MY"
            " MISSIONS to cancel.",
            **v,
        ),
        {
            "mission": str(payload["mission_title"]),
            "new": when(payload, t, today),
            "old": _old_when(payload, t, today),
        },
        ("mission",),
    )


def slot_cancelled(payload: Mapping[str, Any], t: Translator, today: date | None) -> str:
    """This slot will not take place."""
    from bot.sms.render import fit, when

    return fit(
        lambda v: t._(
            "Renfort: {mission}, {when} is cancelled ({reason}). MISSIONS for others.", **v
        ),
        {
            "mission": str(payload["mission_title"]),
            "when": when(payload, t, today),
            "reason": reason_text(payload, t),
        },
        ("mission", "reason"),
    )


def mission_cancelled(payload: Mapping[str, Any], t: Translator, today: date | None) -> str:
    """The whole mission is cancelled."""
    from bot.sms.render import fit

    return fit(
        lambda v: t._(
            "Renfort: {organisation} cancelled {mission} ({reason}). MISSIONS for others.", **v
        ),
        {
            "mission": str(payload["mission_title"]),
            "organisation": str(payload["organisation_name"]),
            "reason": reason_text(payload, t),
        },
        ("mission", "organisation", "reason"),
    )


def moved_to_waitlist(payload: Mapping[str, Any], t: Translator, today: date | None) -> str:
    """A holder moved back to the waiting list because places were cut."""
    from bot.sms.render import fit, when

    return fit(
        lambda v: t._(
            "Renfort: fewer places for {mission}, {when}. You are first on the waiting list:"
            " the next free place is yours.",
            **v,
        ),
        {"mission": str(payload["mission_title"]), "when": when(payload, t, today)},
        ("mission",),
    )


MISSION_CHANGE_RENDERERS: dict[str, Callable[[Mapping[str, Any], Translator, date | None], str]] = {
    "mission_changed": mission_changed,
    "slot_moved": slot_moved,
    "slot_cancelled": slot_cancelled,
    "mission_cancelled": mission_cancelled,
    "moved_to_waitlist": moved_to_waitlist,
}
