"""Statements answer the same whichever way they reach the database: rows, changed-row
counts, new ids, and refusals as the usual SQLAlchemy errors."""

from __future__ import annotations

import pytest
from sqlalchemy import bindparam, func, insert, select, update
from sqlalchemy.exc import IntegrityError

from storage import schema
from storage.database import Database

C = schema.conversations


async def test_rows_counts_ids_and_refusals_come_back_as_usual(db: Database) -> None:
    async with db.transaction("one_hop_write") as conn:
        result = await conn.execute(
            insert(C),
            [
                {"channel": "telegram", "chat_key": str(key), "state": "idle", "data": {}}
                for key in range(3)
            ],
        )
        changed = await conn.execute(
            update(C).where(C.c.chat_key.in_(["0", "1"])).values(state="asking")
        )
        assert changed.rowcount == 2
        person = await conn.execute(
            insert(schema.people).values(first_name="Inès", locale="fr", interests=[])
        )
        assert person.inserted_primary_key is not None and person.inserted_primary_key[0] > 0
    assert result.rowcount in (3, -1)  # executemany may not count
    async with db.reading("one_hop_read") as conn:
        states = dict((await conn.execute(select(C.c.chat_key, C.c.state))).tuples().all())
        assert states == {"0": "asking", "1": "asking", "2": "idle"}
        assert await conn.scalar(select(func.count()).select_from(C)) == 3
    with pytest.raises(IntegrityError):
        async with db.transaction("one_hop_duplicate") as conn:
            await conn.execute(
                insert(C).values(channel="telegram", chat_key="0", state="idle", data={})
            )


async def test_one_statement_for_many_parameter_sets_counts_and_refuses_as_usual(
    db: Database,
) -> None:
    async with db.transaction("one_hop_many") as conn:
        await conn.execute(
            insert(C),
            [
                {"channel": "sms", "chat_key": str(key), "state": "idle", "data": {}}
                for key in range(4)
            ],
        )
        changed = await conn.execute(
            update(C).where(C.c.chat_key == bindparam("key")).values(state=bindparam("to")),
            [{"key": "0", "to": "asking"}, {"key": "2", "to": "done"}, {"key": "9", "to": "x"}],
        )
        assert changed.rowcount in (2, -1)  # asyncpg does not count executemany
    async with db.reading("one_hop_many_read") as conn:
        states = dict((await conn.execute(select(C.c.chat_key, C.c.state))).tuples().all())
        assert states == {"0": "asking", "1": "idle", "2": "done", "3": "idle"}
    with pytest.raises(IntegrityError):
        async with db.transaction("one_hop_many_duplicate") as conn:
            await conn.execute(
                insert(C),
                [
                    {"channel": "sms", "chat_key": "5", "state": "idle", "data": {}},
                    {"channel": "sms", "chat_key": "0", "state": "idle", "data": {}},
                ],
            )
    async with db.reading("one_hop_many_kept") as conn:
        assert await conn.scalar(select(func.count()).select_from(C)) == 4


async def test_a_failed_write_is_undone_and_frees_the_database_for_the_next(
    db: Database,
) -> None:
    """A connection handed back after a commit skips the pool's rollback; one handed back
    in the middle of a failed transaction still gets it."""

    class Refused(Exception):
        pass

    with pytest.raises(Refused):
        async with db.transaction("one_hop_failed") as conn:
            await conn.execute(
                insert(C).values(channel="telegram", chat_key="gone", state="idle", data={})
            )
            raise Refused
    for round_ in range(3):  # every pooled connection is free and writes again
        async with db.transaction("one_hop_after") as conn:
            await conn.execute(
                insert(C).values(
                    channel="telegram", chat_key=f"kept{round_}", state="idle", data={}
                )
            )
    async with db.reading("one_hop_check") as conn:
        keys = set(await conn.scalars(select(C.c.chat_key)))
    assert keys == {"kept0", "kept1", "kept2"}


async def test_a_transaction_begins_with_its_first_statement_and_is_whole(
    sqlite_db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A read is two trips to SQLite's thread (its BEGIN goes with the statement); a write
    transaction that fails leaves nothing behind; one with no statement commits nothing."""
    import aiosqlite

    trips = 0
    execute = aiosqlite.Connection._execute

    async def counted(self: aiosqlite.Connection, fn: object, *args: object) -> object:
        nonlocal trips
        trips += 1
        return await execute(self, fn, *args)  # type: ignore[no-untyped-call]

    async with sqlite_db.reading("warm"):  # the pool opens its connection first
        pass
    monkeypatch.setattr(aiosqlite.Connection, "_execute", counted)
    async with sqlite_db.reading("one_read") as conn:
        assert await conn.scalar(select(func.count()).select_from(C)) == 0
    assert trips == 2
    with pytest.raises(RuntimeError):
        async with sqlite_db.transaction("undone") as conn:
            await conn.execute(insert(C).values(channel="sms", chat_key="7", state="idle", data={}))
            raise RuntimeError("the effect failed")
    async with sqlite_db.transaction("empty"):
        pass
    async with sqlite_db.reading("after") as conn:
        assert await conn.scalar(select(func.count()).select_from(C)) == 0
