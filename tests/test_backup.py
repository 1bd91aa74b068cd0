"""`renfort db backup` copies the SQLite database while the service keeps writing; putting
the copy back in place brings back everything written before the backup began."""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from bot.config import FIELDS
from bot.services import organisations
from renfort import cli
from storage.database import Database
from storage.migrate import upgrade

ROOT = Path(__file__).resolve().parent.parent
runner = CliRunner()
# Settings come only from what each test sets.
pytestmark = pytest.mark.usefixtures("no_settings")


def renfort(database_url: str, *args: str) -> Result:
    return runner.invoke(cli.app, list(args), env={"DATABASE_URL": database_url})


def one_line_error(result: Result) -> str:
    assert result.exit_code == 1, result.output
    assert "Traceback" not in result.output
    [line] = result.stderr.strip().splitlines()
    return line


def organisation_names(database_url: str) -> list[str]:
    listed = renfort(database_url, "org", "list", "--json")
    assert listed.exit_code == 0, listed.output
    return [row["name"] for row in json.loads(listed.stdout)]


async def organisations_in(database_url: str) -> list[str]:
    """What the service finds in a database file (upgraded first, as `renfort run` does)."""
    await upgrade(database_url)
    db = Database(database_url)
    try:
        return [s.organisation.name for s in await organisations.list_organisations(db)]
    finally:
        await db.close()


async def backup_command(database_url: str, target: Path) -> tuple[int, str]:
    """`renfort db backup` in a process of its own, as an operator runs it beside the service."""
    env = {k: v for k, v in os.environ.items() if k.lower() not in FIELDS}
    env.update(DATABASE_URL=database_url, PYTHONPATH=str(ROOT))
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        *("-m", "bot", "db", "backup", str(target)),
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    output, _ = await process.communicate()
    return process.returncode or 0, output.decode()


async def test_a_backup_taken_while_the_service_writes_restores_what_was_written_before(
    tmp_path: Path,
) -> None:
    live = f"sqlite:///{tmp_path / 'renfort.db'}"
    await upgrade(live)
    db = Database(live)
    created: list[str] = []
    stop = asyncio.Event()

    async def keep_writing() -> None:
        while not stop.is_set():
            name = f"Association {len(created):05d}"
            await organisations.create_organisation(db, name, "52100")
            created.append(name)
            await asyncio.sleep(0)

    writer = asyncio.create_task(keep_writing())
    try:
        while len(created) < 20:  # the service is well into its writes
            await asyncio.sleep(0.01)
        before = len(created)
        code, output = await backup_command(live, tmp_path / "backup.db")
        during = len(created)
    finally:
        stop.set()
        await writer
        await db.close()
    assert code == 0, output
    assert "Backed up" in output
    assert during > before, "the service did not write while the backup ran"

    # Restore: the service stopped, the copy put in place of the database file.
    restored_dir = tmp_path / "restored"
    restored_dir.mkdir()
    shutil.copyfile(tmp_path / "backup.db", restored_dir / "renfort.db")
    names = await organisations_in(f"sqlite:///{restored_dir / 'renfort.db'}")

    # One moment of the database: everything up to some write, nothing half-written.
    assert before <= len(names) <= len(created)
    assert sorted(names) == created[: len(names)]


def test_a_backup_never_overwrites_a_file_unless_asked(tmp_path: Path) -> None:
    live = f"sqlite:///{tmp_path / 'renfort.db'}"
    assert renfort(live, "org", "create", "Mairie de Saint-Dizier").exit_code == 0
    earlier = tmp_path / "earlier.db"
    earlier.write_bytes(b"yesterday's backup")

    line = one_line_error(renfort(live, "db", "backup", str(earlier)))
    assert "exists" in line and "--overwrite" in line
    assert earlier.read_bytes() == b"yesterday's backup"

    replaced = renfort(live, "db", "backup", str(earlier), "--overwrite")
    assert replaced.exit_code == 0, replaced.output
    assert organisation_names(f"sqlite:///{earlier}") == ["Mairie de Saint-Dizier"]


def test_a_missing_database_is_one_line_and_creates_nothing(tmp_path: Path) -> None:
    line = one_line_error(
        renfort(f"sqlite:///{tmp_path / 'nothing.db'}", "db", "backup", str(tmp_path / "b.db"))
    )
    assert "no database at" in line
    assert not (tmp_path / "nothing.db").exists() and not (tmp_path / "b.db").exists()


def test_postgresql_is_refused_with_the_pg_dump_way() -> None:
    line = one_line_error(
        renfort("postgresql://renfort@db.example/renfort", "db", "backup", "renfort.db")
    )
    assert "pg_dump" in line
