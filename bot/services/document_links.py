"""Links to download a document, for the channels whose messages cannot carry a file: an SMS
holds only words, and Twilio sends a WhatsApp file only by fetching it from a public URL.

A link is a secret of 128 random bits, valid one hour. Only its SHA-256 digest is stored,
with the person and the kind of document, never the document: it is built from the
person's data as they stand when the link is opened. Issuing a link clears the expired
ones; erasing the person deletes theirs."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, insert, select
from sqlalchemy.ext.asyncio import AsyncConnection

from storage import schema
from storage.database import Database

LIFETIME = timedelta(hours=1)
# 128 bits: 22 URL-safe characters, short enough for the link to fit one SMS with its words.
TOKEN_BYTES = 16
L = schema.document_links


@dataclass(frozen=True)
class Opened:
    """Whose document a live link gives, and which one."""

    person_id: int
    kind: str


def digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


async def issue(db: Database, *, person_id: int, kind: str, now: datetime) -> str:
    """A new link's secret to the person's document of `kind`, valid LIFETIME from `now`."""
    token = secrets.token_urlsafe(TOKEN_BYTES)
    async with db.transaction("issue_document_link") as conn:
        await conn.execute(delete(L).where(L.c.expires_at <= now))
        await conn.execute(
            insert(L).values(
                token_hash=digest(token),
                person_id=person_id,
                kind=kind,
                created_at=now,
                expires_at=now + LIFETIME,
            )
        )
    return token


async def opened(db: Database, token: str, *, now: datetime) -> Opened | None:
    """What the link gives, or None when it is unknown or expired (the caller tells no
    difference)."""
    async with db.reading("open_document_link") as conn:
        row = (
            await conn.execute(
                select(L.c.person_id, L.c.kind).where(
                    L.c.token_hash == digest(token), L.c.expires_at > now
                )
            )
        ).first()
    return None if row is None else Opened(int(row.person_id), str(row.kind))


async def forget_person(conn: AsyncConnection, person_id: int) -> None:
    """No link opens the person's data once they are erased."""
    await conn.execute(delete(L).where(L.c.person_id == person_id))
