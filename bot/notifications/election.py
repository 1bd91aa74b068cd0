"""The week before a slot: organisers reminded of applications still unanswered, the
volunteer told their answer is still awaited."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from bot.notifications.catalogue import Notification
from bot.notifications.facts import ApplicationFacts, ApplicationLine


@dataclass(frozen=True, kw_only=True)
class ApplicationNudgeSoon(ApplicationFacts):
    """To the organisation: an application for a slot starting within hours."""

    kind: ClassVar[str] = "application_nudge_soon"
    volunteer_name: str
    volunteer_via_sms: bool = False
    hours_left: int | None = None


@dataclass(frozen=True, kw_only=True)
class PendingTomorrow(Notification):
    """To the organisation, the evening before: tomorrow's applications still unanswered."""

    kind: ClassVar[str] = "pending_tomorrow"
    organisation_name: str
    date: str
    items: tuple[ApplicationLine, ...] = ()


@dataclass(frozen=True, kw_only=True)
class ApplicationStillPending(ApplicationFacts):
    """To the volunteer: the organisation has not answered yet."""

    kind: ClassVar[str] = "application_still_pending"
