"""Board links and sessions: `/board` gives a coordinator a one-use link, valid 15 minutes,
that opens a browser session for 12 hours. Only SHA-256 digests of the secrets are stored;
asking `/board` again, or signing out everywhere, ends every earlier link and session."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.services import audit
from bot.services.errors import NotAllowed, NotFound
from bot.services.organisations import require_member
from storage import schema
from storage.database import Database, Inbound

LINK_LIFETIME = timedelta(minutes=15)
SESSION_LIFETIME = timedelta(hours=12)
TOKEN_BYTES = 32
L, SS, MEMBERS, REFERENTS = (
    schema.board_links,
    schema.board_sessions,
    schema.members,
    schema.referents,
)


@dataclass(frozen=True)
class BoardSession:
    """Who a browser session belongs to; `organisation_id` narrows it to one organisation
    (a link asked for in that organisation's admin group)."""

    session_id: int
    person_id: int
    organisation_id: int | None
    expires_at: datetime


def digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


async def _revoke_all(conn: AsyncConnection, person_id: int, now: datetime) -> None:
    await conn.execute(
        update(L).where(L.c.person_id == person_id, L.c.used_at.is_(None)).values(used_at=now)
    )
    await conn.execute(
        update(SS)
        .where(SS.c.person_id == person_id, SS.c.revoked_at.is_(None))
        .values(revoked_at=now)
    )


async def issue_link(
    db: Database,
    *,
    person_id: int,
    organisation_id: int | None,
    now: datetime,
    inbound: Inbound | None = None,
) -> str:
    """A new link's secret for a coordinator (of `organisation_id` when given) or a referent;
    every earlier link and session of theirs stops working."""
    token = secrets.token_urlsafe(TOKEN_BYTES)
    async with db.transaction("issue_board_link", inbound) as conn:
        if organisation_id is not None:
            await require_member(conn, person_id, organisation_id)
        else:
            member = await conn.scalar(
                select(MEMBERS.c.id).where(MEMBERS.c.person_id == person_id).limit(1)
            )
            referent = await conn.scalar(
                select(REFERENTS.c.id).where(REFERENTS.c.person_id == person_id).limit(1)
            )
            if member is None and referent is None:
                raise NotAllowed("not_member")
        await _revoke_all(conn, person_id, now)
        link_id = (
            await conn.execute(
                insert(L)
                .values(
                    token_hash=digest(token),
                    person_id=person_id,
                    organisation_id=organisation_id,
                    created_at=now,
                    expires_at=now + LINK_LIFETIME,
                )
                .returning(L.c.id)
            )
        ).scalar_one()
        await audit.record(
            conn,
            "issue_board_link",
            actor_id=person_id,
            action="board_link.issued",
            subject_type="board_link",
            subject_id=int(link_id),
            organisation_id=organisation_id,
        )
    return token


async def redeem_link(db: Database, token: str, *, now: datetime) -> tuple[str, BoardSession]:
    """Use a link once: the new session's secret and the session. An unknown, used or
    expired link is NotFound, whichever it is (the browser learns nothing more)."""
    session_token = secrets.token_urlsafe(TOKEN_BYTES)
    async with db.transaction("redeem_board_link") as conn:
        # The update claims the link: two browsers racing for it cannot both win.
        claimed = (
            await conn.execute(
                update(L)
                .where(
                    L.c.token_hash == digest(token),
                    L.c.used_at.is_(None),
                    L.c.expires_at > now,
                )
                .values(used_at=now)
                .returning(L.c.id, L.c.person_id, L.c.organisation_id)
            )
        ).first()
        if claimed is None:
            raise NotFound("board_link")
        expires_at = now + SESSION_LIFETIME
        session_id = (
            await conn.execute(
                insert(SS)
                .values(
                    token_hash=digest(session_token),
                    person_id=claimed.person_id,
                    organisation_id=claimed.organisation_id,
                    created_at=now,
                    expires_at=expires_at,
                )
                .returning(SS.c.id)
            )
        ).scalar_one()
        await audit.record(
            conn,
            "redeem_board_link",
            actor_id=claimed.person_id,
            action="board_session.opened",
            subject_type="board_session",
            subject_id=int(session_id),
            link_id=int(claimed.id),
        )
    session = BoardSession(
        int(session_id), int(claimed.person_id), claimed.organisation_id, expires_at
    )
    return session_token, session


async def session_of(db: Database, token: str, *, now: datetime) -> BoardSession | None:
    """The live session this secret opens, or None (unknown, expired or revoked)."""
    async with db.reading("board_session") as conn:
        row = (
            await conn.execute(
                select(SS.c.id, SS.c.person_id, SS.c.organisation_id, SS.c.expires_at).where(
                    SS.c.token_hash == digest(token),
                    SS.c.revoked_at.is_(None),
                    SS.c.expires_at > now,
                )
            )
        ).first()
    if row is None:
        return None
    return BoardSession(int(row.id), int(row.person_id), row.organisation_id, row.expires_at)


async def sign_out_everywhere(db: Database, *, person_id: int, now: datetime) -> None:
    """End every session and unused link of the person."""
    async with db.transaction("board_sign_out") as conn:
        await _revoke_all(conn, person_id, now)
        await audit.record(
            conn,
            "board_sign_out",
            actor_id=person_id,
            action="board_session.revoked",
            subject_type="person",
            subject_id=person_id,
        )
