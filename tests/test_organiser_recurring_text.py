"""Recurring slots as coordinators type them, in English or French, on the wall clock of
the organisation's zone right across daylight-saving changes."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from handlers.telegram.recurring_text import is_recurring, parse_recurring
from handlers.telegram.slot_text import SlotTextError
from tests.conftest import NOW

PARIS = ZoneInfo("Europe/Paris")
TUESDAYS = [8, 15, 22, 29]  # June 2027, from NOW (Monday 7 June)


@pytest.mark.parametrize(
    "typed",
    [
        "every Tuesday 9:00–12:00 until 29 June",
        "Every tuesday 9am-12pm until June 29",
        "tous les mardis 9h-12h jusqu'au 29 juin",
        "chaque mardi de 9h à 12h jusqu’au 29/06",
        "every tue 9h to 12h until 29/06/2027",
    ],
)
def test_a_weekly_series_is_understood_in_both_languages(typed: str) -> None:
    assert is_recurring(typed)
    periods = parse_recurring(typed, zone=PARIS, now=NOW)

    assert [p.starts_at for p in periods] == [
        datetime(2027, 6, day, 7, tzinfo=UTC) for day in TUESDAYS
    ]
    assert all((p.ends_at - p.starts_at).total_seconds() == 3 * 3600 for p in periods)


def test_several_weekdays_and_a_first_day() -> None:
    periods = parse_recurring(
        "tous les lundis et jeudis 14h-17h à partir du 14/06 jusqu'au 24/06", zone=PARIS, now=NOW
    )
    days = [p.starts_at.astimezone(PARIS).strftime("%a %d") for p in periods]
    assert days == ["Mon 14", "Thu 17", "Mon 21", "Thu 24"]


def test_the_hours_stay_on_the_wall_clock_across_the_autumn_change() -> None:
    periods = parse_recurring(
        "every Saturday 9h-12h until 6 November", zone=PARIS, now=NOW.replace(month=10, day=18)
    )

    local = {p.starts_at.astimezone(PARIS).hour for p in periods}
    utc = [p.starts_at.hour for p in periods]
    assert local == {9} and utc == [7, 7, 8]  # clocks go back on Sunday 31 October


def test_a_single_slot_is_not_a_series() -> None:
    assert not is_recurring("13/06/2027 8h-13h")


@pytest.mark.parametrize(
    ("typed", "code"),
    [
        ("every Tuesday 9h-12h", "no_until"),
        ("every week 9h-12h until 29 June", "no_days"),
        ("every Tuesday until 29 June", "hours"),
        ("tous les jours 9h-12h jusqu'au 31 décembre", "too_many"),
        ("tous les mardis 9h-12h à partir du 20/06 jusqu'au 10/06", "until_before"),
        ("every Tuesday 9h-12h until 31 June", "no_such_date"),
    ],
)
def test_what_is_missing_is_named(typed: str, code: str) -> None:
    with pytest.raises(SlotTextError) as refused:
        parse_recurring(typed, zone=PARIS, now=NOW)
    assert refused.value.code == code
