"""A phone reached on WhatsApp: the channel the person writes from, the 24-hour window their
last WhatsApp message opened, and the Content API templates Renfort may send outside it.

WhatsApp shares the phone's consent with SMS: a STOP on either silences the number on both."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, insert, select

from bot.services import person_store
from storage import schema
from storage.database import Database

P, T = schema.people, schema.whatsapp_templates
NAME = "whatsapp"
SMS = "sms"
PHONE_CHANNELS = (SMS, NAME)
# WhatsApp lets a business answer freely for a day after the person's last message.
WINDOW = timedelta(hours=24)


@dataclass(frozen=True)
class Template:
    """A Content API resource Renfort made, and WhatsApp's verdict on it."""

    name: str
    locale: str
    content_sid: str
    status: str  # approved, pending, received, rejected, unsubmitted, or session (no review)

    @property
    def usable_outside_window(self) -> bool:
        return self.status == "approved"


async def note_inbound(db: Database, phone: str, channel: str, now: datetime) -> None:
    """The person behind `phone` wrote on `channel`: that is where their phone is reached,
    and a WhatsApp message opens (or extends) the window."""
    values: dict[str, object] = {"phone_channel": channel}
    if channel == NAME:
        values["whatsapp_seen_at"] = now
    async with db.transaction("note_inbound_channel") as conn:
        await person_store.change_by_phone(conn, phone, values)


async def phone_channel(db: Database, phone: str) -> str | None:
    """The channel `phone` last wrote from (None: never, or not a person of ours)."""
    async with db.reading("phone_channel") as conn:
        found = await conn.scalar(select(P.c.phone_channel).where(P.c.phone == phone))
    return None if found is None else str(found)


async def window_open(db: Database, phone: str, now: datetime) -> bool:
    """Whether a free-form WhatsApp message may reach `phone` now."""
    async with db.reading("whatsapp_window") as conn:
        seen = await conn.scalar(select(P.c.whatsapp_seen_at).where(P.c.phone == phone))
    return seen is not None and now - seen < WINDOW


async def close_window(db: Database, phone: str) -> None:
    """WhatsApp said the window is closed (63016): believe it over our own record."""
    async with db.transaction("close_whatsapp_window") as conn:
        await person_store.change_by_phone(conn, phone, {"whatsapp_seen_at": None})


async def templates(db: Database) -> dict[tuple[str, str], Template]:
    """Every template Renfort knows, by (name, language)."""
    async with db.reading("whatsapp_templates") as conn:
        rows = (await conn.execute(select(T))).all()
    return {(r.name, r.locale): Template(r.name, r.locale, r.content_sid, r.status) for r in rows}


async def save_templates(db: Database, found: list[Template]) -> None:
    """Remember these templates (replacing what was known of the same name and language)."""
    if not found:
        return
    async with db.transaction("save_whatsapp_templates") as conn:
        for template in found:
            await conn.execute(
                delete(T).where(T.c.name == template.name, T.c.locale == template.locale)
            )
        await conn.execute(
            insert(T),
            [
                {
                    "name": t.name,
                    "locale": t.locale,
                    "content_sid": t.content_sid,
                    "status": t.status,
                    "updated_at": schema.now(),
                }
                for t in found
            ],
        )
