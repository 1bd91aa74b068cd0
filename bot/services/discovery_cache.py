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
import weakref
from collections import OrderedDict
from collections.abc import Hashable
from typing import Generic, TypeVar

from storage.database import Database

Page = TypeVar("Page")

KEEP_SECONDS = 2.0
PAGES_KEPT = 2_048  # per database: the most recently used ones
# The tables a page is read from: a write to any of them makes kept pages stale.
TABLES = ("missions", "slots", "organisations")


class KeptPages(Generic[Page]):
    def __init__(self) -> None:
        self._pages: OrderedDict[Hashable, tuple[float, int, Page]] = OrderedDict()

    def get(self, key: Hashable, version: int) -> Page | None:
        kept = self._pages.get(key)
        if kept is None:
            return None
        expires, kept_version, page = kept
        if kept_version != version or time.monotonic() >= expires:
            del self._pages[key]
            return None
        self._pages.move_to_end(key)
        return page

    def put(self, key: Hashable, version: int, page: Page) -> None:
        self._pages[key] = (time.monotonic() + KEEP_SECONDS, version, page)
        self._pages.move_to_end(key)
        while len(self._pages) > PAGES_KEPT:
            self._pages.popitem(last=False)


class KeptPerDatabase(Generic[Page]):
    """Each database's kept pages (tests and commands may open several in one process)."""

    def __init__(self) -> None:
        self._kept: weakref.WeakKeyDictionary[Database, KeptPages[Page]] = (
            weakref.WeakKeyDictionary()
        )

    def of(self, db: Database) -> KeptPages[Page]:
        return self._kept.setdefault(db, KeptPages())
