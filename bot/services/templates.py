"""Mission templates: the built-in ones (stored on first use, so missions can point at them)
and those an organisation saved from its own missions."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Row, insert, or_, select
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.i18n import Translator
from bot.services import audit
from bot.services.coordinators import coordinated_mission
from bot.services.errors import NotFound
from bot.templates_builtin import BUILTIN_TEMPLATES, BuiltinTemplate
from storage import schema
from storage.database import Database, Inbound

KEY_LENGTH = 40


@dataclass(frozen=True)
class Template:
    id: int
    key: str
    organisation_id: int | None  # None: built in, texts are msgids
    title: str
    description: str
    domain: str
    duration_minutes: int | None
    prerequisites: str
    default_capacity: int

    @property
    def builtin(self) -> bool:
        return self.organisation_id is None

    def localised(self, t: Translator) -> Template:
        """Built-in texts in the reader's language; an organisation's own stay as typed."""
        if not self.builtin:
            return self
        return Template(
            self.id,
            self.key,
            None,
            t._(self.title),
            t._(self.description) if self.description else "",
            self.domain,
            self.duration_minutes,
            t._(self.prerequisites) if self.prerequisites else "",
            self.default_capacity,
        )

    def full_description(self, t: Translator) -> str:
        """The description a mission made from it starts with, prerequisites included."""
        if not self.prerequisites:
            return self.description
        prerequisite = t._("Prerequisite: {prerequisite}", prerequisite=self.prerequisites)
        return f"{self.description}\n\n{prerequisite}".strip()


def _template(row: Row[Any]) -> Template:
    return Template(
        id=row.id,
        key=row.key,
        organisation_id=row.organisation_id,
        title=row.title,
        description=row.description,
        domain=row.domain,
        duration_minutes=row.duration_minutes,
        prerequisites=row.prerequisites,
        default_capacity=row.default_capacity,
    )


def _values(builtin: BuiltinTemplate) -> dict[str, Any]:
    return {
        "title": builtin.title,
        "description": builtin.description,
        "domain": builtin.domain,
        "duration_minutes": builtin.duration_minutes,
        "prerequisites": builtin.prerequisites,
        "default_capacity": builtin.default_capacity,
    }


async def ensure_builtins(conn: AsyncConnection) -> None:
    """Store the built-in templates, or bring stored ones up to this version's texts."""
    table = schema.templates
    rows = (await conn.execute(select(table).where(table.c.organisation_id.is_(None)))).all()
    stored = {row.key: row for row in rows}
    for builtin in BUILTIN_TEMPLATES:
        values = _values(builtin)
        row = stored.get(builtin.key)
        if row is None:
            await conn.execute(
                insert(table).values(key=builtin.key, created_at=schema.now(), **values)
            )
        elif any(getattr(row, k) != v for k, v in values.items()):
            await conn.execute(table.update().where(table.c.id == row.id).values(**values))


async def templates_for(db: Database, organisation_id: int) -> list[Template]:
    """The built-in templates in their order, then the organisation's own, newest first."""
    table = schema.templates
    async with db.transaction("templates_for") as conn:
        await ensure_builtins(conn)
        rows = (
            await conn.execute(
                select(table).where(
                    or_(
                        table.c.organisation_id.is_(None),
                        table.c.organisation_id == organisation_id,
                    )
                )
            )
        ).all()
    order = {b.key: i for i, b in enumerate(BUILTIN_TEMPLATES)}
    builtins = sorted(
        (r for r in rows if r.organisation_id is None), key=lambda r: (order.get(r.key, 99), r.id)
    )
    own = sorted((r for r in rows if r.organisation_id is not None), key=lambda r: -r.id)
    return [_template(r) for r in [*builtins, *own]]


async def fetch_template(
    conn: AsyncConnection, template_id: int, organisation_id: int | None
) -> Template:
    """A built-in template, or one of `organisation_id`'s."""
    table = schema.templates
    row = (await conn.execute(select(table).where(table.c.id == template_id))).first()
    if row is None or row.organisation_id not in (None, organisation_id):
        raise NotFound("template_not_found")
    return _template(row)


async def get_template(db: Database, template_id: int, organisation_id: int | None) -> Template:
    async with db.reading("get_template") as conn:
        return await fetch_template(conn, template_id, organisation_id)


async def builtin_template(conn: AsyncConnection, key: str) -> Template:
    """A built-in template by its key (stored if it was not yet)."""
    table = schema.templates
    await ensure_builtins(conn)
    row = (
        await conn.execute(
            select(table)
            .where(table.c.organisation_id.is_(None), table.c.key == key)
            .order_by(table.c.id)
            .limit(1)
        )
    ).first()
    if row is None:
        raise NotFound("template_not_found", key=key)
    return _template(row)


def slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")[:KEY_LENGTH] or "template"


async def save_from_mission(
    db: Database, *, mission_id: int, actor_id: int, inbound: Inbound | None = None
) -> Template:
    """Save a mission as a template of its organisation (a coordinator asks); its first
    slot gives the typical duration and number of volunteers."""
    m, s, table = schema.missions, schema.slots, schema.templates
    async with db.transaction("save_template", inbound) as conn:
        mission = await coordinated_mission(conn, actor_id, mission_id, m)
        slot = (
            await conn.execute(
                select(s).where(s.c.mission_id == mission_id).order_by(s.c.starts_at).limit(1)
            )
        ).first()
        existing = (
            await conn.execute(
                select(table).where(
                    table.c.organisation_id == mission.organisation_id,
                    table.c.title == mission.title,
                )
            )
        ).first()
        if existing is not None:
            return _template(existing)
        minutes = None
        if slot is not None:
            minutes = int((slot.ends_at - slot.starts_at).total_seconds() // 60)
        result = await conn.execute(
            insert(table)
            .values(
                organisation_id=mission.organisation_id,
                key=slug(mission.title),
                title=mission.title,
                description=mission.description,
                domain=mission.domain,
                duration_minutes=minutes,
                prerequisites="",
                default_capacity=slot.capacity if slot is not None else 1,
                created_at=schema.now(),
            )
            .returning(table.c.id)
        )
        template_id = int(result.scalar_one())
        await audit.record(
            conn,
            "save_template",
            actor_id=actor_id,
            action="template.saved",
            subject_type="template",
            subject_id=template_id,
            mission_id=mission_id,
        )
        return await fetch_template(conn, template_id, mission.organisation_id)
