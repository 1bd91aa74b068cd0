"""Notifications to an organisation as a whole: its admin groups, or each coordinator
privately while no group is linked; scheduled ones carry a dedupe key per recipient."""

from __future__ import annotations

from collections.abc import Iterable
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.messaging.outbox import Once, Priority, enqueue_once_many
from bot.notifications import Notification
from bot.services.organisations import admin_chat_ids, coordinator_ids
from storage import schema

Recipient = tuple[str, int]  # ("chat", telegram chat id) or ("person", person id)
KEYS_PER_QUERY = 500  # well inside every backend's limit on bound parameters


async def recipients(conn: AsyncConnection, organisation_id: int) -> list[Recipient]:
    """Who hears about the organisation's business, the same way applications are told."""
    chats = await admin_chat_ids(conn, organisation_id)
    if chats:
        return [("chat", chat_id) for chat_id in chats]
    return [("person", person_id) for person_id in await coordinator_ids(conn, organisation_id)]


async def recipients_of(
    conn: AsyncConnection, organisation_ids: Iterable[int]
) -> dict[int, list[Recipient]]:
    """recipients() for many organisations in two queries, for a scheduled job's batch."""
    wanted = sorted(set(organisation_ids))
    ac, m = schema.admin_chats, schema.members
    found: dict[int, list[Recipient]] = {o: [] for o in wanted}
    chats = await conn.execute(
        select(ac.c.organisation_id, ac.c.telegram_chat_id)
        .where(ac.c.organisation_id.in_(wanted))
        .order_by(ac.c.id)
    )
    for org, chat_id in chats:
        found[int(org)].append(("chat", int(chat_id)))
    alone = [o for o in wanted if not found[o]]
    if alone:
        members = await conn.execute(
            select(m.c.organisation_id, m.c.person_id)
            .where(m.c.organisation_id.in_(alone))
            .order_by(m.c.id)
        )
        for org, person_id in members:
            found[int(org)].append(("person", int(person_id)))
    return found


def recipient_key(key: str, recipient: Recipient) -> str:
    """The dedupe key of one copy: the outbox allows each key once, copies need their own."""
    return f"{key}:{recipient[0]}:{recipient[1]}"


def copies(key: str, notification: Notification, to: Iterable[Recipient]) -> list[Once]:
    """The notification for each recipient under its own key, for a batch queued with
    enqueue_once_many (tell_organisation_once, many at a time)."""
    return [
        Once(
            recipient_key(key, (who, ident)),
            notification,
            person_id=ident if who == "person" else None,
            chat_id=ident if who == "chat" else None,
        )
        for who, ident in to
    ]


async def tell_organisation_once(
    conn: AsyncConnection,
    organisation_id: int,
    key: str,
    notification: Notification,
    *,
    to: Iterable[Recipient] | None = None,
    priority: Priority = Priority.NORMAL,
) -> int:
    """Queue the notification for every recipient that has not had `key` yet; returns how many."""
    every = to if to is not None else await recipients(conn, organisation_id)
    return await enqueue_once_many(conn, copies(key, notification, every), priority=priority)


async def sent_keys(conn: AsyncConnection, keys: Iterable[str]) -> set[str]:
    """Which of `keys` the outbox already holds (one indexed lookup, not one per key)."""
    wanted = list(keys)
    o = schema.outbox
    found: set[str] = set()
    for start in range(0, len(wanted), KEYS_PER_QUERY):
        chunk = wanted[start : start + KEYS_PER_QUERY]
        rows = await conn.scalars(select(o.c.dedupe_key).where(o.c.dedupe_key.in_(chunk)))
        found.update(str(r) for r in rows)
    return found


def zone_of(name: str | None, default: ZoneInfo) -> ZoneInfo:
    """An organisation's or mission's zone; a NULL or unknown one falls back to the service's."""
    if not name:
        return default
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return default
