"""Counts agree with their nouns in French, where 0 and 1 take the singular, and figures
are written the French way."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from bot.i18n import Translator
from handlers.sms.render import render_notification
from handlers.telegram.render import render
from handlers.telegram.stats import duration
from tests.conftest import NOW
from tests.test_render import submitted

FR = Translator("fr")


def slots(count: int) -> list[dict[str, Any]]:
    start = NOW + timedelta(days=6)
    return [
        {
            "starts_at": (start + timedelta(days=i)).isoformat(),
            "ends_at": (start + timedelta(days=i, hours=5)).isoformat(),
            "capacity": 2,
        }
        for i in range(count)
    ]


def test_one_is_singular_in_the_sms_of_callouts_and_the_digest() -> None:
    filled = render_notification(
        "callout_filled_organisation", submitted(callout_id=1, taken=1), FR, NOW
    )
    assert "1 bénévole viendra" in filled
    exhausted = render_notification(
        "callout_exhausted", submitted(callout_id=1, taken=0, needed=1), FR, NOW
    )
    assert "0/1 place prise" in exhausted
    digest = render_notification(
        "weekly_digest", submitted(pending_count=1, places_left=1, no_shows=[]), FR, NOW
    )
    assert "1 candidature en attente, 1 place libre" in digest
    many = render_notification(
        "weekly_digest", submitted(pending_count=3, places_left=2, no_shows=[]), FR, NOW
    )
    assert "3 candidatures en attente, 2 places libres" in many


def test_one_more_slot_is_singular_for_the_referent() -> None:
    review = render("mission_review", submitted(description="", slots=slots(9)), FR)
    assert "… et 1 autre créneau" in review.text


def test_durations_in_stats_use_the_french_decimal_comma() -> None:
    assert duration(FR, timedelta(hours=1, minutes=30)) == "1,5 h"
    assert duration(FR, timedelta(days=2, hours=12)) == "2,5 jours"
    assert duration(Translator("en"), timedelta(hours=1, minutes=30)) == "1.5 h"
