"""A person's own missions and cancelling one, whatever the channel: the list of their
current applications, the one a number picks in it, whether it can still be cancelled, and
the cancellation itself.

Cancelling asks first, since the place goes to someone else at once; the application is
checked before asking (`ask_cancel`), so that a stale Cancel button or `CANCEL 2` on a place
already let go is refused at once rather than after the person confirmed. The cancellation
checks again in its own transaction."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from bot.services import applications
from bot.services.applications import ApplicationView
from bot.services.errors import NotFound
from storage.database import Database, Inbound

__all__ = [
    "CancelAsked",
    "NoSuchNumber",
    "Picked",
    "ask_cancel",
    "cancel",
    "mine",
    "pick",
    "still_listed",
]


@dataclass(frozen=True)
class Picked:
    """The application numbered n, and the list the numbers refer to (by id, as shown)."""

    application_id: int
    listed: tuple[int, ...]


@dataclass(frozen=True)
class NoSuchNumber:
    """The number is not in the list the person's numbers refer to."""

    listed: tuple[int, ...]


@dataclass(frozen=True)
class CancelAsked:
    """The person's application, still theirs to cancel: ask them to confirm."""

    application: ApplicationView


async def mine(db: Database, person_id: int, now: datetime) -> list[ApplicationView]:
    """The person's current applications, soonest first: numbered from 1 as listed."""
    return await applications.applications_of(db, person_id, now=now)


async def still_listed(
    db: Database, *, person_id: int, listed: Sequence[int], now: datetime
) -> list[ApplicationView]:
    """Those of the applications listed earlier that are still current, in the listed
    order, so that a later page keeps the numbers the first one gave."""
    by_id = {view.id: view for view in await mine(db, person_id, now)}
    return [by_id[i] for i in listed if i in by_id]


async def pick(
    db: Database, *, person_id: int, number: int, shown: Sequence[int], now: datetime
) -> Picked | NoSuchNumber:
    """The application numbered `number` in the list the person last saw (`shown`, by id),
    or when they saw none in the list as it would show now."""
    listed = tuple(shown) or tuple(view.id for view in await mine(db, person_id, now))
    if not 1 <= number <= len(listed):
        return NoSuchNumber(listed)
    return Picked(listed[number - 1], listed)


async def ask_cancel(
    db: Database, *, person_id: int, application_id: int, now: datetime
) -> CancelAsked:
    """The application to confirm cancelling; NotFound when it is not the person's, and
    the Conflict the cancellation would raise when it is no longer active or its slot over."""
    view = await applications.get_application(db, application_id)
    if view.person_id != person_id:
        raise NotFound("application_not_found")
    applications.refuse_withdrawal(view.status, view.ends_at, now)
    return CancelAsked(view)


async def cancel(
    db: Database, *, person_id: int, application_id: int, now: datetime, inbound: Inbound | None
) -> ApplicationView:
    """Cancelled, recorded with the turn's inbound id and next state: the organisation is
    told if the person held a place, and the place is offered to the waiting list."""
    return await applications.cancel(
        db, person_id=person_id, application_id=application_id, now=now, inbound=inbound
    )
