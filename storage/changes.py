"""Which tables a process has seen change: a count per table, raised by every write this
process makes to it, so that what was read from those tables can be kept while the count
stands still.

The count rises twice for a write transaction: when its statement runs (a write made outside
a named transaction still counts) and again once it has committed, so that a read taken
between the two, which saw the old rows, cannot be kept as if it were new. Counts are per
database address and for the whole process: two `Database` objects on the same file (the
bot and a command run beside it) see each other's writes. Other processes' writes are not
seen: what is kept must also expire."""

from __future__ import annotations

import threading
from collections import defaultdict
from collections.abc import Iterable
from typing import Any

# A write whose table is not known (driver SQL): it counts for every table.
ANY_TABLE = "*"
TOUCHED = "renfort_touched_tables"
_WRITES = ("INSERT", "UPDATE", "DELETE", "REPLAC", "UPSERT", "WITH")


class TableChanges:
    """The counts of one database."""

    def __init__(self) -> None:
        self._counts: defaultdict[str, int] = defaultdict(int)
        self._lock = threading.Lock()  # statements run on the driver's threads

    def bump(self, tables: Iterable[str]) -> None:
        with self._lock:
            for table in tables:
                self._counts[table] += 1

    def version(self, tables: Iterable[str]) -> int:
        """A number that grows whenever one of `tables` changes."""
        counts = self._counts
        return counts[ANY_TABLE] + sum(counts[table] for table in tables)


_by_url: dict[str, TableChanges] = {}


def changes_of(url: str) -> TableChanges:
    return _by_url.setdefault(url, TableChanges())


def written_table(statement: str, context: Any) -> str | None:
    """The table a statement writes to; ANY_TABLE when it writes to one not known; None when
    it only reads."""
    if statement.lstrip()[:6].upper() not in _WRITES:
        return None
    compiled = getattr(context, "compiled", None)
    table = getattr(getattr(compiled, "statement", None), "table", None)
    name = getattr(table, "name", None)
    return name if isinstance(name, str) else ANY_TABLE
