"""The volunteer answers "Still coming?": yes confirms the place, no lets it go exactly as
a cancellation from their missions list does (the waitlist then gets its chance)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select

from bot.domain import ApplicationStatus
from bot.services import applications, audit
from bot.services.applications import ApplicationView, fetch_application, set_status
from bot.services.errors import Conflict, NotFound
from storage import schema
from storage.database import Database, Inbound

A, S = schema.applications, schema.slots


async def answer_attendance(
    db: Database,
    *,
    person_id: int,
    application_id: int,
    coming: bool,
    now: datetime,
    inbound: Inbound | None = None,
) -> ApplicationView:
    """Yes: the application becomes confirmed (a second yes changes nothing); no: it is
    cancelled by the volunteer."""
    if not coming:
        return await applications.cancel(
            db, person_id=person_id, application_id=application_id, now=now, inbound=inbound
        )
    async with db.transaction("confirm_attendance", inbound) as conn:
        row = (
            await conn.execute(
                db.lock_for_update(
                    select(A.c.status, A.c.person_id, S.c.starts_at)
                    .join(S, S.c.id == A.c.slot_id)
                    .where(A.c.id == application_id)
                )
            )
        ).first()
        if row is None or row.person_id != person_id:
            raise NotFound("application_not_found")
        if row.status == ApplicationStatus.CONFIRMED:
            return await fetch_application(conn, application_id)
        if row.status != ApplicationStatus.APPROVED:
            raise Conflict("not_active", status=row.status)
        if row.starts_at <= now:
            raise Conflict("slot_started")
        await set_status(
            conn, application_id, row.status, ApplicationStatus.CONFIRMED, actor_id=person_id
        )
        await audit.record(
            conn,
            "confirm_attendance",
            actor_id=person_id,
            action="application.confirmed",
            subject_type="application",
            subject_id=application_id,
        )
        return await fetch_application(conn, application_id)


async def open_attendance_question(
    db: Database, person_id: int, now: datetime
) -> ApplicationView | None:
    """The application this person was asked "Still coming?" about and has not answered,
    while its slot has not started (the soonest, should there be several)."""
    async with db.reading("open_attendance_question") as conn:
        application_id = await conn.scalar(
            select(A.c.id)
            .join(S, S.c.id == A.c.slot_id)
            .where(
                A.c.person_id == person_id,
                A.c.status == ApplicationStatus.APPROVED,
                A.c.attendance_asked_at.is_not(None),
                S.c.starts_at > now,
            )
            .order_by(S.c.starts_at, A.c.id)
            .limit(1)
        )
        if application_id is None:
            return None
        return await fetch_application(conn, int(application_id))
