"""The people table's writes, all of them: creating a person, changing their columns
(profile, channels, consents, counters, wiping them), marking Telegram unreachable, and
deleting the record merged into another. No other module inserts, updates or deletes a
person (tests/test_stores.py checks it). Every function runs in the caller's
transaction."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, case, delete, insert, update
from sqlalchemy.ext.asyncio import AsyncConnection

from storage import schema
from storage.database import PendingWrite

P = schema.people


async def insert_person(conn: AsyncConnection, values: Mapping[str, Any]) -> int:
    """A new person with `values`; returns their id."""
    result = await conn.execute(insert(P).values(**values).returning(P.c.id))
    return int(result.scalar_one())


async def change(conn: AsyncConnection, person_id: int, values: Mapping[str, Any]) -> None:
    """Set the person's columns in `values` (the caller has checked them)."""
    await conn.execute(update(P).where(P.c.id == person_id).values(**values))


def change_later(person_id: int, values: Mapping[str, Any]) -> PendingWrite:
    """`change`, to run in a transaction that has not begun yet (a turn's first write)."""

    async def write(conn: AsyncConnection) -> None:
        await change(conn, person_id, values)

    return write


async def change_by_phone(conn: AsyncConnection, phone: str, values: Mapping[str, Any]) -> None:
    """Set the columns in `values` of whoever has the number `phone` (nobody: no change)."""
    await conn.execute(update(P).where(P.c.phone == phone).values(**values))


def _step(column: ColumnElement[int], by: int) -> ColumnElement[int]:
    """The counter moved by `by`, never below zero (counts predating marks may be short)."""
    return case((column + by < 0, 0), else_=column + by)


async def step_counters(conn: AsyncConnection, person_id: int, steps: Mapping[str, int]) -> None:
    """Move each of the person's counters named in `steps` by its step, in one statement."""
    counts = {name: _step(P.c[name], by) for name, by in steps.items()}
    await conn.execute(update(P).where(P.c.id == person_id).values(counts))


async def telegram_unreachable(conn: AsyncConnection, person_id: int, at: datetime) -> None:
    """The person blocked the bot (kept from the first time until they write again)."""
    await conn.execute(
        update(P)
        .where(P.c.id == person_id, P.c.telegram_unreachable_at.is_(None))
        .values(telegram_unreachable_at=at)
    )


async def telegram_user_unreachable(
    conn: AsyncConnection, telegram_user_id: int, at: datetime
) -> None:
    """telegram_unreachable for the person known by their Telegram account."""
    await conn.execute(
        update(P)
        .where(P.c.telegram_user_id == telegram_user_id, P.c.telegram_unreachable_at.is_(None))
        .values(telegram_unreachable_at=at)
    )


async def delete_person(conn: AsyncConnection, person_id: int) -> None:
    """Only once everything pointing at the person points elsewhere (a merge)."""
    await conn.execute(delete(P).where(P.c.id == person_id))
