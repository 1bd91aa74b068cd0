"""Which organisations may see the phone number a volunteer gave for SMS: asked once per
organisation, no by default, changeable at any time. The applications export follows it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, insert, select

from bot.services import audit
from bot.services.organisations import organisation_name
from storage import schema
from storage.database import Database, Inbound

PC, P, A, S, M, ORG = (
    schema.phone_consents,
    schema.people,
    schema.applications,
    schema.slots,
    schema.missions,
    schema.organisations,
)


@dataclass(frozen=True)
class PhoneConsent:
    organisation_id: int
    organisation_name: str
    allowed: bool | None  # None: never asked


async def to_ask(db: Database, *, person_id: int, organisation_id: int) -> bool:
    """The person shares a number and was never asked about this organisation."""
    async with db.reading("phone_consent_to_ask") as conn:
        shared = await conn.scalar(
            select(P.c.id).where(
                P.c.id == person_id, P.c.phone_shared.is_(True), P.c.phone.is_not(None)
            )
        )
        if shared is None:
            return False
        asked = await conn.scalar(
            select(PC.c.id).where(
                PC.c.person_id == person_id, PC.c.organisation_id == organisation_id
            )
        )
    return asked is None


async def decide(
    db: Database,
    *,
    person_id: int,
    organisation_id: int,
    allowed: bool,
    now: datetime,
    inbound: Inbound | None = None,
) -> str:
    """Allow (or not) the organisation to see the person's number; returns its name."""
    async with db.transaction("phone_consent", inbound) as conn:
        name = await organisation_name(conn, organisation_id)
        await conn.execute(
            delete(PC).where(PC.c.person_id == person_id, PC.c.organisation_id == organisation_id)
        )
        await conn.execute(
            insert(PC).values(
                person_id=person_id,
                organisation_id=organisation_id,
                allowed=allowed,
                decided_at=now,
            )
        )
        await audit.record(
            conn,
            "phone_consent",
            actor_id=person_id,
            action="phone.shown" if allowed else "phone.hidden",
            subject_type="organisation",
            subject_id=organisation_id,
        )
        return name


async def consents(db: Database, *, person_id: int) -> list[PhoneConsent]:
    """Each organisation the person applied to or answered about, and what they chose."""
    applied = (
        select(M.c.organisation_id)
        .join(S, S.c.mission_id == M.c.id)
        .join(A, A.c.slot_id == S.c.id)
        .where(A.c.person_id == person_id)
    )
    decided = select(PC.c.organisation_id).where(PC.c.person_id == person_id)
    query = (
        select(ORG.c.id, ORG.c.name, PC.c.allowed)
        .outerjoin(PC, (PC.c.organisation_id == ORG.c.id) & (PC.c.person_id == person_id))
        .where(ORG.c.id.in_(applied) | ORG.c.id.in_(decided))
        .order_by(ORG.c.name, ORG.c.id)
    )
    async with db.reading("phone_consents") as conn:
        rows = (await conn.execute(query)).all()
    return [PhoneConsent(r.id, r.name, r.allowed) for r in rows]
