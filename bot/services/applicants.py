"""An applicant as their organisation hears of them: the facts a coordinator decides on
(never a phone number) and the telling itself. Applying and accepting a freed place both
announce a pending application here."""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.domain import GeoPoint
from bot.geo import haversine_km
from bot.messaging.outbox import enqueue
from bot.notifications import Notification
from bot.notifications.applications import ApplicationSubmitted
from bot.services.organisations import admin_chat_ids, coordinator_ids
from bot.services.people import Person
from storage import schema

if TYPE_CHECKING:
    from bot.services.application_store import ApplicationView

A, M = schema.applications, schema.missions


async def tell_organisation(
    conn: AsyncConnection, organisation_id: int, notification: Notification
) -> None:
    """To the admin chats, or to each coordinator privately while none is linked."""
    chats = await admin_chat_ids(conn, organisation_id)
    if chats:
        for chat_id in chats:
            await enqueue(conn, notification, chat_id=chat_id)
    else:
        for person_id in await coordinator_ids(conn, organisation_id):
            await enqueue(conn, notification, person_id=person_id)


async def announce_pending(conn: AsyncConnection, view: ApplicationView, person: Person) -> None:
    """The organisation learns of an application waiting for its answer."""
    row = (
        await conn.execute(select(M.c.latitude, M.c.longitude).where(M.c.id == view.mission_id))
    ).one()
    distance = None
    if person.home is not None and row.latitude is not None:
        distance = round(haversine_km(person.home, GeoPoint(row.latitude, row.longitude)), 1)
    confirmed = await conn.scalar(select(A.c.conditions).where(A.c.id == view.id))
    submitted = ApplicationSubmitted.about(
        view,
        volunteer_name=person.first_name,
        volunteer_via_sms=person.telegram_user_id is None and person.has_phone,
        distance_km=distance,
        attended=person.attended_count,
        no_shows=person.no_show_count,
        conditions=tuple(confirmed or ()),
    )
    await tell_organisation(conn, view.organisation_id, submitted)
