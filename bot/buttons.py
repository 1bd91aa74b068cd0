"""Button payloads: a short token in callback_data, the action and its data in the database,
so a button tapped after a restart, or on another worker, still works (Telegram allows 64
bytes of callback_data; a token is 11)."""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import bindparam, insert, select
from sqlalchemy.ext.asyncio import AsyncConnection

from storage import schema
from storage.database import Database

TOKEN_BYTES = 8  # 11 characters of URL-safe base64
TOKEN_MAX = 64  # Telegram's limit for a button's data: anything longer is not ours


@dataclass(frozen=True)
class Button:
    """A button as services and renderers describe it; channels turn it into their kind."""

    label: str
    action: str
    data: dict[str, Any] = field(default_factory=dict)
    url: str | None = None


@dataclass(frozen=True)
class Payload:
    action: str
    data: dict[str, Any]


async def store_buttons(
    conn: AsyncConnection, rows: list[list[Button]]
) -> list[list[tuple[str, str]]]:
    """Store every button's payload; returns (label, token) rows in the same shape."""
    stored: list[list[tuple[str, str]]] = []
    values: list[dict[str, Any]] = []
    for row in rows:
        stored_row: list[tuple[str, str]] = []
        for button in row:
            token = secrets.token_urlsafe(TOKEN_BYTES)
            values.append(
                {
                    "token": token,
                    "action": button.action,
                    "data": button.data,
                    "created_at": schema.now(),
                }
            )
            stored_row.append((button.label, token))
        stored.append(stored_row)
    if values:
        await conn.execute(insert(schema.button_payloads), values)
    return stored


async def save_buttons(db: Database, rows: list[list[Button]]) -> list[list[tuple[str, str]]]:
    async with db.transaction("save_buttons") as conn:
        return await store_buttons(conn, rows)


async def resolve(db: Database, token: str) -> Payload | None:
    """The action behind a tapped button; None for a token we never issued."""
    if not token or len(token) > TOKEN_MAX or not token.isprintable():
        return None
    async with db.reading("resolve_button") as conn:
        return await select_payload(conn, token)


_B = schema.button_payloads
_PAYLOAD = select(_B.c.action, _B.c.data).where(_B.c.token == bindparam("token"))  # every tap


async def select_payload(conn: AsyncConnection, token: str) -> Payload | None:
    if not token or len(token) > TOKEN_MAX:
        return None
    row = (await conn.execute(_PAYLOAD, {"token": token})).first()
    return None if row is None else Payload(row.action, dict(row.data or {}))
