"""Which channel reaches a person: their preferred channel, and the one-time link code that
joins a phone (WhatsApp or SMS) to a profile made in Telegram, so one person keeps one
history whatever they write from."""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta

from sqlalchemy import delete, insert, select

from bot.services import audit, person_store
from bot.services.errors import Conflict, NotFound
from bot.services.people import Person, fetch_person
from bot.services.phones import attach_phone
from storage import schema
from storage.database import Database, Inbound

P, L = schema.people, schema.link_codes
CHANNELS = ("telegram", "sms", "whatsapp")
CODE_DIGITS = 6
CODE_LIFETIME = timedelta(minutes=15)


async def new_link_code(db: Database, person_id: int, now: datetime) -> str:
    """A fresh code for this person (an earlier one stops working)."""
    code = f"{secrets.randbelow(10**CODE_DIGITS):0{CODE_DIGITS}d}"
    async with db.transaction("new_link_code") as conn:
        await conn.execute(delete(L).where((L.c.person_id == person_id) | (L.c.expires_at < now)))
        # A code still held by someone else is not handed out twice.
        if await conn.scalar(select(L.c.code).where(L.c.code == code)) is not None:
            raise Conflict("link_code_busy")
        await conn.execute(
            insert(L).values(code=code, person_id=person_id, expires_at=now + CODE_LIFETIME)
        )
    return code


async def use_link_code(
    db: Database, code: str, phone: str, channel: str, now: datetime, inbound: Inbound | None
) -> Person:
    """The phone that sent `code` becomes the code's person's, and their preferred channel
    the one it was sent on; the code is spent."""
    async with db.transaction("use_link_code", inbound) as conn:
        person_id = await conn.scalar(
            select(L.c.person_id).where(L.c.code == code, L.c.expires_at >= now)
        )
        if person_id is None:
            raise NotFound("link_code_unknown")
        await conn.execute(delete(L).where(L.c.code == code))
        me = (await conn.execute(select(P).where(P.c.id == person_id))).first()
        if me is None:
            raise NotFound("link_code_unknown")
        if me.phone is not None and me.phone != phone:
            raise Conflict("phone_already_linked")
        await attach_phone(conn, me, phone, shared=False, transaction="use_link_code")
        await person_store.change(
            conn, person_id, {"preferred_channel": channel, "phone_channel": channel}
        )
        return await fetch_person(conn, person_id)


async def choose(
    db: Database, person_id: int, channel: str, inbound: Inbound | None = None
) -> None:
    """The person's preferred channel from now on."""
    if channel not in CHANNELS:
        raise Conflict("unknown_channel")
    async with db.transaction("choose_channel", inbound) as conn:
        row = (
            await conn.execute(select(P.c.phone, P.c.telegram_chat_id).where(P.c.id == person_id))
        ).first()
        if row is None:
            raise NotFound("person_not_found")
        if (channel == "telegram" and row.telegram_chat_id is None) or (
            channel != "telegram" and row.phone is None
        ):
            raise Conflict("channel_not_linked")
        values: dict[str, object] = {"preferred_channel": channel}
        if channel != "telegram":
            values["phone_channel"] = channel
        await person_store.change(conn, person_id, values)
        await audit.record(
            conn,
            "choose_channel",
            actor_id=person_id,
            action="channel.chosen",
            subject_type="person",
            subject_id=person_id,
            channel=channel,
        )


async def preferred(db: Database, person_id: int) -> str | None:
    async with db.reading("preferred_channel") as conn:
        found = await conn.scalar(select(P.c.preferred_channel).where(P.c.id == person_id))
    return None if found is None else str(found)
