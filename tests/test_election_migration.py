"""Migration 0010 on a database in use: missions made from a template with prerequisites
get them as conditions, missions already waiting for review get the time they were sent;
on SQLite and PostgreSQL."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import asyncpg
import pytest
from sqlalchemy import insert, select

from bot.services import templates
from storage import schema
from storage.database import Database
from storage.migrate import upgrade
from tests.conftest import PG_ADMIN_URL, _pg_available, _pg_dsn

SENT = datetime(2027, 6, 1, 10, 0, tzinfo=UTC)


@pytest.fixture(params=["sqlite", "postgresql"])
async def old_url(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[str]:
    """An empty database at the revision before this one."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'old.db'}"
        return
    if not await _pg_available():
        pytest.skip("PostgreSQL is not running here")
    name = f"renfort_migration_{uuid.uuid4().hex[:8]}"
    admin = await asyncpg.connect(PG_ADMIN_URL)
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
        yield _pg_dsn(name)
    finally:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()


async def test_template_prerequisites_become_conditions_and_waiting_missions_get_a_date(
    old_url: str,
) -> None:
    await upgrade(old_url, "0005")
    old = Database(old_url)
    m = schema.missions
    try:
        async with old.transaction("before") as conn:
            await templates.ensure_builtins(conn)
            assessor = await templates.builtin_template(conn, "assessor")
            org = (
                await conn.execute(
                    insert(schema.organisations)
                    .values(name="Mairie", invite_code="AB23CD45")
                    .returning(schema.organisations.c.id)
                )
            ).scalar_one()
            columns = {"organisation_id": org, "domain": "citizenship", "timezone": "Europe/Paris"}
            french = await conn.scalar(
                insert(m)
                .values(
                    title="Assesseur",
                    description="Tenir le bureau.\n\nPrérequis : Être inscrit sur les listes"
                    " électorales du département.",
                    template_id=assessor.id,
                    status="in_review",
                    created_at=SENT,
                    **columns,
                )
                .returning(m.c.id)
            )
            plain = await conn.scalar(
                insert(m)
                .values(title="Distribution", status="published", **columns)
                .returning(m.c.id)
            )
    finally:
        await old.close()

    await upgrade(old_url)

    db = Database(old_url)
    try:
        async with db.reading("after") as conn:
            rows = {
                r.id: r
                for r in await conn.execute(select(m.c.id, m.c.conditions, m.c.submitted_at))
            }
    finally:
        await db.close()
    assert rows[french].conditions == ["Être inscrit sur les listes électorales du département."]
    assert rows[french].submitted_at == SENT
    assert rows[plain].conditions is None and rows[plain].submitted_at is None
