"""What a process remembers about a database is bounded: the least recently used goes
first, and each database has its own."""

from __future__ import annotations

from pathlib import Path

from storage.database import Database
from storage.recent import PerDatabase, Recent


def test_the_least_recently_used_entry_is_forgotten_first() -> None:
    recent: Recent[str, int] = Recent(2)
    recent.put("a", 1)
    recent.put("b", 2)
    assert recent.get("a") == 1  # used: "b" is now the oldest
    recent.put("c", 3)
    assert (recent.get("a"), recent.get("b"), recent.get("c")) == (1, None, 3)
    recent.forget("a")
    assert recent.get("a") is None


async def test_each_database_has_its_own(tmp_path: Path) -> None:
    kept: PerDatabase[Recent[str, int]] = PerDatabase(lambda: Recent(10))
    first = Database(f"sqlite:///{tmp_path / 'one.db'}")
    second = Database(f"sqlite:///{tmp_path / 'two.db'}")
    try:
        kept.of(first).put("token", 1)
        assert kept.of(first).get("token") == 1
        assert kept.of(second).get("token") is None
    finally:
        await first.close()
        await second.close()
