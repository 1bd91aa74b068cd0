"""SMS texts of crisis callouts: the call (answered with a bare YES or NO), the coordinators'
alerts, and the replies to a volunteer's answer. Each fits one GSM-7 segment. The
notifications are registered in handlers.sms.render.RENDERERS."""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING

from bot.i18n import Translator
from bot.messaging.message import Message
from bot.notifications.callouts import Callout, CalloutExhausted, CalloutFilledOrganisation
from handlers.sms.render.shared import Renderer, fit, place, when, yes_no

if TYPE_CHECKING:
    from bot.services.callouts import CalloutFacts, CalloutView


def callout(n: Callout, t: Translator, today: date | None) -> Message:
    """To a volunteer: YES takes a place while places are left, NO says not this time."""

    values = {
        "organisation": n.organisation_name,
        "mission": n.mission_title,
        "when": when(n, t, today),
        "place": place(n, t),
    }
    shrinkable = ("mission", "place", "organisation")
    if n.urgent:
        return yes_no(
            t,
            fit(
                lambda v: t._(
                    "Renfort URGENT: {organisation} needs help: {mission}, {when}, {place}. Reply"
                    " YES if you are available, NO otherwise.",
                    **v,
                ),
                values,
                shrinkable,
            ),
        )
    return yes_no(
        t,
        fit(
            lambda v: t._(
                "Renfort: {organisation} needs help: {mission}, {when}, {place}. Reply YES if you"
                " are available, NO otherwise.",
                **v,
            ),
            values,
            shrinkable,
        ),
    )


def callout_exhausted(n: CalloutExhausted, t: Translator, today: date | None) -> str:
    """To a coordinator reached only by SMS: nobody is left to ask."""

    return fit(
        lambda v: t.n_(
            "Renfort: callout for {mission}, {when}: nobody left to ask, {taken} of {needed}"
            " place taken. Widen it in Telegram.",
            "Renfort: callout for {mission}, {when}: nobody left to ask, {taken} of {needed}"
            " places taken. Widen it in Telegram.",
            int(n.needed or 0),
            **v,
        ),
        {
            "mission": n.mission_title,
            "when": when(n, t, today),
            "taken": str(int(n.taken or 0)),
            "needed": str(int(n.needed or 0)),
        },
        ("mission",),
    )


def callout_filled_organisation(
    n: CalloutFilledOrganisation, t: Translator, today: date | None
) -> str:
    """To a coordinator reached only by SMS: the callout found its people."""

    return fit(
        lambda v: t.n_(
            "Renfort: callout complete, {taken} volunteer will come for {mission}, {when}.",
            "Renfort: callout complete, {taken} volunteers will come for {mission}, {when}.",
            int(n.taken or 0),
            **v,
        ),
        {
            "mission": n.mission_title,
            "when": when(n, t, today),
            "taken": str(int(n.taken or 0)),
        },
        ("mission",),
    )


CALLOUT_RENDERERS: dict[str, Renderer] = {
    Callout.kind: callout,
    CalloutExhausted.kind: callout_exhausted,
    CalloutFilledOrganisation.kind: callout_filled_organisation,
}


# ---- replies to a YES or NO ----------------------------------------------------------


def callout_taken(
    t: Translator, view: CalloutFacts | CalloutView, today: date | None = None
) -> str:

    return fit(
        lambda v: t._(
            "Thank you! Your place is confirmed: {mission}, {when}, {place}. MY MISSIONS to"
            " see it.",
            **v,
        ),
        {
            "mission": view.mission_title,
            "when": when(view, t, today),
            "place": place(view, t),
        },
        ("mission", "place"),
    )


def callout_waitlisted(
    t: Translator, view: CalloutFacts | CalloutView, today: date | None = None
) -> str:

    return fit(
        lambda v: t._(
            "Thank you! Enough people already said yes for {mission}, {when}. You are on the"
            " waiting list in case a place frees up.",
            **v,
        ),
        {"mission": view.mission_title, "when": when(view, t, today)},
        ("mission",),
    )


def callout_declined(
    t: Translator, view: CalloutFacts | CalloutView, today: date | None = None
) -> str:

    return fit(
        lambda v: t._("Noted, thank you. We will not ask you again for {mission}.", **v),
        {"mission": view.mission_title},
        ("mission",),
    )


def callout_closed(t: Translator) -> str:
    from handlers.sms.replies import one

    return one(t._("This call for volunteers is over. Thank you! Send MISSIONS for others."))


def callout_already(t: Translator) -> str:
    from handlers.sms.replies import one

    return one(t._("You already answered this call. Send MY MISSIONS to see your missions."))
