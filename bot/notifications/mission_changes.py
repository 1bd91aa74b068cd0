"""A mission changed after people applied: everyone concerned is told, and the territory's
referents too while it is published (`to_referent`: no application behind their copy)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import ClassVar

from bot.notifications.facts import SlotFacts


@dataclass(frozen=True, kw_only=True)
class ChangeFacts(SlotFacts):
    """The slot concerned, the person's application when they have one."""

    mission_id: int
    application_id: int | None = None
    status: str | None = None
    to_referent: bool = False


@dataclass(frozen=True, kw_only=True)
class MissionChanged(ChangeFacts):
    """The title, description or place changed; the old values to compare."""

    kind: ClassVar[str] = "mission_changed"
    changed: tuple[str, ...] = ()
    old_title: str | None = None
    old_address: str | None = None
    old_remote: bool = False


@dataclass(frozen=True, kw_only=True)
class SlotMoved(ChangeFacts):
    """The slot moved from these old times."""

    kind: ClassVar[str] = "slot_moved"
    old_starts_at: datetime | None = None
    old_ends_at: datetime | None = None


@dataclass(frozen=True, kw_only=True)
class Cancellation(ChangeFacts):
    """A picked reason (`reason_key`) or one typed (`reason`)."""

    reason: str | None = None
    reason_key: str | None = None


@dataclass(frozen=True, kw_only=True)
class SlotCancelled(Cancellation):
    kind: ClassVar[str] = "slot_cancelled"


@dataclass(frozen=True, kw_only=True)
class MissionCancelled(Cancellation):
    kind: ClassVar[str] = "mission_cancelled"


@dataclass(frozen=True, kw_only=True)
class MovedToWaitlist(ChangeFacts):
    """Fewer places: this volunteer is back on the waitlist at `position`."""

    kind: ClassVar[str] = "moved_to_waitlist"
    position: int | None = None
