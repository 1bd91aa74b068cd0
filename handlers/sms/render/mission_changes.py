"""SMS texts of a coordinator's changes, to people reached by SMS: a mission's new title or
place, a slot moved (old -> new time), a slot or mission cancelled with its reason, a holder
moved back to the waiting list. Each fits one GSM-7 segment; titles, places and typed
reasons are shortened first. Registered in handlers.sms.render.RENDERERS, which imports this
module, so its helpers are imported when a text is built."""

from __future__ import annotations

from datetime import date
from zoneinfo import ZoneInfo

from bot.i18n import Translator
from bot.notifications.mission_changes import (
    MissionCancelled,
    MissionChanged,
    MovedToWaitlist,
    SlotCancelled,
    SlotMoved,
)
from handlers.sms import dates
from handlers.sms.render.shared import Renderer, fit, place, when
from handlers.telegram.render.mission_changes import reason_text


def _old_when(n: SlotMoved, t: Translator, today: date | None) -> str:

    if not n.old_starts_at or not n.old_ends_at:
        return when(n, t, today)
    return dates.span(t.locale, n.old_starts_at, n.old_ends_at, ZoneInfo(n.timezone), today)


def mission_changed(n: MissionChanged, t: Translator, today: date | None) -> str:
    """The place, the title or the description of a mission someone signed up for changed."""

    values = {
        "mission": n.mission_title,
        "when": when(n, t, today),
        "place": place(n, t),
    }
    changed = n.changed
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
        values | {"organisation": n.organisation_name},
        ("mission", "organisation"),
    )


def slot_moved(n: SlotMoved, t: Translator, today: date | None) -> str:
    """The slot has new times: old -> new."""

    return fit(
        lambda v: t._(
            "Renfort: new time for {mission}: {new} (was {old}). Reminders follow. MY"
            " MISSIONS to cancel.",
            **v,
        ),
        {
            "mission": n.mission_title,
            "new": when(n, t, today),
            "old": _old_when(n, t, today),
        },
        ("mission",),
    )


def slot_cancelled(n: SlotCancelled, t: Translator, today: date | None) -> str:
    """This slot will not take place."""

    return fit(
        lambda v: t._(
            "Renfort: {mission}, {when} is cancelled ({reason}). MISSIONS for others.", **v
        ),
        {
            "mission": n.mission_title,
            "when": when(n, t, today),
            "reason": reason_text(n, t),
        },
        ("mission", "reason"),
    )


def mission_cancelled(n: MissionCancelled, t: Translator, today: date | None) -> str:
    """The whole mission is cancelled."""

    return fit(
        lambda v: t._(
            "Renfort: {organisation} cancelled {mission} ({reason}). MISSIONS for others.", **v
        ),
        {
            "mission": n.mission_title,
            "organisation": n.organisation_name,
            "reason": reason_text(n, t),
        },
        ("mission", "organisation", "reason"),
    )


def moved_to_waitlist(n: MovedToWaitlist, t: Translator, today: date | None) -> str:
    """A holder moved back to the waiting list because places were cut."""

    return fit(
        lambda v: t._(
            "Renfort: fewer places for {mission}, {when}. You are first on the waiting list:"
            " the next free place is yours.",
            **v,
        ),
        {"mission": n.mission_title, "when": when(n, t, today)},
        ("mission",),
    )


MISSION_CHANGE_RENDERERS: dict[str, Renderer] = {
    MissionChanged.kind: mission_changed,
    SlotMoved.kind: slot_moved,
    SlotCancelled.kind: slot_cancelled,
    MissionCancelled.kind: mission_cancelled,
    MovedToWaitlist.kind: moved_to_waitlist,
}
