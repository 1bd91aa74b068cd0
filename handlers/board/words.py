"""What the board says after an action, in the visitor's language: the action's outcome or
the service's refusal, by its code."""

from __future__ import annotations

from bot.i18n import Translator


def notice_text(t: Translator, code: str | None) -> str | None:
    if not code:
        return None
    known = {
        "approved": t._("Approved: the volunteer is told."),
        "refused": t._("Refused: the volunteer is told."),
        "already_decided": t._("Someone already answered this application."),
        "marked": t._("Attendance noted."),
        "callout_launched": t._("Callout launched: the first volunteers are being asked."),
        "needed": t._("Please give a number of people between 1 and 500."),
        "reason": t._("Please choose a reason for the refusal."),
        "not_member": t._("Only coordinators of this organisation can do that."),
        "slot_not_started": t._("This slot has not started yet."),
        "not_active": t._("This application is no longer active."),
        "slot_started": t._("This slot has already started."),
        "slot_full": t._("This slot is full now."),
        "mission_closed": t._("This mission is closed."),
        "organisation_not_verified": t._(
            "Callouts open once a referent has verified the organisation."
        ),
        "callout_needs_urgent": t._(
            "Volunteers are not woken at night: tick “urgent” for a slot before morning."
        ),
        "mission_without_place": t._("This mission has no place to search around."),
        "slot_not_found": t._("This slot no longer exists."),
        "application_not_found": t._("This application no longer exists."),
    }
    return known.get(code, t._("Sorry, that is not possible right now."))
