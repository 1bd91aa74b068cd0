"""`renfort db backup`: a consistent copy of the SQLite database taken while Renfort keeps
running, through SQLite's online backup API. PostgreSQL has its own tool (pg_dump)."""

from __future__ import annotations

import contextlib
import os
import sqlite3
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.engine import make_url

# How long the copy waits for a writer's lock before giving up (the service's writes are
# short; a long wait means something else holds the database).
BUSY_TIMEOUT_SECONDS = 30.0
PG_DUMP_HINT = (
    "DATABASE_URL is PostgreSQL: back it up with pg_dump, e.g."
    " pg_dump --format=custom --file=renfort.dump renfort (see README, Backups)"
)


class BackupRefused(Exception):
    """The backup cannot be made; the message is one line for the operator."""


@dataclass(frozen=True)
class Backup:
    source: Path
    target: Path
    size: int  # bytes


def backup_database(database_url: str, target: Path, *, overwrite: bool = False) -> Backup:
    """Copy the SQLite database of `database_url` into `target`, which appears complete or
    not at all (written beside it, checked, then renamed)."""
    url = make_url(database_url)
    if url.get_backend_name() != "sqlite":
        raise BackupRefused(PG_DUMP_HINT)
    if not url.database or url.database == ":memory:":
        raise BackupRefused("DATABASE_URL names no SQLite file to back up")
    source = Path(url.database).expanduser().resolve()
    target = target.expanduser().resolve()
    if not source.is_file():
        raise BackupRefused(f"no database at {source}")
    if target == source:
        raise BackupRefused("the backup must go to another file than the database itself")
    if target.exists() and not overwrite:
        raise BackupRefused(f"{target} exists: choose another name or add --overwrite")
    if not target.parent.is_dir():
        raise BackupRefused(f"the directory {target.parent} does not exist")
    partial = target.with_name(f".{target.name}.partial")
    partial.unlink(missing_ok=True)
    try:
        _copy(source, partial)
        os.replace(partial, target)
    except (sqlite3.Error, OSError) as error:  # a locked database, a full disk
        partial.unlink(missing_ok=True)
        raise BackupRefused(f"cannot back up {source}: {error}") from None
    return Backup(source=source, target=target, size=target.stat().st_size)


def _copy(source: Path, target: Path) -> None:
    # Read-only: a backup must never create or change the database it copies.
    reading = sqlite3.connect(f"{source.as_uri()}?mode=ro", uri=True, timeout=BUSY_TIMEOUT_SECONDS)
    try:
        with contextlib.closing(sqlite3.connect(target)) as copy:
            # One step (pages=-1): under WAL it reads one snapshot while the service goes on
            # writing; in several steps every write in between would restart the copy.
            reading.backup(copy, pages=-1)
            # The copy stands alone: no -wal file beside it to carry along.
            copy.execute("PRAGMA journal_mode=DELETE")
            verdict = copy.execute("PRAGMA quick_check").fetchone()
            if verdict is None or verdict[0] != "ok":
                raise sqlite3.DatabaseError(f"the copy fails its check ({verdict})")
    finally:
        reading.close()
