"""The referents of a territory: who they are, their decisions on missions in review
(publish, ask for changes, refuse), the coordinators resubmitting, and the verification of
organisations. Each decision, its audit row and its notifications commit together."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import Row, bindparam, insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.domain import MissionStatus
from bot.messaging import outbox
from bot.notifications.moderation import (
    MissionApproved,
    MissionChangesRequested,
    MissionRefused,
    ReviewDecision,
)
from bot.services import audit, mission_store, review
from bot.services.errors import Conflict, InvalidInput, NotAllowed, NotFound
from bot.services.organisations import (
    Organisation,
    coordinator_ids,
    fetch_organisation,
    require_member,
)
from storage import schema
from storage.database import Database, Inbound

NOTE_LENGTH = 1000


@dataclass(frozen=True)
class Referent:
    person_id: int
    first_name: str
    telegram_user_id: int | None
    territory: str


@dataclass(frozen=True)
class Reviewed:
    """A mission after a decision."""

    mission_id: int
    title: str
    organisation_name: str
    status: MissionStatus


async def add_referent(
    db: Database,
    *,
    territory: str,
    telegram_user_id: int | None = None,
    person_id: int | None = None,
) -> Referent:
    """Make someone who started the bot a referent of a territory (an operator's act)."""
    clean = review.normalise_territory(territory)
    if clean is None:
        raise InvalidInput("territory", territory=territory)
    if (telegram_user_id is None) == (person_id is None):
        raise InvalidInput("referent_person")
    p, r = schema.people, schema.referents
    try:
        async with db.transaction("add_referent") as conn:
            where = (
                p.c.telegram_user_id == telegram_user_id
                if telegram_user_id is not None
                else p.c.id == person_id
            )
            person = (await conn.execute(select(p).where(where))).first()
            if person is None or person.erased_at is not None:
                raise NotFound("person_not_found")
            if await conn.scalar(
                select(r.c.id).where(r.c.person_id == person.id, r.c.territory == clean)
            ):
                raise Conflict("referent_exists", territory=clean)
            await conn.execute(
                insert(r).values(person_id=person.id, territory=clean, created_at=schema.now())
            )
            await audit.record(
                conn,
                "add_referent",
                actor_id=None,
                action="referent.added",
                subject_type="person",
                subject_id=person.id,
                territory=clean,
            )
            return Referent(person.id, person.first_name, person.telegram_user_id, clean)
    except IntegrityError:
        raise Conflict("referent_exists", territory=clean) from None


async def list_referents(db: Database) -> list[Referent]:
    p, r = schema.people, schema.referents
    async with db.reading("list_referents") as conn:
        rows = (
            await conn.execute(
                select(r.c.person_id, r.c.territory, p.c.first_name, p.c.telegram_user_id)
                .join(p, p.c.id == r.c.person_id)
                .order_by(r.c.territory, p.c.first_name)
            )
        ).all()
    return [Referent(x.person_id, x.first_name, x.telegram_user_id, x.territory) for x in rows]


_TERRITORIES = select(schema.referents.c.territory).where(
    schema.referents.c.person_id == bindparam("person_id")
)  # read at the start of every turn: built once


async def territories_of(conn: AsyncConnection, person_id: int) -> list[str]:
    return sorted(await conn.scalars(_TERRITORIES, {"person_id": person_id}))


async def _require_covering(conn: AsyncConnection, person_id: int, postcode: str | None) -> None:
    if not any(review.covers(t, postcode) for t in await territories_of(conn, person_id)):
        raise NotAllowed("not_referent")


async def _mission_in(
    conn: AsyncConnection, db: Database, mission_id: int, status: MissionStatus
) -> Row[Any]:
    m, o = schema.missions, schema.organisations
    locked = await conn.execute(db.lock_for_update(select(m.c.id).where(m.c.id == mission_id)))
    if locked.first() is None:
        raise NotFound("mission_not_found")
    row = (
        await conn.execute(
            select(m, o.c.name.label("organisation_name"), o.c.postcode.label("org_postcode"))
            .join(o, o.c.id == m.c.organisation_id)
            .where(m.c.id == mission_id)
        )
    ).one()
    if row.status != status:
        raise Conflict(
            "mission_not_in_review" if status == MissionStatus.IN_REVIEW else "not_draft"
        )
    return row


async def _tell_coordinators(
    conn: AsyncConnection, kind: type[ReviewDecision], mission: Row[Any], note: str
) -> None:
    decision = kind(
        mission_id=mission.id,
        mission_title=mission.title,
        organisation_name=mission.organisation_name,
        note=note,
    )
    for person_id in await coordinator_ids(conn, mission.organisation_id):
        await outbox.enqueue(conn, decision, person_id=person_id)


async def _decide(
    db: Database,
    name: str,
    *,
    mission_id: int,
    referent_id: int,
    status: MissionStatus,
    kind: type[ReviewDecision],
    note: str | None,
    inbound: Inbound | None,
) -> Reviewed:
    async with db.transaction(name, inbound) as conn:
        mission = await _mission_in(conn, db, mission_id, MissionStatus.IN_REVIEW)
        await _require_covering(conn, referent_id, mission.postcode or mission.org_postcode)
        now = schema.now()
        values: dict[str, Any] = {
            "status": status,
            "reviewed_by": referent_id,
            "reviewed_at": now,
            "review_note": note,
        }
        if status == MissionStatus.PUBLISHED:
            values["published_at"] = now
        if status == MissionStatus.CANCELLED:
            values["closed_at"] = now
        await mission_store.change(conn, mission_id, values)
        await audit.record(
            conn,
            name,
            actor_id=referent_id,
            action=f"mission.{name}",
            subject_type="mission",
            subject_id=mission_id,
            to_status=str(status),
            note=note,
        )
        await _tell_coordinators(conn, kind, mission, note or "")
        return Reviewed(mission_id, mission.title, mission.organisation_name, status)


async def publish(
    db: Database, *, mission_id: int, referent_id: int, inbound: Inbound | None = None
) -> Reviewed:
    """The referent publishes a mission in review; its coordinators are told."""
    return await _decide(
        db,
        "review_publish",
        mission_id=mission_id,
        referent_id=referent_id,
        status=MissionStatus.PUBLISHED,
        kind=MissionApproved,
        note=None,
        inbound=inbound,
    )


async def ask_changes(
    db: Database,
    *,
    mission_id: int,
    referent_id: int,
    note: str,
    inbound: Inbound | None = None,
) -> Reviewed:
    """Back to draft with the referent's note, which the coordinators receive."""
    clean = note.strip()[:NOTE_LENGTH]
    if not clean:
        raise InvalidInput("review_note")
    return await _decide(
        db,
        "review_changes",
        mission_id=mission_id,
        referent_id=referent_id,
        status=MissionStatus.DRAFT,
        kind=MissionChangesRequested,
        note=clean,
        inbound=inbound,
    )


async def refuse(
    db: Database, *, mission_id: int, referent_id: int, inbound: Inbound | None = None
) -> Reviewed:
    """The mission is cancelled; its coordinators are told."""
    return await _decide(
        db,
        "review_refuse",
        mission_id=mission_id,
        referent_id=referent_id,
        status=MissionStatus.CANCELLED,
        kind=MissionRefused,
        note=None,
        inbound=inbound,
    )


async def resubmit(
    db: Database, *, mission_id: int, actor_id: int, inbound: Inbound | None = None
) -> Reviewed:
    """A coordinator sends a mission sent back to draft for review again."""
    async with db.transaction("review_resubmit", inbound) as conn:
        mission = await _mission_in(conn, db, mission_id, MissionStatus.DRAFT)
        await require_member(conn, actor_id, mission.organisation_id)
        referents = await review.submit(
            conn, mission_id, actor_id=actor_id, transaction="review_resubmit"
        )
        status = MissionStatus.IN_REVIEW
        if not referents:  # the referent left meanwhile: nobody to wait for
            status = MissionStatus.PUBLISHED
            await mission_store.change(
                conn, mission_id, {"status": status, "published_at": schema.now()}
            )
        return Reviewed(mission_id, mission.title, mission.organisation_name, status)


async def drafts_sent_back(db: Database, person_id: int) -> list[tuple[int, str]]:
    """Missions of the person's organisations sent back to draft by a referent."""
    m, mem = schema.missions, schema.members
    async with db.reading("drafts_sent_back") as conn:
        rows = (
            await conn.execute(
                select(m.c.id, m.c.title)
                .join(mem, mem.c.organisation_id == m.c.organisation_id)
                .where(
                    mem.c.person_id == person_id,
                    m.c.status == MissionStatus.DRAFT,
                    m.c.review_note.is_not(None),
                )
                .order_by(m.c.id)
            )
        ).all()
    return [(int(r.id), str(r.title)) for r in rows]


async def unverified_organisations(db: Database, referent_id: int) -> list[Organisation]:
    """Organisations of the referent's territories still to verify."""
    o = schema.organisations
    async with db.reading("unverified_organisations") as conn:
        territories = await territories_of(conn, referent_id)
        if not territories:
            raise NotAllowed("not_referent")
        rows = (
            await conn.execute(
                select(o.c.id, o.c.postcode).where(o.c.verified.is_(False)).order_by(o.c.name)
            )
        ).all()
        return [
            await fetch_organisation(conn, r.id)
            for r in rows
            if any(review.covers(t, r.postcode) for t in territories)
        ]


async def verify_organisation(
    db: Database,
    *,
    organisation_id: int,
    actor_id: int | None,
    inbound: Inbound | None = None,
) -> Organisation:
    """Mark an organisation verified: by a referent of its territory, or the operator
    (no actor)."""
    o = schema.organisations
    async with db.transaction("verify_organisation", inbound) as conn:
        organisation = await fetch_organisation(conn, organisation_id)
        if actor_id is not None:
            await _require_covering(conn, actor_id, organisation.postcode)
        if not organisation.verified:
            await conn.execute(o.update().where(o.c.id == organisation_id).values(verified=True))
            await audit.record(
                conn,
                "verify_organisation",
                actor_id=actor_id,
                action="organisation.verified",
                subject_type="organisation",
                subject_id=organisation_id,
            )
        return await fetch_organisation(conn, organisation_id)
