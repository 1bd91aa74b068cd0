"""Territory alerts: a referent alerts the registered volunteers of their territory to an
exceptional event (a place and radius or the whole territory, domains, urgent or not);
each answers available or not. The organisations of the territory hear of every volunteer
available, except those the volunteer blocked, and may offer them a slot (alert_offers).

Targeting is the callouts' (callout_targeting): same caps, shared with callouts, and the
same quiet hours, which hold a non-urgent alert until morning."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.domain import DOMAINS, GeoPoint
from bot.messaging.outbox import Priority, enqueue, enqueue_many
from bot.notifications.alerts import AlertVolunteerAvailable, TerritoryAlert
from bot.services import audit, moderation, organisers
from bot.services.callout_targeting import (
    CAP_WINDOW,
    CHANNELS,
    Candidate,
    Target,
    candidates,
    quiet_until,
)
from bot.services.errors import InvalidInput, NotAllowed, NotFound
from bot.services.review import covers
from storage import schema
from storage.database import Database, Inbound

AL, AR, AO = schema.territory_alerts, schema.alert_recipients, schema.alert_offers
P, ORG, BLOCKS = schema.people, schema.organisations, schema.relay_blocks

TEXT_LENGTH = (3, 200)  # two SMS parts at most with the words around it


@dataclass(frozen=True)
class AlertSpec:
    text: str
    point: GeoPoint | None  # None: the whole territory
    place_name: str | None = None
    postcode: str | None = None  # of the place, to choose among the referent's territories
    radius_km: int | None = None
    domains: tuple[str, ...] = ()
    urgent: bool = False


@dataclass(frozen=True)
class Available:
    """A volunteer who answered available: first name and distance, never a phone number."""

    recipient_id: int
    first_name: str
    distance_km: float | None
    town: str | None


@dataclass(frozen=True)
class AlertView:
    id: int
    territory: str
    text: str
    place_name: str | None
    radius_km: int | None
    urgent: bool
    asked: int
    available: int
    unavailable: int
    offers: int
    accepted: int
    people: tuple[Available, ...]  # those available, nearest first


@dataclass(frozen=True)
class AlertAnswer:
    outcome: str  # available / unavailable / already
    alert_id: int
    text: str


def _clean(spec: AlertSpec) -> AlertSpec:
    text = " ".join(spec.text.split())
    if not TEXT_LENGTH[0] <= len(text) <= TEXT_LENGTH[1]:
        raise InvalidInput("alert_text")
    if any(d not in DOMAINS for d in spec.domains):
        raise InvalidInput("domain")
    if spec.point is not None and (spec.radius_km is None or spec.radius_km < 1):
        raise InvalidInput("radius")
    return AlertSpec(
        text,
        spec.point,
        spec.place_name,
        spec.postcode,
        spec.radius_km if spec.point else None,
        tuple(spec.domains),
        spec.urgent,
    )


async def _territory(conn: AsyncConnection, referent_id: int, postcode: str | None) -> str:
    """The referent's territory the alert covers: the one holding the place, else the first."""
    territories = sorted(await moderation.territories_of(conn, referent_id))
    if not territories:
        raise NotAllowed("not_referent")
    if postcode is None:
        return territories[0]
    for territory in territories:
        if covers(territory, postcode):
            return territory
    raise NotAllowed("outside_territory")


def _target(territory: str, spec: AlertSpec) -> Target:
    return Target(
        slot_id=None,
        starts_at=None,
        ends_at=None,
        point=spec.point,
        radius_km=spec.radius_km,
        domains=spec.domains,
        channels=CHANNELS,
        territory=territory,
    )


async def _reached(
    conn: AsyncConnection, territory: str, spec: AlertSpec, referent_id: int, now: datetime
) -> list[Candidate]:
    """Who the alert reaches; not the referent sending it."""
    found = await candidates(conn, _target(territory, spec), now)
    return [c for c in found if c.person_id != referent_id]


async def preview(db: Database, *, referent_id: int, spec: AlertSpec, now: datetime) -> int:
    """How many people the alert would reach now."""
    spec = _clean(spec)
    async with db.reading("preview_territory_alert") as conn:
        territory = await _territory(conn, referent_id, spec.postcode)
        return len(await _reached(conn, territory, spec, referent_id, now))


async def launch(
    db: Database,
    *,
    referent_id: int,
    spec: AlertSpec,
    now: datetime,
    zone: ZoneInfo,
    inbound: Inbound | None = None,
) -> AlertView:
    """Send the alert to everyone it targets (held until morning in quiet hours, unless
    urgent); the referent's view of it."""
    spec = _clean(spec)
    async with db.transaction("launch_territory_alert", inbound) as conn:
        territory = await _territory(conn, referent_id, spec.postcode)
        reached = await _reached(conn, territory, spec, referent_id, now)
        alert_id = int(
            (
                await conn.execute(
                    insert(AL)
                    .values(
                        territory=territory,
                        created_by=referent_id,
                        text=spec.text,
                        place_name=spec.place_name,
                        latitude=spec.point.latitude if spec.point else None,
                        longitude=spec.point.longitude if spec.point else None,
                        radius_km=spec.radius_km,
                        domains=list(spec.domains),
                        urgent=spec.urgent,
                        created_at=now,
                    )
                    .returning(AL.c.id)
                )
            ).scalar_one()
        )
        alert = TerritoryAlert(
            alert_id=alert_id, text=spec.text, urgent=spec.urgent, place_name=spec.place_name
        )
        held = None if spec.urgent else quiet_until(now, zone)
        sent = await enqueue_many(
            conn,
            {c.person_id: alert for c in reached},
            priority=Priority.NORMAL if spec.urgent else Priority.BULK,
            not_before=held,
        )
        if reached:
            await conn.execute(
                insert(AR),
                [
                    {
                        "alert_id": alert_id,
                        "person_id": c.person_id,
                        "distance_km": c.distance_km,
                        "outbox_id": sent[c.person_id],
                        "created_at": now,
                    }
                    for c in reached
                ],
            )
        await audit.record(
            conn,
            "launch_territory_alert",
            actor_id=referent_id,
            action="territory_alert.launched",
            subject_type="territory_alert",
            subject_id=alert_id,
            reached=len(reached),
            territory=territory,
            urgent=spec.urgent,
        )
        return await _view(conn, alert_id)


async def answer(
    db: Database,
    *,
    person_id: int,
    alert_id: int,
    available: bool,
    now: datetime,
    inbound: Inbound | None = None,
) -> AlertAnswer:
    """The volunteer's answer; a first "available" is passed on to the organisations of the
    territory the volunteer did not block."""
    async with db.transaction("answer_territory_alert", inbound) as conn:
        row = (
            await conn.execute(
                db.lock_for_update(
                    select(AR.c.id, AR.c.answer, AR.c.distance_km, AL.c.text, AL.c.territory)
                    .join(AL, AL.c.id == AR.c.alert_id)
                    .where(AR.c.alert_id == alert_id, AR.c.person_id == person_id)
                )
            )
        ).first()
        if row is None:
            raise NotFound("alert_not_found")
        if row.answer is not None:
            return AlertAnswer("already", alert_id, row.text)
        await conn.execute(
            update(AR)
            .where(AR.c.id == row.id)
            .values(answer="yes" if available else "no", answered_at=now)
        )
        outcome = "available" if available else "unavailable"
        await audit.record(
            conn,
            "answer_territory_alert",
            actor_id=person_id,
            action=f"territory_alert.{outcome}",
            subject_type="territory_alert",
            subject_id=alert_id,
        )
        if available:
            await _tell_organisations(conn, alert_id, row, person_id)
        return AlertAnswer(outcome, alert_id, row.text)


async def _tell_organisations(
    conn: AsyncConnection, alert_id: int, row: Any, person_id: int
) -> None:
    person = (await conn.execute(select(P.c.first_name, P.c.town).where(P.c.id == person_id))).one()
    blocked = set(
        await conn.scalars(select(BLOCKS.c.organisation_id).where(BLOCKS.c.person_id == person_id))
    )
    for organisation_id in await organisations_of(conn, row.territory):
        if organisation_id in blocked:
            continue  # /block: that organisation hears nothing of them
        available = AlertVolunteerAvailable(
            alert_id=alert_id,
            recipient_id=row.id,
            organisation_id=organisation_id,
            first_name=person.first_name,
            town=person.town,
            distance_km=row.distance_km,
            text=row.text,
        )
        for who, ident in await organisers.recipients(conn, organisation_id):
            await enqueue(
                conn,
                available,
                chat_id=ident if who == "chat" else None,
                person_id=ident if who == "person" else None,
            )


async def organisations_of(conn: AsyncConnection, territory: str) -> list[int]:
    """The organisations whose postcode lies in the territory."""
    rows = (await conn.execute(select(ORG.c.id, ORG.c.postcode).order_by(ORG.c.id))).all()
    return [r.id for r in rows if covers(territory, r.postcode)]


async def _view(conn: AsyncConnection, alert_id: int) -> AlertView:
    alert = (await conn.execute(select(AL).where(AL.c.id == alert_id))).first()
    if alert is None:
        raise NotFound("alert_not_found")
    tally = (
        await conn.execute(
            select(
                func.count().label("asked"),
                func.count().filter(AR.c.answer == "yes").label("yes"),
                func.count().filter(AR.c.answer == "no").label("no"),
            ).where(AR.c.alert_id == alert_id)
        )
    ).one()
    offers = (
        await conn.execute(
            select(
                func.count().label("made"),
                func.count().filter(AO.c.status == "accepted").label("accepted"),
            )
            .join(AR, AR.c.id == AO.c.recipient_id)
            .where(AR.c.alert_id == alert_id)
        )
    ).one()
    return AlertView(
        id=alert.id,
        territory=alert.territory,
        text=alert.text,
        place_name=alert.place_name,
        radius_km=alert.radius_km,
        urgent=alert.urgent,
        asked=int(tally.asked),
        available=int(tally.yes),
        unavailable=int(tally.no),
        offers=int(offers.made),
        accepted=int(offers.accepted),
        people=tuple(await _available(conn, alert_id, set())),
    )


async def _available(conn: AsyncConnection, alert_id: int, blocked_by: set[int]) -> list[Available]:
    rows = (
        await conn.execute(
            select(AR.c.id, AR.c.person_id, AR.c.distance_km, P.c.first_name, P.c.town)
            .join(P, P.c.id == AR.c.person_id)
            .where(AR.c.alert_id == alert_id, AR.c.answer == "yes")
        )
    ).all()
    found = [
        Available(r.id, r.first_name, r.distance_km, r.town)
        for r in rows
        if r.person_id not in blocked_by
    ]
    return sorted(found, key=lambda a: (a.distance_km is None, a.distance_km or 0.0, a.first_name))


async def alert_view(db: Database, *, alert_id: int, referent_id: int) -> AlertView:
    """The live count for a referent of the alert's territory."""
    async with db.reading("territory_alert_view") as conn:
        territory = await conn.scalar(select(AL.c.territory).where(AL.c.id == alert_id))
        if territory is None:
            raise NotFound("alert_not_found")
        if territory not in await moderation.territories_of(conn, referent_id):
            raise NotAllowed("not_referent")
        return await _view(conn, alert_id)


async def open_alert_question(db: Database, person_id: int, now: datetime) -> int | None:
    """The latest alert of the week the person has not answered (a bare YES/NO by SMS)."""
    async with db.reading("open_alert_question") as conn:
        found = await conn.scalar(
            select(AR.c.alert_id)
            .where(
                AR.c.person_id == person_id,
                AR.c.answer.is_(None),
                AR.c.created_at > now - CAP_WINDOW,
            )
            .order_by(AR.c.created_at.desc(), AR.c.id.desc())
            .limit(1)
        )
    return None if found is None else int(found)
