"""What an organisation takes away: the applications of a mission as spreadsheet rows
(phone numbers only of volunteers who allowed this organisation to see them), an iCal feed
of its slots behind a secret token, and a volunteer's own commitments as a calendar file."""

from __future__ import annotations

import csv
import io
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Row, select, update
from sqlalchemy.orm import aliased

from bot import ical
from bot.domain import ApplicationStatus, MissionStatus
from bot.services import audit
from bot.services.coordinators import coordinated_mission
from bot.services.organisations import require_member
from storage import schema
from storage.database import Database, Inbound

A, S, M, P, ORGS, PC = (
    schema.applications,
    schema.slots,
    schema.missions,
    schema.people,
    schema.organisations,
    schema.phone_consents,
)
COMMITTED = (ApplicationStatus.APPROVED, ApplicationStatus.CONFIRMED)
FEED_PAST_DAYS = 30  # the feed keeps a month of past slots, for the record
LOCAL_FORMAT = "%Y-%m-%d %H:%M"


@dataclass(frozen=True)
class MissionChoice:
    id: int
    title: str
    status: MissionStatus


@dataclass(frozen=True)
class ExportLine:
    first_name: str
    phone: str | None  # only when the volunteer allowed this organisation
    starts_at: datetime  # local to the mission
    ends_at: datetime
    status: ApplicationStatus
    decided_by: str | None
    decided_at: datetime | None
    attended: bool | None  # None: not marked
    conditions: tuple[str, ...] = ()  # the mission's conditions the volunteer confirmed


@dataclass(frozen=True)
class ApplicationsExport:
    mission_id: int
    mission_title: str
    lines: tuple[ExportLine, ...]


async def organisation_missions(
    db: Database, organisation_id: int, *, limit: int = 12
) -> list[MissionChoice]:
    """The organisation's missions worth exporting or printing, newest first."""
    query = (
        select(M.c.id, M.c.title, M.c.status)
        .where(
            M.c.organisation_id == organisation_id,
            M.c.status.in_([MissionStatus.PUBLISHED, MissionStatus.CLOSED]),
        )
        .order_by(M.c.id.desc())
        .limit(limit)
    )
    async with db.reading("organisation_missions") as conn:
        rows = (await conn.execute(query)).all()
    return [MissionChoice(r.id, r.title, MissionStatus(r.status)) for r in rows]


async def export_applications(
    db: Database, *, actor_id: int, mission_id: int, inbound: Inbound | None = None
) -> ApplicationsExport:
    """Every application of a mission, for a member of its organisation; audited."""
    decider = aliased(P)
    async with db.transaction("export_applications", inbound) as conn:
        mission = await coordinated_mission(
            conn, actor_id, mission_id, M.c.title, M.c.organisation_id, M.c.timezone
        )
        rows = (
            await conn.execute(
                select(
                    P.c.first_name,
                    P.c.phone,
                    P.c.phone_shared,
                    P.c.erased_at,
                    S.c.starts_at,
                    S.c.ends_at,
                    A.c.status,
                    A.c.conditions,
                    A.c.decided_at,
                    decider.c.first_name.label("decider"),
                    PC.c.allowed,
                )
                .select_from(
                    A.join(S, S.c.id == A.c.slot_id)
                    .join(P, P.c.id == A.c.person_id)
                    .outerjoin(decider, decider.c.id == A.c.decided_by)
                    .outerjoin(
                        PC,
                        (PC.c.person_id == P.c.id)
                        & (PC.c.organisation_id == mission.organisation_id),
                    )
                )
                .where(S.c.mission_id == mission_id)
                .order_by(S.c.starts_at, P.c.first_name, A.c.id)
            )
        ).all()
        await audit.record(
            conn,
            "export_applications",
            actor_id=actor_id,
            action="mission.exported",
            subject_type="mission",
            subject_id=mission_id,
            rows=len(rows),
        )
    zone = ZoneInfo(mission.timezone)
    lines = tuple(
        ExportLine(
            first_name=r.first_name,
            phone=r.phone if r.phone_shared and r.allowed and r.erased_at is None else None,
            starts_at=r.starts_at.astimezone(zone),
            ends_at=r.ends_at.astimezone(zone),
            status=ApplicationStatus(r.status),
            decided_by=r.decider,
            decided_at=None if r.decided_at is None else r.decided_at.astimezone(zone),
            attended={"attended": True, "no_show": False}.get(r.status),
            conditions=tuple(r.conditions or ()),
        )
        for r in rows
    )
    return ApplicationsExport(mission_id, mission.title, lines)


def to_csv(export: ApplicationsExport, headers: Sequence[str], yes: str, no: str) -> bytes:
    """The export as UTF-8 CSV with a byte-order mark (spreadsheets then read accents)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(headers)
    for line in export.lines:
        writer.writerow(
            [
                line.first_name,
                line.phone or "",
                line.starts_at.strftime(LOCAL_FORMAT),
                line.ends_at.strftime(LOCAL_FORMAT),
                str(line.status),
                line.decided_by or "",
                "" if line.decided_at is None else line.decided_at.strftime(LOCAL_FORMAT),
                "" if line.attended is None else (yes if line.attended else no),
                " / ".join(line.conditions),
            ]
        )
    return buffer.getvalue().encode("utf-8-sig")


async def ensure_ics_token(db: Database, *, actor_id: int, organisation_id: int) -> str:
    """The secret of the organisation's iCal feed, created on first use."""
    async with db.transaction("ensure_ics_token") as conn:
        await require_member(conn, actor_id, organisation_id)
        token = await conn.scalar(select(ORGS.c.ics_token).where(ORGS.c.id == organisation_id))
        if token:
            return str(token)
        token = secrets.token_urlsafe(24)
        await conn.execute(update(ORGS).where(ORGS.c.id == organisation_id).values(ics_token=token))
        await audit.record(
            conn,
            "ensure_ics_token",
            actor_id=actor_id,
            action="organisation.ics_token",
            subject_type="organisation",
            subject_id=organisation_id,
        )
        return token


def _event(uid: str, row: Row[Any]) -> ical.Event:
    return ical.Event(uid, row.starts_at, row.ends_at, row.title, row.address or "")


async def organisation_feed(db: Database, token: str, *, now: datetime) -> bytes | None:
    """The organisation's slots as iCalendar, or None for an unknown token."""
    if not token:
        return None
    async with db.reading("organisation_feed") as conn:
        organisation = (
            await conn.execute(select(ORGS.c.id, ORGS.c.name).where(ORGS.c.ics_token == token))
        ).first()
        if organisation is None:
            return None
        rows = (
            await conn.execute(
                select(S.c.id, S.c.starts_at, S.c.ends_at, M.c.title, M.c.address)
                .join(M, M.c.id == S.c.mission_id)
                .where(
                    M.c.organisation_id == organisation.id,
                    M.c.status.in_([MissionStatus.PUBLISHED, MissionStatus.CLOSED]),
                    S.c.cancelled_at.is_(None),
                    S.c.ends_at > now - timedelta(days=FEED_PAST_DAYS),
                )
                .order_by(S.c.starts_at, S.c.id)
            )
        ).all()
    events = [_event(f"slot-{r.id}@renfort", r) for r in rows]
    return ical.calendar(organisation.name, events, stamp=now)


async def volunteer_calendar(db: Database, *, person_id: int, now: datetime, name: str) -> bytes:
    """The person's approved and confirmed commitments still to come, as iCalendar."""
    query = (
        select(A.c.id, S.c.starts_at, S.c.ends_at, M.c.title, M.c.address)
        .join(S, S.c.id == A.c.slot_id)
        .join(M, M.c.id == S.c.mission_id)
        .where(
            A.c.person_id == person_id,
            A.c.status.in_([str(s) for s in COMMITTED]),
            S.c.ends_at > now,
        )
        .order_by(S.c.starts_at, A.c.id)
    )
    async with db.reading("volunteer_calendar") as conn:
        rows = (await conn.execute(query)).all()
    events = [_event(f"application-{r.id}@renfort", r) for r in rows]
    return ical.calendar(name, events, stamp=now)
