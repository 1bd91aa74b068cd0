"""Telegram texts of crisis callouts: the call itself (with "I'm available" / "Not this
time"), and the coordinators' word that a callout found its people or nobody is left to ask.
Registered in render.RENDERERS."""

from __future__ import annotations

from bot.actions import CALLOUT_NO, CALLOUT_YES
from bot.buttons import Button
from bot.i18n import Translator
from bot.messaging.message import Message
from bot.notifications.callouts import Callout, CalloutExhausted, CalloutFilledOrganisation
from handlers.telegram.render.shared import Renderer, answer_buttons, esc, place_text, slot_text


def callout_buttons(t: Translator, callout_id: int) -> list[list[Button]]:
    data = {"callout_id": callout_id}
    return answer_buttons(
        (t._("I'm available"), CALLOUT_YES), (t._("Not this time"), CALLOUT_NO), data
    )


def callout(n: Callout, t: Translator) -> Message:
    """To a volunteer: an organisation needs people for one slot; first come, first served."""
    organisation = esc(n.organisation_name)
    if n.urgent:
        title = "🚨 " + t._(
            "<b>Urgent call for volunteers</b> · {organisation}", organisation=organisation
        )
    else:
        title = "📣 " + t._(
            "<b>Call for volunteers</b> · {organisation}", organisation=organisation
        )
    place = "📍 " + place_text(n, t)
    if n.distance_km is not None:
        place += " · " + t._("{distance} from you", distance=t.distance(n.distance_km))
    needed = int(n.needed or 1)
    text = "\n".join(
        [
            title,
            t.n_(
                "{n} person needed for <b>{mission}</b>.",
                "{n} people needed for <b>{mission}</b>.",
                needed,
                mission=esc(n.mission_title),
            ),
            "🗓 " + slot_text(n, t),
            place,
            "",
            t._("Can you come? The places go to the first who answer."),
        ]
    )
    return Message.with_buttons(text, callout_buttons(t, n.callout_id))


def callout_exhausted(n: CalloutExhausted, t: Translator) -> Message:
    """To the coordinators: everyone the callout could ask was asked, the need is not met."""
    taken, needed = int(n.taken or 0), int(n.needed or 0)
    text = "\n".join(
        [
            "⚠️ " + t._("<b>Callout: nobody left to ask</b>"),
            "<b>" + esc(n.mission_title) + "</b>",
            "🗓 " + slot_text(n, t),
            t._(
                "Places taken: {taken} of {needed} · asked: {asked} · no answer yet: {waiting}",
                taken=taken,
                needed=needed,
                asked=int(n.asked or 0),
                waiting=int(n.waiting or 0),
            ),
            "",
            t._("Widen the area or ask for fewer people to go on."),
        ]
    )
    return Message(text)


def callout_filled_organisation(n: CalloutFilledOrganisation, t: Translator) -> Message:
    """To the coordinators without a live status message: the callout found its people."""
    text = "\n".join(
        [
            "✅ " + t._("<b>Callout complete</b>"),
            t.n_(
                "{n} volunteer will come for <b>{mission}</b>.",
                "{n} volunteers will come for <b>{mission}</b>.",
                int(n.taken or 0),
                mission=esc(n.mission_title),
            ),
            "🗓 " + slot_text(n, t),
            t._("Nobody else will be asked; the others are on the waiting list."),
        ]
    )
    return Message(text)


CALLOUT_RENDERERS: dict[str, Renderer] = {
    Callout.kind: callout,
    CalloutExhausted.kind: callout_exhausted,
    CalloutFilledOrganisation.kind: callout_filled_organisation,
}
