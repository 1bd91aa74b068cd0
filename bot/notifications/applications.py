"""Applications: a volunteer applied, was answered, or let go of a place."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from bot.notifications.facts import ApplicationFacts


@dataclass(frozen=True, kw_only=True)
class ApplicationSubmitted(ApplicationFacts):
    """To the organisation: someone applied; what helps decide, never a phone number."""

    kind: ClassVar[str] = "application_submitted"
    volunteer_name: str
    volunteer_via_sms: bool = False
    distance_km: float | None = None
    attended: int = 0
    no_shows: int = 0
    conditions: tuple[str, ...] = ()


@dataclass(frozen=True, kw_only=True)
class ApplicationDecided(ApplicationFacts):
    """To the volunteer: approved, or refused with a reason."""

    kind: ClassVar[str] = "application_decided"
    status: str
    reason: str | None = None
    reason_note: str | None = None


@dataclass(frozen=True, kw_only=True)
class ApplicationCancelled(ApplicationFacts):
    """To the organisation: a volunteer let go of their place."""

    kind: ClassVar[str] = "application_cancelled"
    volunteer_name: str
