"""Discovery pages kept for a moment: a list asked for again with the same place, radius,
filters and cursor, while no mission, slot or organisation has changed, is not read again.

When a newspaper prints the bot's link, hundreds of people from the same commune (homes are
the centre of their postcode) ask for the same first page within a minute; each read costs
several queries and the ranking of every mission in the first rings. The page is kept until
this process writes to one of the tables it was read from (see storage/changes.py), and at
most KEEP_SECONDS, for what other workers change. Applying still checks the place in its own
transaction: a page a second old can only show a place that has just gone, and applying
then says so."""

from __future__ import annotations

import time
from collections.abc import Hashable
from typing import Generic, TypeVar

from storage.recent import Recent

Page = TypeVar("Page")

KEEP_SECONDS = 2.0
PAGES_KEPT = 2_048  # per database: the most recently used ones
# The tables a page is read from: a write to any of them makes kept pages stale.
TABLES = ("missions", "slots", "organisations")


class KeptPages(Generic[Page]):
    """Pages by what was asked, each with when it expires and the tables' version it was
    read at."""

    def __init__(self) -> None:
        self._pages: Recent[Hashable, tuple[float, int, Page]] = Recent(PAGES_KEPT)

    def get(self, key: Hashable, version: int) -> Page | None:
        kept = self._pages.get(key)
        if kept is None:
            return None
        expires, kept_version, page = kept
        if kept_version != version or time.monotonic() >= expires:
            self._pages.forget(key)
            return None
        return page

    def put(self, key: Hashable, version: int, page: Page) -> None:
        self._pages.put(key, (time.monotonic() + KEEP_SECONDS, version, page))
