"""A mission's conditions ("on the electoral roll of the département"): the volunteer
confirms each before applying, once per organisation; the confirmation is kept with the
application and shown to the coordinators."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection

from storage import schema
from storage.database import Database

A, S, M = schema.applications, schema.slots, schema.missions


async def to_confirm(conn: AsyncConnection, person_id: int, mission_id: int) -> list[str]:
    """The mission's conditions this person has not yet confirmed to its organisation."""
    mission = (
        await conn.execute(select(M.c.organisation_id, M.c.conditions).where(M.c.id == mission_id))
    ).first()
    if mission is None or not mission.conditions:
        return []
    confirmed: set[str] = set()
    earlier = await conn.scalars(
        select(A.c.conditions)
        .join(S, S.c.id == A.c.slot_id)
        .join(M, M.c.id == S.c.mission_id)
        .where(
            A.c.person_id == person_id,
            M.c.organisation_id == mission.organisation_id,
            A.c.conditions.is_not(None),
        )
    )
    for answered in earlier:
        confirmed.update(answered or ())
    return [c for c in mission.conditions if c not in confirmed]


async def to_confirm_for_slot(db: Database, *, person_id: int, slot_id: int) -> list[str]:
    """What the person must confirm before applying for this slot."""
    async with db.reading("conditions_to_confirm") as conn:
        mission_id = await conn.scalar(select(S.c.mission_id).where(S.c.id == slot_id))
        if mission_id is None:
            return []
        return await to_confirm(conn, person_id, int(mission_id))
