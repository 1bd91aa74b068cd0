"""SMS texts of election week's timing: to a coordinator reachable only by SMS, a pointer
to Telegram for the soon-due nudge and the evening list; to the volunteer, the answer still
awaited the evening before. Registered in handlers.sms.render.RENDERERS."""

from __future__ import annotations

from datetime import date

from bot.i18n import Translator
from bot.notifications.election import (
    ApplicationNudgeSoon,
    ApplicationStillPending,
    PendingTomorrow,
)
from handlers.sms.render.organisers import _slot_values
from handlers.sms.render.shared import Renderer, fit


def application_nudge_soon(n: ApplicationNudgeSoon, t: Translator, today: date | None) -> str:

    values = _slot_values(n, t, today) | {"name": str(n.volunteer_name or "")}
    return fit(
        lambda v: t._(
            "Renfort: {name} still waits for your answer for {mission}, {when}. Please answer"
            " in Telegram.",
            **v,
        ),
        values,
        ("mission", "name"),
    )


def pending_tomorrow(n: PendingTomorrow, t: Translator, today: date | None) -> str:

    count = len(n.items)
    return fit(
        lambda v: t.n_(
            "Renfort, {organisation}: {n} application for tomorrow still waits for your"
            " answer. Please answer in Telegram (/pending).",
            "Renfort, {organisation}: {n} applications for tomorrow still wait for your"
            " answer. Please answer in Telegram (/pending).",
            count,
            **v,
        ),
        {"organisation": n.organisation_name},
        ("organisation",),
    )


def application_still_pending(n: ApplicationStillPending, t: Translator, today: date | None) -> str:

    return fit(
        lambda v: t._(
            "Renfort: {organisation} has not answered yet for {mission}, {when}. Cannot come"
            " any more? Send MY MISSIONS to cancel.",
            **v,
        ),
        _slot_values(n, t, today),
        ("mission", "organisation"),
    )


ELECTION_RENDERERS: dict[str, Renderer] = {
    ApplicationNudgeSoon.kind: application_nudge_soon,
    PendingTomorrow.kind: pending_tomorrow,
    ApplicationStillPending.kind: application_still_pending,
}
