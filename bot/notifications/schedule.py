"""Before a slot: reminders to the volunteer, the attendance question, and the organisation
told about a volunteer who did not answer it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from bot.notifications.facts import ApplicationFacts


@dataclass(frozen=True, kw_only=True)
class ReminderDayBefore(ApplicationFacts):
    """To the volunteer, the day before; `number` is the mission's number for SMS replies."""

    kind: ClassVar[str] = "reminder_day_before"
    number: int | None = None


@dataclass(frozen=True, kw_only=True)
class ReminderHoursBefore(ApplicationFacts):
    """To the volunteer, `hours` before the start."""

    kind: ClassVar[str] = "reminder_hours_before"
    number: int | None = None
    hours: int | None = None


@dataclass(frozen=True, kw_only=True)
class AttendanceCheck(ApplicationFacts):
    """To the volunteer: still coming?"""

    kind: ClassVar[str] = "attendance_check"


@dataclass(frozen=True, kw_only=True)
class AttendanceUnconfirmed(ApplicationFacts):
    """To the organisation: this volunteer did not confirm they come."""

    kind: ClassVar[str] = "attendance_unconfirmed"
    volunteer_name: str
