"""The list's page buttons: each keeps the cursor its page starts after, and the cursors of
the pages before it, through the JSON the button payload is stored as."""

from __future__ import annotations

import json
from datetime import timedelta

from bot.services.missions import Cursor
from handlers.telegram.discovery import BACK_PAGES, PAGE_SIZE, Filters
from tests.conftest import NOW


def cursor(mission_id: int) -> Cursor:
    return Cursor((False, False, 1.0, -50.0, 2.5, NOW + timedelta(hours=mission_id), mission_id))


def stored(filters: Filters) -> Filters:
    return Filters.of(json.loads(json.dumps(filters.data())))


def test_next_then_previous_pages_come_back_to_the_same_cursors() -> None:
    first = Filters(domain="solidarity", when="week")
    second = stored(first.following(cursor(5)))
    third = stored(second.following(cursor(10)))
    assert (third.offset, third.after, third.domain, third.when) == (
        2 * PAGE_SIZE,
        cursor(10),
        "solidarity",
        "week",
    )
    assert stored(third.previous()) == second
    assert stored(second.previous()) == first


def test_a_long_walk_back_ends_on_the_first_page() -> None:
    filters = Filters()
    for page in range(1, BACK_PAGES + 5):
        filters = stored(filters.following(cursor(page)))
    for _ in range(BACK_PAGES):
        filters = stored(filters.previous())
        assert filters.after is not None
    assert stored(filters.previous()) == Filters()


def test_a_button_from_before_cursors_shows_the_first_page() -> None:
    assert Filters.of({"d": None, "w": "any", "o": 10}) == Filters()
    assert Filters.of({"o": 10, "a": ["damaged"], "b": [None]}) == Filters()
