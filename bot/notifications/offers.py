"""A place freed close to the start: offered to the waitlist, expired, told to organisers."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import ClassVar

from bot.notifications.facts import ApplicationFacts


@dataclass(frozen=True, kw_only=True)
class OfferMade(ApplicationFacts):
    """To a waitlisted volunteer: the place is theirs if they accept in time."""

    kind: ClassVar[str] = "offer_made"
    offer_expires_at: datetime


@dataclass(frozen=True, kw_only=True)
class OfferExpired(ApplicationFacts):
    """To the volunteer: the offer ran out; they stay on the waitlist."""

    kind: ClassVar[str] = "offer_expired"
    offer_expires_at: datetime | None = None


@dataclass(frozen=True, kw_only=True)
class PlaceFreedSoon(ApplicationFacts):
    """To the organisation: a place freed shortly before the start, and what follows."""

    kind: ClassVar[str] = "place_freed_soon"
    volunteer_name: str | None = None
    freed_by: str | None = None
    offered: int = 0
    too_late: bool = False
