"""Button payloads: a short token in callback_data, the action and its data in the database,
so a button tapped after a restart, or on another worker, still works (Telegram allows 64
bytes of callback_data; a token is 11).

A button's token is a keyed digest of its action and data: the same button gets the same
token for as long as the process lives. A list shown to a thousand people stores its
buttons once, and a reply whose buttons were all stored before writes nothing at all. The
key is the process's own secret, so a token still cannot be made up from an action."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import bindparam, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection

from storage import schema
from storage.database import Database
from storage.recent import PerDatabase, Recent

TOKEN_BYTES = 8  # 11 characters of URL-safe base64
TOKEN_MAX = 64  # Telegram's limit for a button's data: anything longer is not ours
KNOWN_LIMIT = 50_000  # tokens a process remembers having stored, per database
_KEY = secrets.token_bytes(32)


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


def token_of(button: Button) -> str:
    """The button's token: the same action and data give the same one in this process."""
    canonical = json.dumps([button.action, button.data], sort_keys=True, separators=(",", ":"))
    digest = hmac.new(_KEY, canonical.encode(), hashlib.sha256).digest()[:TOKEN_BYTES]
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


# The tokens this process has seen committed to each database, the most recent kept.
_stored: PerDatabase[Recent[str, bool]] = PerDatabase(lambda: Recent(KNOWN_LIMIT))


async def save_buttons(db: Database, rows: list[list[Button]]) -> list[list[tuple[str, str]]]:
    """Store the payload of every button not stored yet; returns (label, token) rows in the
    same shape. Nothing is written when they all were."""
    stored = [[(button.label, token_of(button)) for button in row] for row in rows]
    known = _stored.of(db)
    fresh: dict[str, Button] = {}
    for row, tokens in zip(rows, stored, strict=True):
        for button, (_label, token) in zip(row, tokens, strict=True):
            if not known.get(token):
                fresh[token] = button
    if fresh:
        async with db.transaction("save_buttons") as conn:
            await _insert_new(conn, fresh)
        for token in fresh:  # only once committed: a rolled-back token is no token
            known.put(token, True)
    return stored


async def _insert_new(conn: AsyncConnection, buttons: dict[str, Button]) -> None:
    """Insert the payloads, leaving alone those already there (stored earlier by this
    process, before it forgot them)."""
    values = [
        {"token": token, "action": b.action, "data": b.data, "created_at": schema.now()}
        for token, b in buttons.items()
    ]
    insert = postgresql.insert if conn.dialect.name == "postgresql" else sqlite.insert
    await conn.execute(insert(schema.button_payloads).on_conflict_do_nothing(), values)


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
