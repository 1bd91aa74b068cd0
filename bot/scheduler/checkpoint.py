"""SQLite's write-ahead log copied back into the database between the jobs of a tick.

Left to itself, SQLite copies the log (and waits for the disk) inside the commit that makes
the log pass 1,000 pages: during a catch-up that is some job's write transaction, and every
inbound message waits behind it for the write lock, hundreds of milliseconds. Copied here,
outside any write transaction, the log never grows that far while the scheduler runs, and
a passive copy lets writers go on meanwhile."""

from __future__ import annotations

from bot.runtime import Renfort


async def copy_back_log(renfort: Renfort) -> int:
    """The log's length in pages, copied back as far as readers allow (0 on PostgreSQL)."""
    if not renfort.db.is_sqlite:
        return 0
    async with renfort.db.reading("wal_checkpoint") as conn:
        row = (await conn.exec_driver_sql("PRAGMA wal_checkpoint(PASSIVE)")).one()
    return int(row[2])
