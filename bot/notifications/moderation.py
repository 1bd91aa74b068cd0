"""Missions reviewed by the territory's referents before they are published."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import ClassVar

from bot.notifications.catalogue import Notification, Record


@dataclass(frozen=True, kw_only=True)
class ReviewSlot(Record):
    """One slot of a mission in review."""

    starts_at: datetime
    ends_at: datetime
    capacity: int | None = None


@dataclass(frozen=True, kw_only=True)
class DuplicateHint(Record):
    """A mission that looks like the one in review."""

    mission_id: int
    title: str
    organisation: str


@dataclass(frozen=True, kw_only=True)
class MissionReview(Notification):
    """To a referent: a mission to publish, send back or refuse."""

    kind: ClassVar[str] = "mission_review"
    mission_id: int
    mission_title: str
    description: str | None = None
    organisation_name: str
    organisation_verified: bool = False
    address: str | None = None
    postcode: str | None = None
    remote: bool = False
    timezone: str
    starts_at: datetime | None = None
    ends_at: datetime | None = None
    slots: tuple[ReviewSlot, ...] = ()
    duplicates: tuple[DuplicateHint, ...] = ()
    waiting_days: int | None = None


@dataclass(frozen=True, kw_only=True)
class ReviewDecision(Notification):
    """To the mission's coordinators: what the referent decided, with their note."""

    mission_id: int
    mission_title: str
    organisation_name: str
    note: str = ""


@dataclass(frozen=True, kw_only=True)
class MissionApproved(ReviewDecision):
    kind: ClassVar[str] = "mission_approved"


@dataclass(frozen=True, kw_only=True)
class MissionChangesRequested(ReviewDecision):
    kind: ClassVar[str] = "mission_changes_requested"


@dataclass(frozen=True, kw_only=True)
class MissionRefused(ReviewDecision):
    kind: ClassVar[str] = "mission_refused"
