"""Organisations, their members and their admin chats."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, Row, ScalarSelect, Table, bindparam, func, insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.domain import Role
from bot.services import audit
from bot.services.errors import Conflict, InvalidInput, NotAllowed, NotFound
from bot.text import clean_text
from storage import schema
from storage.database import Database, Inbound

# No 0/O or 1/I/L: invite codes are read aloud and typed on phones.
INVITE_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
INVITE_LENGTH = 8
MAX_NAME = 200  # the column's length


@dataclass(frozen=True)
class Organisation:
    id: int
    name: str
    postcode: str | None
    invite_code: str
    verified: bool


@dataclass(frozen=True)
class OrganisationSummary:
    organisation: Organisation
    members: int
    missions: int
    admin_chats: int


def new_invite_code() -> str:
    return "".join(secrets.choice(INVITE_ALPHABET) for _ in range(INVITE_LENGTH))


def normalise_invite_code(text: str) -> str:
    return "".join(c for c in text.upper() if c.isalnum())


def _organisation(row: Row[Any]) -> Organisation:
    return Organisation(
        id=row.id,
        name=row.name,
        postcode=row.postcode,
        invite_code=row.invite_code,
        verified=row.verified,
    )


async def fetch_organisation(conn: AsyncConnection, organisation_id: int) -> Organisation:
    table = schema.organisations
    row = (await conn.execute(select(table).where(table.c.id == organisation_id))).first()
    if row is None:
        raise NotFound("organisation_not_found")
    return _organisation(row)


async def organisation_name(conn: AsyncConnection, organisation_id: int) -> str:
    """The organisation's name, or NotFound: what a person's choice about one organisation
    (its relayed messages, seeing their number) answers with."""
    table = schema.organisations
    name = await conn.scalar(select(table.c.name).where(table.c.id == organisation_id))
    if name is None:
        raise NotFound("organisation_not_found")
    return str(name)


async def create_organisation(db: Database, name: str, postcode: str | None = None) -> Organisation:
    clean = " ".join(clean_text(name).split())
    if not clean:
        raise InvalidInput("organisation_name")
    if len(clean) > MAX_NAME:
        raise InvalidInput("organisation_name_length", most=MAX_NAME)
    # isascii: '５２１００' passes isdigit() but is no postcode a letter carries.
    if postcode is not None and not (
        postcode.isascii() and postcode.isdigit() and len(postcode) == 5
    ):
        raise InvalidInput("postcode", postcode=postcode)
    table = schema.organisations
    try:
        async with db.transaction("create_organisation") as conn:
            if await conn.scalar(
                select(table.c.id).where(func.lower(table.c.name) == clean.lower())
            ):
                raise Conflict("organisation_exists", name=clean)
            result = await conn.execute(
                insert(table)
                .values(
                    name=clean,
                    postcode=postcode,
                    invite_code=new_invite_code(),
                    verified=False,
                    created_at=schema.now(),
                )
                .returning(table.c.id)
            )
            organisation_id = int(result.scalar_one())
            await audit.record(
                conn,
                "create_organisation",
                actor_id=None,
                action="organisation.created",
                subject_type="organisation",
                subject_id=organisation_id,
                name=clean,
            )
            return await fetch_organisation(conn, organisation_id)
    except IntegrityError:
        raise Conflict("organisation_exists", name=clean) from None


async def find_organisation_by_name(db: Database, name: str) -> Organisation | None:
    table = schema.organisations
    async with db.reading("find_organisation_by_name") as conn:
        row = (
            await conn.execute(
                select(table).where(func.lower(table.c.name) == " ".join(name.split()).lower())
            )
        ).first()
    return None if row is None else _organisation(row)


async def list_organisations(db: Database) -> list[OrganisationSummary]:
    o, m, mi, ac = schema.organisations, schema.members, schema.missions, schema.admin_chats

    def count(table: Table, column: ColumnElement[Any]) -> ScalarSelect[int]:
        return select(func.count()).select_from(table).where(column == o.c.id).scalar_subquery()

    query = select(
        o,
        count(m, m.c.organisation_id).label("n_members"),
        count(mi, mi.c.organisation_id).label("n_missions"),
        count(ac, ac.c.organisation_id).label("n_chats"),
    ).order_by(o.c.name)
    async with db.reading("list_organisations") as conn:
        rows = (await conn.execute(query)).all()
    return [
        OrganisationSummary(_organisation(r), r.n_members, r.n_missions, r.n_chats) for r in rows
    ]


async def join(
    db: Database, person_id: int, invite_code: str, inbound: Inbound | None = None
) -> Organisation:
    """Make the person a coordinator of the organisation the code belongs to (the first
    member becomes its owner)."""
    code = normalise_invite_code(invite_code)
    o, m = schema.organisations, schema.members
    async with db.transaction("join_organisation", inbound) as conn:
        row = (await conn.execute(select(o).where(o.c.invite_code == code))).first()
        if row is None:
            raise NotFound("invite_code")
        organisation = _organisation(row)
        existing = await conn.scalar(
            select(m.c.role).where(
                m.c.organisation_id == organisation.id, m.c.person_id == person_id
            )
        )
        if existing is not None:
            return organisation
        has_members = await conn.scalar(
            select(m.c.id).where(m.c.organisation_id == organisation.id).limit(1)
        )
        role = Role.COORDINATOR if has_members else Role.OWNER
        await conn.execute(
            insert(m).values(
                organisation_id=organisation.id,
                person_id=person_id,
                role=role,
                created_at=schema.now(),
            )
        )
        await audit.record(
            conn,
            "join_organisation",
            actor_id=person_id,
            action="member.joined",
            subject_type="organisation",
            subject_id=organisation.id,
            role=str(role),
        )
        return organisation


async def memberships(db: Database, person_id: int) -> list[Organisation]:
    async with db.reading("memberships") as conn:
        return await select_memberships(conn, person_id)


# Read at the start of every turn: built once.
_MEMBERSHIPS = (
    select(schema.organisations)
    .join(schema.members, schema.members.c.organisation_id == schema.organisations.c.id)
    .where(schema.members.c.person_id == bindparam("person_id"))
    .order_by(schema.organisations.c.name)
)


async def select_memberships(conn: AsyncConnection, person_id: int) -> list[Organisation]:
    """The organisations the person coordinates, by name."""
    rows = (await conn.execute(_MEMBERSHIPS, {"person_id": person_id})).all()
    return [_organisation(r) for r in rows]


async def require_member(conn: AsyncConnection, person_id: int, organisation_id: int) -> Role:
    """The person's role in the organisation, or NotAllowed."""
    m = schema.members
    role = await conn.scalar(
        select(m.c.role).where(m.c.organisation_id == organisation_id, m.c.person_id == person_id)
    )
    if role is None:
        raise NotAllowed("not_member")
    return Role(role)


async def link_admin_chat(
    db: Database,
    *,
    person_id: int,
    organisation_id: int,
    chat_id: int,
    title: str | None,
    inbound: Inbound | None = None,
) -> Organisation:
    """Make a group the organisation's admin chat (a member must ask)."""
    ac = schema.admin_chats
    async with db.transaction("link_admin_chat", inbound) as conn:
        await require_member(conn, person_id, organisation_id)
        current = (await conn.execute(select(ac).where(ac.c.telegram_chat_id == chat_id))).first()
        if current is not None and current.organisation_id != organisation_id:
            raise Conflict("chat_linked_elsewhere")
        if current is None:
            await conn.execute(
                insert(ac).values(
                    organisation_id=organisation_id,
                    telegram_chat_id=chat_id,
                    title=(title or "")[:200],
                    linked_by=person_id,
                    created_at=schema.now(),
                )
            )
            await audit.record(
                conn,
                "link_admin_chat",
                actor_id=person_id,
                action="admin_chat.linked",
                subject_type="organisation",
                subject_id=organisation_id,
                chat_id=chat_id,
            )
        return await fetch_organisation(conn, organisation_id)


async def organisation_of_chat(db: Database, chat_id: int) -> Organisation | None:
    ac, o = schema.admin_chats, schema.organisations
    async with db.reading("organisation_of_chat") as conn:
        row = (
            await conn.execute(
                select(o)
                .join(ac, ac.c.organisation_id == o.c.id)
                .where(ac.c.telegram_chat_id == chat_id)
            )
        ).first()
    return None if row is None else _organisation(row)


async def admin_chat_ids(conn: AsyncConnection, organisation_id: int) -> list[int]:
    ac = schema.admin_chats
    rows = await conn.scalars(
        select(ac.c.telegram_chat_id).where(ac.c.organisation_id == organisation_id)
    )
    return [int(r) for r in rows]


async def coordinator_ids(conn: AsyncConnection, organisation_id: int) -> list[int]:
    m = schema.members
    rows = await conn.scalars(select(m.c.person_id).where(m.c.organisation_id == organisation_id))
    return [int(r) for r in rows]
