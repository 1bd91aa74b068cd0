"""Slots as coordinators type them, read in the organisation's time zone."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from handlers.telegram.slot_text import SlotTextError, parse_slot
from tests.conftest import NOW

PARIS = ZoneInfo("Europe/Paris")
MORNING = (datetime(2027, 6, 13, 6, tzinfo=UTC), datetime(2027, 6, 13, 11, tzinfo=UTC))


@pytest.mark.parametrize(
    "typed",
    [
        "13/06/2027 8h-13h",
        "13/06 08:00-13:00",
        "2027-06-13 8:00 13:00",
        "13.06.27 8h à 13h",
        "dimanche 13/06 de 8h à 13h",
        "Sun 13/06 8am - 1pm",
        "13/06 8h 13h",
        "13-06-2027 8 13",
    ],
)
def test_the_usual_ways_of_typing_a_slot_are_understood(typed: str) -> None:
    period = parse_slot(typed, zone=PARIS, now=NOW)
    assert (period.starts_at, period.ends_at) == MORNING


def test_minutes_and_midnight_are_understood() -> None:
    period = parse_slot("13/06 18h30-24h", zone=PARIS, now=NOW)
    assert period.starts_at == datetime(2027, 6, 13, 16, 30, tzinfo=UTC)
    assert period.ends_at == datetime(2027, 6, 13, 22, 0, tzinfo=UTC)


def test_a_night_shift_ends_the_next_morning() -> None:
    period = parse_slot("13/06 22h-6h", zone=PARIS, now=NOW)
    assert period.ends_at - period.starts_at == timedelta(hours=8)


def test_a_date_without_year_that_has_passed_means_next_year() -> None:
    period = parse_slot("05/06 8h-12h", zone=PARIS, now=NOW)
    assert period.starts_at.year == 2028


def test_hours_are_read_in_the_zone_across_daylight_saving_changes() -> None:
    spring = parse_slot("26/03/2028 1h-4h", zone=PARIS, now=NOW)  # clocks go forward at 2h
    autumn = parse_slot("29/10/2028 1h-4h", zone=PARIS, now=NOW)  # clocks go back at 3h
    winter = parse_slot("10/12/2027 8h-13h", zone=PARIS, now=NOW)

    assert spring.ends_at - spring.starts_at == timedelta(hours=2)
    assert autumn.ends_at - autumn.starts_at == timedelta(hours=4)
    assert winter.starts_at == datetime(2027, 12, 10, 7, tzinfo=UTC)


@pytest.mark.parametrize(
    ("typed", "code"),
    [
        ("demain matin", "no_date"),
        ("8h-13h", "no_date"),
        ("31/02/2028 8h-12h", "no_such_date"),
        ("13/06/2027", "hours"),
        ("13/06/2027 8h", "hours"),
        ("13/06/2027 8h-12h 4", "hours"),
        ("13/06/2027 25h-26h", "bad_time"),
        ("13/06/2027 8h75-9h", "bad_time"),
        ("13/06/2027 8h-8h", "same_time"),
        ("26/03/2028 2h30-4h", "clock_gap"),
        ("01/06/2027 8h-12h", "past"),
        ("07/06/2027 10h-12h", "past"),  # today, but 10h in Paris was an hour ago
        ("01/01/0001 0h-1h", "past"),  # before the first zone offsets: no UTC time at all
        ("31/12/9999 20h-6h", "too_far"),  # the next morning would be year 10000
        ("31/12/9999 8h-24h", "too_far"),
        ("13/06/2072 8h-12h", "too_far"),
    ],
)
def test_what_cannot_be_a_slot_says_why(typed: str, code: str) -> None:
    with pytest.raises(SlotTextError) as refused:
        parse_slot(typed, zone=PARIS, now=NOW)
    assert refused.value.code == code
