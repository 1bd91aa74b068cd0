"""People: who they are, where they live, what they like, how to reach them."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Row, bindparam, select
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.domain import DOMAINS, RADII, GeoPoint
from bot.geo import Place
from bot.services import audit, person_store
from bot.services.errors import InvalidInput, NotFound
from storage import schema
from storage.database import Database, Inbound

UNSET: Any = object()


@dataclass(frozen=True)
class Person:
    id: int
    first_name: str
    locale: str | None
    telegram_language: str | None
    telegram_user_id: int | None
    telegram_chat_id: int | None
    telegram_unreachable: bool
    has_phone: bool
    postcode: str | None
    town: str | None
    home: GeoPoint | None
    interests: tuple[str, ...]
    search_radius_km: int | None
    registered_at: datetime | None
    attended_count: int
    no_show_count: int

    @property
    def registered(self) -> bool:
        return self.registered_at is not None


def person_from_row(row: Row[Any]) -> Person:
    home = None
    if row.latitude is not None and row.longitude is not None:
        home = GeoPoint(row.latitude, row.longitude)
    return Person(
        id=row.id,
        first_name=row.first_name,
        locale=row.locale,
        telegram_language=row.telegram_language,
        telegram_user_id=row.telegram_user_id,
        telegram_chat_id=row.telegram_chat_id,
        telegram_unreachable=row.telegram_unreachable_at is not None,
        has_phone=row.phone is not None,
        postcode=row.postcode,
        town=row.town,
        home=home,
        interests=tuple(row.interests or ()),
        search_radius_km=row.search_radius_km,
        registered_at=row.registered_at,
        attended_count=row.attended_count,
        no_show_count=row.no_show_count,
    )


async def fetch_person(conn: AsyncConnection, person_id: int) -> Person:
    row = (await conn.execute(select(schema.people).where(schema.people.c.id == person_id))).first()
    if row is None:
        raise NotFound("person_not_found")
    return person_from_row(row)


async def get_person(db: Database, person_id: int) -> Person:
    async with db.reading("get_person") as conn:
        return await fetch_person(conn, person_id)


async def find_by_telegram(db: Database, telegram_user_id: int) -> Person | None:
    async with db.reading("find_by_telegram") as conn:
        row = await select_by_telegram(conn, telegram_user_id)
    return None if row is None else person_from_row(row)


def telegram_changes(
    row: Row[Any], *, chat_id: int | None, language_code: str | None
) -> dict[str, Any]:
    """What Telegram now tells us that the stored person does not say yet."""
    changes: dict[str, Any] = {}
    if language_code and language_code != row.telegram_language:
        changes["telegram_language"] = language_code
    if chat_id is not None and chat_id != row.telegram_chat_id:
        changes["telegram_chat_id"] = chat_id
    if chat_id is not None and row.telegram_unreachable_at is not None:
        changes["telegram_unreachable_at"] = None
    return changes


# Every turn begins with it: built once (building took longer than SQLite's answer).
_BY_TELEGRAM = select(schema.people).where(
    schema.people.c.telegram_user_id == bindparam("telegram_user_id")
)


async def select_by_telegram(conn: AsyncConnection, telegram_user_id: int) -> Row[Any] | None:
    return (await conn.execute(_BY_TELEGRAM, {"telegram_user_id": telegram_user_id})).first()


async def ensure_telegram_person(
    db: Database,
    *,
    telegram_user_id: int,
    chat_id: int | None,
    first_name: str,
    language_code: str | None,
) -> Person:
    """The person behind a Telegram user, created on first contact; refreshes what Telegram
    tells us each time (language, private chat, reachable again since they wrote). Writes
    only when something is new."""
    async with db.reading("find_telegram_person") as conn:
        row = await select_by_telegram(conn, telegram_user_id)
    if row is not None and not telegram_changes(row, chat_id=chat_id, language_code=language_code):
        return person_from_row(row)
    return await record_telegram_person(
        db,
        telegram_user_id=telegram_user_id,
        chat_id=chat_id,
        first_name=first_name,
        language_code=language_code,
    )


async def record_telegram_person(
    db: Database,
    *,
    telegram_user_id: int,
    chat_id: int | None,
    first_name: str,
    language_code: str | None,
) -> Person:
    """Create the person, or store what changed, in one write transaction."""
    async with db.transaction("record_telegram_person") as conn:
        row = await select_by_telegram(conn, telegram_user_id)
        if row is None:
            person_id = await person_store.insert_person(
                conn,
                {
                    "first_name": first_name.strip()[:80],
                    "telegram_user_id": telegram_user_id,
                    "telegram_chat_id": chat_id,
                    "telegram_language": language_code,
                    "interests": [],
                    "availability": {},
                    "created_at": schema.now(),
                    "updated_at": schema.now(),
                },
            )
            return await fetch_person(conn, person_id)
        changes = telegram_changes(row, chat_id=chat_id, language_code=language_code)
        if changes:
            await person_store.change(conn, row.id, changes)
            return await fetch_person(conn, row.id)
        return person_from_row(row)


async def update_profile(
    db: Database,
    person_id: int,
    *,
    inbound: Inbound | None = None,
    first_name: str = UNSET,
    home: Place | None = UNSET,
    interests: Sequence[str] = UNSET,
    locale: str = UNSET,
    search_radius_km: int | None = UNSET,
    complete_registration: bool = False,
) -> Person:
    """Change what the person said about themselves; only the given fields change."""
    values: dict[str, Any] = {}
    if first_name is not UNSET:
        name = " ".join(first_name.split())[:80]
        if not name or not any(c.isalpha() for c in name):
            raise InvalidInput("first_name")
        values["first_name"] = name
    if home is not UNSET:
        if home is None:
            values.update(postcode=None, town=None, latitude=None, longitude=None)
        else:
            values.update(
                postcode=home.postcode,
                town=home.name,
                latitude=home.point.latitude,
                longitude=home.point.longitude,
            )
    if interests is not UNSET:
        unknown = [d for d in interests if d not in DOMAINS]
        if unknown:
            raise InvalidInput("domain", unknown=unknown)
        values["interests"] = sorted(set(interests))
    if locale is not UNSET:
        values["locale"] = locale
    if search_radius_km is not UNSET:
        if search_radius_km not in RADII:
            raise InvalidInput("radius")
        values["search_radius_km"] = search_radius_km
    async with db.transaction("update_profile", inbound) as conn:
        person = await fetch_person(conn, person_id)
        if complete_registration and person.registered_at is None:
            values["registered_at"] = schema.now()
        if values:
            values["updated_at"] = schema.now()
            await person_store.change(conn, person_id, values)
            await audit.record(
                conn,
                "update_profile",
                actor_id=person_id,
                action="profile.updated",
                subject_type="person",
                subject_id=person_id,
                fields=sorted(k for k in values if k != "updated_at"),
            )
        return await fetch_person(conn, person_id)


async def mark_telegram_unreachable(db: Database, telegram_user_id: int) -> None:
    """The person blocked the bot: stop trying Telegram until they write again."""
    async with db.transaction("mark_telegram_unreachable") as conn:
        await person_store.telegram_user_unreachable(conn, telegram_user_id, schema.now())
