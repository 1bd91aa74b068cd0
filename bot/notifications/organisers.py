"""To organisers: an application waiting, one late, the weekly digest, the slot's roster
and, to volunteers, how the slot went."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import ClassVar

from bot.notifications.catalogue import Notification, Record
from bot.notifications.facts import ApplicationFacts


@dataclass(frozen=True, kw_only=True)
class ApplicationNudge(ApplicationFacts):
    """To the organisation: an application waiting for `days_waiting` days."""

    kind: ClassVar[str] = "application_nudge"
    volunteer_name: str = ""
    days_waiting: int = 0


@dataclass(frozen=True, kw_only=True)
class ApplicationLate(ApplicationFacts):
    """To the volunteer: no answer within `days` days; they may look elsewhere."""

    kind: ClassVar[str] = "application_late"
    days: int | None = None


@dataclass(frozen=True, kw_only=True)
class DigestPending(Record):
    """An application waiting the longest, in the digest."""

    name: str
    mission_title: str
    days: int


@dataclass(frozen=True, kw_only=True)
class DigestSlot(Record):
    """A slot of the coming week with places left, in the digest."""

    mission_title: str
    timezone: str
    starts_at: datetime
    ends_at: datetime
    places_left: int


@dataclass(frozen=True, kw_only=True)
class WeeklyDigest(Notification):
    """To the organisation on Monday: what waits, what is underfilled, who did not come."""

    kind: ClassVar[str] = "weekly_digest"
    organisation_name: str
    week: str = ""  # the ISO week, part of the digest's once-only key
    pending_count: int = 0
    late_count: int = 0
    oldest: tuple[DigestPending, ...] = ()
    underfilled_count: int = 0
    places_left: int = 0
    underfilled: tuple[DigestSlot, ...] = ()
    no_shows: tuple[str, ...] = ()


@dataclass(frozen=True, kw_only=True)
class RosterLine(Record):
    """One volunteer of a roster and how they are marked."""

    application_id: int
    name: str
    status: str


@dataclass(frozen=True, kw_only=True)
class SlotRoster(Notification):
    """To the organisation after a slot: who came, marked with a tap."""

    kind: ClassVar[str] = "slot_roster"
    slot_id: int | None = None
    mission_title: str
    organisation_name: str
    timezone: str
    starts_at: datetime
    ends_at: datetime
    capacity: int | None = None
    volunteers: tuple[RosterLine, ...] = ()


@dataclass(frozen=True, kw_only=True)
class FeedbackRequest(Notification):
    """To a volunteer after a slot: did it go well? Never who else came."""

    kind: ClassVar[str] = "feedback_request"
    application_id: int
    slot_id: int | None = None
    mission_title: str
    organisation_name: str
    timezone: str
    starts_at: datetime
    ends_at: datetime
    capacity: int | None = None
