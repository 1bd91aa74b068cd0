"""Bring a database to the newest schema (`renfort db upgrade`, and on every start).

A start first asks the database which revision it is at and compares it with the scripts'
heads, read from the files without importing Alembic: an up-to-date database (every restart)
costs one query instead of Alembic's whole import and environment."""

from __future__ import annotations

import ast
import asyncio
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from storage.database import Database

if TYPE_CHECKING:
    from alembic.config import Config

MIGRATIONS = Path(__file__).parent / "migrations"


def alembic_config(url: str) -> Config:
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def upgrade_sync(url: str, revision: str = "head") -> None:
    """Run the migrations; blocking, so call it outside the event loop or via `upgrade`."""
    from alembic import command

    command.upgrade(alembic_config(url), revision)


async def upgrade(url: str, revision: str = "head") -> None:
    """Run the migrations from async code (Alembic's env starts its own loop)."""
    await asyncio.to_thread(upgrade_sync, url, revision)


def _constants(path: Path) -> dict[str, Any]:
    """The module-level `revision` and `down_revision` of a migration script."""
    source = path.read_text(encoding="utf-8")
    # They sit in the header, before the first function: parsing only that much is a
    # twentieth of parsing the whole script, on every start. A header that does not parse
    # alone (a `def` inside its docstring) or lacks either: the whole script.
    header, _, _ = source.partition("\ndef ")
    try:
        found = _assignments(header)
    except SyntaxError:
        found = {}
    return found if found.keys() >= {"revision", "down_revision"} else _assignments(source)


def _assignments(source: str) -> dict[str, Any]:
    found: dict[str, Any] = {}
    for node in ast.parse(source).body:
        if isinstance(node, ast.Assign) and len(node.targets) == 1:
            target, value = node.targets[0], node.value
        elif isinstance(node, ast.AnnAssign) and node.value is not None:
            target, value = node.target, node.value
        else:
            continue
        if isinstance(target, ast.Name) and target.id in ("revision", "down_revision"):
            found[target.id] = ast.literal_eval(value)
    return found


@cache
def script_heads() -> frozenset[str]:
    """The revisions no other script builds on: where `upgrade head` leads."""
    revisions: set[str] = set()
    parents: set[str] = set()
    for path in (MIGRATIONS / "versions").glob("*.py"):
        constants = _constants(path)
        if "revision" not in constants:
            continue
        revisions.add(str(constants["revision"]))
        down = constants.get("down_revision")
        if isinstance(down, tuple | list):
            parents.update(str(d) for d in down)
        elif down is not None:
            parents.add(str(down))
    return frozenset(revisions - parents)


async def is_current(db: Database) -> bool:
    """Whether the database is at the scripts' heads already (False when unsure)."""
    try:
        async with db.reading("schema_version") as conn:
            versions = set(await conn.scalars(text("SELECT version_num FROM alembic_version")))
    except DBAPIError:  # no version table yet, or no database: the upgrade will say
        return False
    return versions == script_heads()


async def upgrade_if_needed(db: Database, url: str) -> bool:
    """Migrate unless the database is current; True when migrations ran."""
    if await is_current(db):
        return False
    await upgrade(url)
    return True
