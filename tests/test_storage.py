"""The storage guarantees the rest relies on, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, insert, select

from bot.buttons import Button, resolve, save_buttons
from storage import schema
from storage.database import (
    AlreadyProcessed,
    Database,
    Inbound,
    is_processed,
    load_conversation,
    mark_processed,
)
from storage.migrate import MIGRATIONS, is_current, script_heads, upgrade, upgrade_if_needed


async def test_the_migrations_build_exactly_the_declared_schema(db: Database) -> None:
    def differences(sync_conn: Connection) -> list[object]:
        context = MigrationContext.configure(sync_conn, opts={"compare_type": True})
        return list(compare_metadata(context, schema.metadata))

    async with db.engine.connect() as conn:
        assert await conn.run_sync(differences) == []


async def test_an_inbound_message_counts_once_even_when_redelivered(db: Database) -> None:
    first = Inbound("telegram", "1001", conversation_key="42").goto("reg_area", step=2)
    async with db.transaction("effect", first) as conn:
        await conn.execute(insert(schema.organisations).values(name="A", invite_code="AAAA2222"))

    again = Inbound("telegram", "1001", conversation_key="42").goto("reg_domains")
    with pytest.raises(AlreadyProcessed):
        async with db.transaction("effect", again) as conn:
            await conn.execute(
                insert(schema.organisations).values(name="B", invite_code="BBBB2222")
            )

    async with db.reading("check") as conn:
        names = (await conn.scalars(select(schema.organisations.c.name))).all()
    assert names == ["A"]
    assert await is_processed(db, "telegram", "1001")
    assert await load_conversation(db, "telegram", "42") == ("reg_area", {"step": 2})


async def test_a_failed_effect_leaves_neither_the_id_nor_the_new_state(db: Database) -> None:
    inbound = Inbound("telegram", "7", conversation_key="42").goto("reg_name")
    with pytest.raises(RuntimeError):
        async with db.transaction("effect", inbound):
            raise RuntimeError("rule broken")
    assert not await is_processed(db, "telegram", "7")
    assert await load_conversation(db, "telegram", "42") is None

    await mark_processed(db, inbound)  # the handler's own bookkeeping after the refusal
    assert await is_processed(db, "telegram", "7")
    assert await load_conversation(db, "telegram", "42") is None

    await mark_processed(db, inbound.goto("reg_name"))
    await mark_processed(db, inbound)  # idempotent
    assert await load_conversation(db, "telegram", "42") == ("reg_name", {})
    await mark_processed(db, Inbound("telegram", "8", conversation_key="42").goto(None))
    assert await load_conversation(db, "telegram", "42") is None


async def test_button_payloads_resolve_from_the_database_and_fit_telegram(db: Database) -> None:
    rows = await save_buttons(db, [[Button("Approve", "approve", {"application_id": 12345678})]])
    (label, token) = rows[0][0]
    assert label == "Approve" and len(token.encode()) <= 64
    payload = await resolve(db, token)
    assert payload is not None and payload.action == "approve"
    assert payload.data == {"application_id": 12345678}
    assert await resolve(db, "unknown-token") is None


async def test_times_come_back_as_the_same_instant_in_utc(db: Database) -> None:
    paris_summer = datetime(2027, 6, 13, 8, 0, tzinfo=timezone(timedelta(hours=2)))
    async with db.transaction("times") as conn:
        await conn.execute(
            insert(schema.organisations).values(
                name="T", invite_code="TTTT2222", created_at=paris_summer
            )
        )
    async with db.reading("times") as conn:
        stored = await conn.scalar(select(schema.organisations.c.created_at))
    assert stored == paris_summer and stored.tzinfo == UTC


async def test_an_existing_database_upgrades_and_keeps_its_organisations(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'old.db'}"
    await upgrade(url, "0001")
    old = Database(url)
    async with old.transaction("before") as conn:
        await conn.execute(
            insert(schema.organisations).values(name="Mairie", invite_code="AB23CD45")
        )
    await old.close()

    await upgrade(url)

    db = Database(url)
    try:
        async with db.reading("after") as conn:
            row = (await conn.execute(select(schema.organisations))).one()
    finally:
        await db.close()
    assert row.name == "Mairie"
    assert (row.remind_day_before_at, row.remind_hours_before) == (18, 2)
    assert row.attendance_check is True and row.offer_window_hours == 12


async def test_a_restart_on_a_current_database_skips_the_migrations(db: Database) -> None:
    """The heads read from the scripts are Alembic's own; the database is current once
    upgraded, so a restart costs one query."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    assert script_heads() == frozenset(ScriptDirectory.from_config(config).get_heads())
    assert await is_current(db)
    assert not await upgrade_if_needed(db, db.engine.url.render_as_string(hide_password=False))


async def test_an_empty_database_is_not_current(tmp_path: Path) -> None:
    empty = Database(f"sqlite:///{tmp_path / 'empty.db'}")
    try:
        assert not await is_current(empty)
    finally:
        await empty.close()
