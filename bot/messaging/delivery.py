"""What one outbox row is about and what sending it leaves behind: who it is for and how
they can be reached, and the bookkeeping of copies posted in Telegram (an application's,
to edit once decided; a relayed message's, which a reply answers)."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.messaging import outbox
from bot.messaging.channel import Address, Sent
from bot.notifications.applications import ApplicationSubmitted
from bot.notifications.relay import RelayToOrganisation, RelayToVolunteer
from storage import schema

log = logging.getLogger(__name__)
OUTBOX, P = schema.outbox, schema.people


@dataclass(frozen=True)
class Recipient:
    """Who a row is for and how they can be reached, read when the row is claimed."""

    person_id: int | None
    group_chat_id: int | None
    locale: str | None = None
    telegram_language: str | None = None
    telegram_chat_id: int | None = None
    telegram_reachable: bool = False
    sms_phone: str | None = None  # None too when the person sent STOP
    phone_channel: str | None = None  # "whatsapp" when they write from WhatsApp
    preferred_channel: str | None = None


@dataclass(frozen=True)
class Job:
    """One claimed outbox row."""

    id: int
    kind: str
    payload: dict[str, Any]
    attempts: int
    recipient: Recipient


@dataclass(frozen=True)
class Route:
    channel: str
    address: Address


async def load_recipients(conn: AsyncConnection, ids: set[int]) -> dict[int, Recipient]:
    if not ids:
        return {}
    rows = await conn.execute(
        select(
            P.c.id,
            P.c.locale,
            P.c.telegram_language,
            P.c.telegram_chat_id,
            P.c.telegram_unreachable_at,
            P.c.phone,
            P.c.sms_stopped_at,
            P.c.phone_channel,
            P.c.preferred_channel,
        ).where(P.c.id.in_(ids))
    )
    return {
        r.id: Recipient(
            person_id=r.id,
            group_chat_id=None,
            locale=r.locale,
            telegram_language=r.telegram_language,
            telegram_chat_id=r.telegram_chat_id,
            telegram_reachable=r.telegram_unreachable_at is None,
            sms_phone=r.phone if r.sms_stopped_at is None else None,
            phone_channel=r.phone_channel,
            preferred_channel=r.preferred_channel,
        )
        for r in rows
    }


# Kinds whose Telegram copies are remembered: an application's are edited once someone
# decides; a relayed message's are what a reply to it answers.
POSTED_KINDS = {
    ApplicationSubmitted.kind: ("application", "application_id"),
    RelayToVolunteer.kind: ("relay_message", "relay_id"),
    RelayToOrganisation.kind: ("relay_message", "relay_id"),
}


def posted_row(job: Job, route: Route, sent: Sent) -> dict[str, Any] | None:
    """The row remembering where a copy of a notification of POSTED_KINDS went."""
    subject = POSTED_KINDS.get(job.kind)
    if subject is None or route.channel != "telegram":
        return None
    return {
        "subject_type": subject[0],
        "subject_id": int(job.payload[subject[1]]),
        "chat_id": int(route.address),
        "message_id": int(sent.provider_id),
        "created_at": schema.now(),
    }


async def link_group_copies(conn: AsyncConnection, sent: list[tuple[Job, Route, Sent]]) -> None:
    """A volunteer's relayed answer remembers its copy in the admin group."""
    relay = schema.relay_messages
    for job, route, outcome in sent:
        if job.kind == RelayToOrganisation.kind and job.recipient.group_chat_id is not None:
            await conn.execute(
                update(relay)
                .where(relay.c.id == int(job.payload["relay_id"]))
                .values(group_chat_id=int(route.address), group_message_id=int(outcome.provider_id))
            )


async def follow_migration(conn: AsyncConnection, job: Job, new_chat_id: int) -> None:
    """A group that became a supergroup keeps its role under its new id."""
    old = job.recipient.group_chat_id
    if old is None:
        return
    chats = schema.admin_chats
    taken = await conn.scalar(select(chats.c.id).where(chats.c.telegram_chat_id == new_chat_id))
    if taken is None:
        await conn.execute(
            update(chats)
            .where(chats.c.telegram_chat_id == old)
            .values(telegram_chat_id=new_chat_id)
        )
    await outbox.move_to_chat(conn, old, new_chat_id)
    log.info("group %s migrated to %s", old, new_chat_id)


def describe(job: Job, route: Route | None) -> str:
    recipient = job.recipient
    target = (
        f"person {recipient.person_id}"
        if recipient.person_id
        else f"chat {recipient.group_chat_id}"
    )
    return f"{target} via {route.channel}" if route is not None else target
