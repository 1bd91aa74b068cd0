"""What a process remembers about a database, the most recently used entries only: the
button tokens it has committed there (bot/buttons.py) and the discovery pages it has read
from it (bot/services/discovery_cache.py). Kept per Database object, since tests and
commands may open several in one process, and dropped with it."""

from __future__ import annotations

import weakref
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Generic, TypeVar

from storage.database import Database

Key = TypeVar("Key", bound=Hashable)
Value = TypeVar("Value")
Kept = TypeVar("Kept")


class Recent(Generic[Key, Value]):
    """At most `size` entries; using one keeps it, the least recently used go first."""

    def __init__(self, size: int) -> None:
        self.size = size
        self._entries: OrderedDict[Key, Value] = OrderedDict()

    def get(self, key: Key) -> Value | None:
        value = self._entries.get(key)
        if value is not None:
            self._entries.move_to_end(key)
        return value

    def put(self, key: Key, value: Value) -> None:
        self._entries[key] = value
        self._entries.move_to_end(key)
        while len(self._entries) > self.size:
            self._entries.popitem(last=False)

    def forget(self, key: Key) -> None:
        self._entries.pop(key, None)


class PerDatabase(Generic[Kept]):
    """One `make()` per database."""

    def __init__(self, make: Callable[[], Kept]) -> None:
        self._make = make
        self._kept: weakref.WeakKeyDictionary[Database, Kept] = weakref.WeakKeyDictionary()

    def of(self, db: Database) -> Kept:
        kept = self._kept.get(db)
        if kept is None:
            kept = self._kept[db] = self._make()
        return kept
