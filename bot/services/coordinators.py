"""What a coordinator may reach: the missions of the organisations they are a member of."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Row, select
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.services.errors import NotFound
from bot.services.organisations import require_member
from storage import schema

M = schema.missions


async def coordinated_mission(
    conn: AsyncConnection, actor_id: int, mission_id: int, *columns: Any
) -> Row[Any]:
    """The mission's `columns` (its organisation_id among them) when the actor coordinates
    its organisation; NotFound, or NotAllowed from require_member, otherwise."""
    row = (await conn.execute(select(*columns).where(M.c.id == mission_id))).first()
    if row is None:
        raise NotFound("mission_not_found")
    await require_member(conn, actor_id, row.organisation_id)
    return row
