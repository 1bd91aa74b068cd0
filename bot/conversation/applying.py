"""Applying for a slot, whatever the channel: is the slot still open, what the person must
confirm next (a mission's conditions, one at a time, in the order the mission lists them),
and the application itself.

Telegram shows a confirm screen once the conditions are confirmed, so it checks the slot
and the person's applications first (`next_step`); a phone applies as soon as the last
condition is confirmed, to save an SMS, and leaves those checks to the application's own
transaction (`next_condition`)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from bot.domain import MissionStatus
from bot.services import applications, conditions, missions
from bot.services.applications import ApplicationView
from bot.services.errors import Conflict, NotFound
from bot.services.missions import MissionDetail, SlotView
from storage.database import Database, Inbound

__all__ = [
    "AskCondition",
    "Ready",
    "Register",
    "Screen",
    "apply",
    "next_condition",
    "next_step",
    "open_slot",
]


@dataclass(frozen=True)
class AskCondition:
    """A condition of the mission to confirm: the `number`th of `total`, after `confirmed`."""

    condition: str
    number: int
    total: int
    confirmed: tuple[str, ...]


@dataclass(frozen=True)
class Ready:
    """Every condition confirmed: the person may apply for the slot."""

    confirmed: tuple[str, ...]


@dataclass(frozen=True)
class Register:
    """Someone not registered picked an open slot: they register first."""

    detail: MissionDetail
    slot: SlotView


@dataclass(frozen=True)
class Screen:
    """The open slot and what comes next for the person on the way to applying for it."""

    detail: MissionDetail
    slot: SlotView
    step: AskCondition | Ready


async def open_slot(db: Database, slot_id: int, now: datetime) -> tuple[MissionDetail, SlotView]:
    """The slot and its mission, or the refusal a stale button deserves."""
    detail = await missions.mission_of_slot(db, slot_id)
    slot = next((s for s in detail.slots if s.id == slot_id), None)
    if slot is None:
        raise NotFound("slot_not_found")
    if detail.status != MissionStatus.PUBLISHED:
        raise Conflict("mission_closed")
    if slot.starts_at <= now:
        raise Conflict("slot_started")
    return detail, slot


async def next_condition(
    db: Database, *, person_id: int, slot_id: int, confirmed: Sequence[str]
) -> AskCondition | Ready:
    """The first of the mission's conditions the person has neither confirmed on the way
    nor to its organisation before, or Ready when none is left."""
    todo = await conditions.to_confirm_for_slot(db, person_id=person_id, slot_id=slot_id)
    left = [c for c in todo if c not in confirmed]
    if not left:
        return Ready(tuple(confirmed))
    return AskCondition(left[0], len(todo) - len(left) + 1, len(todo), tuple(confirmed))


async def next_step(
    db: Database,
    *,
    person_id: int,
    registered: bool,
    slot_id: int,
    confirmed: Sequence[str],
    now: datetime,
) -> Register | Screen:
    """Where a person who picked a slot stands: refused (the slot is gone, closed or
    started, or they applied already), asked to register, or shown the slot with the next
    condition to confirm or the application ready to send."""
    detail, slot = await open_slot(db, slot_id, now)
    if not registered:
        return Register(detail, slot)
    mine = await applications.applications_of(db, person_id, now=now)
    if any(view.slot_id == slot.id for view in mine):
        raise Conflict("already_applied")
    step = await next_condition(db, person_id=person_id, slot_id=slot.id, confirmed=confirmed)
    return Screen(detail, slot, step)


async def apply(
    db: Database,
    *,
    person_id: int,
    slot_id: int,
    confirmed: Sequence[str],
    now: datetime,
    inbound: Inbound | None,
) -> ApplicationView:
    """The application, pending or waitlisted, recorded with the turn's inbound id and next
    state; the mission's conditions `confirmed` on the way are recorded with it."""
    return await applications.apply(
        db, person_id=person_id, slot_id=slot_id, now=now, inbound=inbound, confirmed=confirmed
    )
