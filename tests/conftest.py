"""Shared fixtures: a migrated database per test on SQLite and PostgreSQL, a PostgreSQL
database of a test's own for bot processes, a running Bot API double, a fixed clock."""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime
from pathlib import Path

import asyncpg
import pytest

from bot.config import FIELDS
from renfort.sandbox.telegram_double import TelegramDouble
from storage import schema
from storage.database import Database
from storage.migrate import upgrade, upgrade_sync

PG_ADMIN_URL = os.environ.get("RENFORT_TEST_PG", "postgresql://root@127.0.0.1/postgres")
NOW = datetime(2027, 6, 7, 9, 0, tzinfo=UTC)  # a Monday, six days before election day


def _pg_dsn(database: str) -> str:
    return PG_ADMIN_URL.rsplit("/", 1)[0] + "/" + database


async def _pg_admin(sql: str) -> None:
    conn = await asyncpg.connect(PG_ADMIN_URL, timeout=10)
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


async def _pg_available() -> bool:
    try:
        conn = await asyncpg.connect(PG_ADMIN_URL, timeout=10)
    except (OSError, asyncpg.PostgresError):
        return False
    await conn.close()
    return True


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One migrated SQLite file, copied for each test (migrating every time is slow)."""
    path = tmp_path_factory.mktemp("template") / "renfort.db"
    upgrade_sync(f"sqlite:///{path}")
    return path


@pytest.fixture(scope="session")
def pg_database() -> Iterator[str | None]:
    """A PostgreSQL database of this test process, migrated once; None when the server is
    really absent."""
    import asyncio

    if not asyncio.run(_pg_available()):
        yield None
        return
    name = f"renfort_test_{os.getpid()}_{uuid.uuid4().hex[:6]}"
    asyncio.run(_pg_admin(f'CREATE DATABASE "{name}"'))
    url = _pg_dsn(name)
    upgrade_sync(url)
    try:
        yield url
    finally:
        asyncio.run(_pg_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


async def _truncate_pg(url: str) -> None:
    tables = ", ".join(f'"{t.name}"' for t in schema.metadata.sorted_tables)
    conn = await asyncpg.connect(url)
    try:
        await conn.execute(f"TRUNCATE {tables} RESTART IDENTITY CASCADE")
    finally:
        await conn.close()


def sqlite_url(sqlite_template: Path, tmp_path: Path) -> str:
    path = tmp_path / "renfort.db"
    shutil.copy(sqlite_template, path)
    return f"sqlite:///{path}"


@pytest.fixture(params=["sqlite", "postgresql"])
async def db(
    request: pytest.FixtureRequest, sqlite_template: Path, pg_database: str | None, tmp_path: Path
) -> AsyncIterator[Database]:
    """A fresh, migrated database; storage and service tests run on both backends."""
    if request.param == "sqlite":
        url = sqlite_url(sqlite_template, tmp_path)
    else:
        if pg_database is None:
            pytest.skip("PostgreSQL is not running here")
        await _truncate_pg(pg_database)
        url = pg_database
    database = Database(url)
    try:
        yield database
    finally:
        await database.close()


@pytest.fixture
async def sqlite_db(sqlite_template: Path, tmp_path: Path) -> AsyncIterator[Database]:
    """A fresh SQLite database, for end-to-end tests that need only one backend."""
    database = Database(sqlite_url(sqlite_template, tmp_path))
    try:
        yield database
    finally:
        await database.close()


@pytest.fixture
def pg_url() -> Iterator[str]:
    """A PostgreSQL database of its own, dropped afterwards (the bot processes connect to
    it, so the session-wide test database, truncated between tests, will not do)."""
    import asyncio

    if not asyncio.run(_pg_available()):
        pytest.skip("PostgreSQL is not running here")
    name = f"renfort_outbox_{os.getpid()}_{uuid.uuid4().hex[:6]}"
    asyncio.run(_pg_admin(f'CREATE DATABASE "{name}"'))
    try:
        yield _pg_dsn(name)
    finally:
        asyncio.run(_pg_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@pytest.fixture
async def pg_db(pg_url: str) -> AsyncIterator[Database]:
    """The database of `pg_url`, migrated before any bot process starts (so they do not race
    to migrate it)."""
    await upgrade(pg_url)
    database = Database(pg_url)
    try:
        yield database
    finally:
        await database.close()


@pytest.fixture
async def double() -> AsyncIterator[TelegramDouble]:
    """A running Bot API double."""
    server = TelegramDouble()
    await server.start()
    try:
        yield server
    finally:
        await server.stop()


@pytest.fixture
def no_settings(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """An operator's blank slate: none of the settings' variables inherited, and a working
    folder (returned) without the developer's .env."""
    monkeypatch.chdir(tmp_path)
    for name in FIELDS:
        monkeypatch.delenv(name.upper(), raising=False)
    return tmp_path


@pytest.fixture
def operator_env(no_settings: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The command line on a blank slate: a fresh database file in the working folder
    (returned), and NOW for a clock."""
    from renfort import cli_common  # only the command-line tests load typer and rich

    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{no_settings / 'cli.db'}")
    monkeypatch.setattr(cli_common, "clock", lambda: NOW)
    return no_settings
