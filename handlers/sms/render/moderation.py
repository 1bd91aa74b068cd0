"""SMS texts of moderation, for a referent or a coordinator reachable only by SMS: each
points to Telegram, where the decision and its buttons are. Registered in
handlers.sms.render.RENDERERS, which imports this module, so its helpers are imported when a
text is built."""

from __future__ import annotations

from datetime import date

from bot.i18n import Translator
from bot.notifications.moderation import (
    MissionApproved,
    MissionChangesRequested,
    MissionRefused,
    MissionReview,
    ReviewDecision,
)
from handlers.sms.render.shared import Renderer, fit


def _values(n: MissionReview | ReviewDecision) -> dict[str, str]:
    return {
        "mission": str(n.mission_title),
        "organisation": str(n.organisation_name),
    }


def mission_review(n: MissionReview, t: Translator, today: date | None) -> str:
    """To a referent: a mission waits for review."""

    waiting = int(n.waiting_days or 0)
    if waiting:
        return fit(
            lambda v: t.n_(
                "Renfort: {mission} ({organisation}) has waited {n} day for your review."
                " Please decide in Telegram.",
                "Renfort: {mission} ({organisation}) has waited {n} days for your review."
                " Please decide in Telegram.",
                waiting,
                **v,
            ),
            _values(n),
            ("mission", "organisation"),
        )
    return fit(
        lambda v: t._(
            "Renfort: {organisation} asks you to review {mission}. Please decide in Telegram.",
            **v,
        ),
        _values(n),
        ("mission", "organisation"),
    )


def mission_approved(n: MissionApproved, t: Translator, today: date | None) -> str:

    return fit(
        lambda v: t._("Renfort: {mission} was approved by the referent and is published.", **v),
        _values(n),
        ("mission",),
    )


def mission_changes_requested(n: MissionChangesRequested, t: Translator, today: date | None) -> str:

    return fit(
        lambda v: t._(
            "Renfort: the referent asks for changes to {mission}: {note} Resubmit in Telegram.",
            **v,
        ),
        _values(n) | {"note": str(n.note or "")},
        ("note", "mission"),
    )


def mission_refused(n: MissionRefused, t: Translator, today: date | None) -> str:

    return fit(
        lambda v: t._("Renfort: the referent refused {mission}; it will not be published.", **v),
        _values(n),
        ("mission",),
    )


MODERATION_RENDERERS: dict[str, Renderer] = {
    MissionReview.kind: mission_review,
    MissionApproved.kind: mission_approved,
    MissionChangesRequested.kind: mission_changes_requested,
    MissionRefused.kind: mission_refused,
}
