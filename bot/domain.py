"""The vocabulary as values: statuses, domains, reasons. No I/O here."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from bot.i18n import N_


class MissionStatus(StrEnum):
    DRAFT = "draft"
    IN_REVIEW = "in_review"
    PUBLISHED = "published"
    CLOSED = "closed"
    CANCELLED = "cancelled"


class ApplicationStatus(StrEnum):
    PENDING = "pending"
    APPROVED = "approved"
    REFUSED = "refused"
    CANCELLED = "cancelled"
    WAITLISTED = "waitlisted"
    CONFIRMED = "confirmed"
    ATTENDED = "attended"
    NO_SHOW = "no_show"


# Statuses that hold a place in a slot (JeVeuxAider counts pending ones too).
HOLDING = (ApplicationStatus.PENDING, ApplicationStatus.APPROVED, ApplicationStatus.CONFIRMED)
# Statuses of an application still alive for the volunteer.
ACTIVE = (*HOLDING, ApplicationStatus.WAITLISTED)


class Role(StrEnum):
    OWNER = "owner"
    COORDINATOR = "coordinator"


class Channel(StrEnum):
    TELEGRAM = "telegram"
    SMS = "sms"


# Domains of action, as JeVeuxAider groups them; keys are stable, labels are translated.
DOMAINS: dict[str, str] = {
    "citizenship": N_("Citizenship and elections"),
    "solidarity": N_("Solidarity and food aid"),
    "health": N_("Health and care"),
    "education": N_("Education and childcare"),
    "environment": N_("Environment"),
    "culture": N_("Culture and leisure"),
    "sport": N_("Sport"),
    "emergency": N_("Emergencies and prevention"),
    "neighbourhood": N_("Neighbourhood help"),
}

# Why an organisation refuses an application.
REFUSAL_REASONS: dict[str, str] = {
    "slot_filled": N_("The slot is already filled"),
    "requirements": N_("Requirements not met"),
    "mission_over": N_("The mission is over"),
    "other": N_("Other reason"),
}
# Why a coordinator cancels a slot or a mission, offered as buttons; typed words go as typed.
CANCEL_REASONS: dict[str, str] = {
    "weather": N_("bad weather"),
    "venue": N_("the venue is not available"),
    "staffed": N_("enough people already"),
    "postponed": N_("postponed to a later date"),
}
# Reasons Renfort gives by itself, never offered to a coordinator refusing by hand.
AUTOMATIC_REASONS = frozenset({"mission_over"})

# Search radii a volunteer can pick (km); None means everywhere.
RADII: tuple[int | None, ...] = (5, 10, 30, None)
DEFAULT_RADIUS_KM = 30
ANSWER_WITHIN_DAYS = 7
NO_SHOWS_WARNING = 2  # from this many no-shows, coordinators are warned before approving
NUDGE_AFTER_DAYS = 3  # a pending application reminds the organisation once, this old


@dataclass(frozen=True)
class GeoPoint:
    latitude: float
    longitude: float


@dataclass(frozen=True)
class Period:
    starts_at: datetime
    ends_at: datetime

    def overlaps(self, other: Period) -> bool:
        return self.starts_at < other.ends_at and other.starts_at < self.ends_at
