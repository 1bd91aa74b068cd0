"""SMS texts of election week's timing: to a coordinator reachable only by SMS, a pointer
to Telegram for the soon-due nudge and the evening list; to the volunteer, the answer still
awaited the evening before. Registered in bot.sms.render.RENDERERS."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import date
from typing import Any

from bot.i18n import Translator
from bot.sms.render_organisers import _slot_values


def application_nudge_soon(payload: Mapping[str, Any], t: Translator, today: date | None) -> str:
    from bot.sms.render import fit

    values = _slot_values(payload, t, today) | {"name": str(payload.get("volunteer_name") or "")}
    return fit(
        lambda v: t._(
            "Renfort: {name} still waits for your answer for {mission}, {when}. Please answer"
            " in Telegram.",
            **v,
        ),
        values,
        ("mission", "name"),
    )


def pending_tomorrow(payload: Mapping[str, Any], t: Translator, today: date | None) -> str:
    from bot.sms.render import fit

    count = len(payload.get("items") or [])
    return fit(
        lambda v: t.n_(
            "Renfort, {organisation}: {n} application for tomorrow still waits for your"
            " answer. Please answer in Telegram (/pending).",
            "Renfort, {organisation}: {n} applications for tomorrow still wait for your"
            " answer. Please answer in Telegram (/pending).",
            count,
            **v,
        ),
        {"organisation": str(payload["organisation_name"])},
        ("organisation",),
    )


def application_still_pending(payload: Mapping[str, Any], t: Translator, today: date | None) -> str:
    from bot.sms.render import fit

    return fit(
        lambda v: t._(
            "Renfort: {organisation} has not answered yet for {mission}, {when}. Cannot come"
            " any more? Send MY MISSIONS to cancel.",
            **v,
        ),
        _slot_values(payload, t, today),
        ("mission", "organisation"),
    )


ELECTION_RENDERERS: dict[str, Callable[[Mapping[str, Any], Translator, date | None], str]] = {
    "application_nudge_soon": application_nudge_soon,
    "pending_tomorrow": pending_tomorrow,
    "application_still_pending": application_still_pending,
}
