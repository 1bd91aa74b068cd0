"""Callouts: people asked to come at short notice, and the organisation told how it went."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from bot.notifications.facts import SlotFacts


@dataclass(frozen=True, kw_only=True)
class CalloutFacts(SlotFacts):
    """The callout and its slot; `channels` are the only ones the dispatcher may use."""

    callout_id: int
    mission_id: int
    needed: int | None = None
    urgent: bool = False
    channels: tuple[str, ...] = ()


@dataclass(frozen=True, kw_only=True)
class Callout(CalloutFacts):
    """To a volunteer: can you come? The database adds each person's `distance_km`."""

    kind: ClassVar[str] = "callout"
    distance_km: float | None = None


@dataclass(frozen=True, kw_only=True)
class CalloutExhausted(CalloutFacts):
    """To the organisation: everyone in reach was asked and places are still free."""

    kind: ClassVar[str] = "callout_exhausted"
    asked: int = 0
    taken: int = 0
    waiting: int = 0
    radius_km: float | None = None


@dataclass(frozen=True, kw_only=True)
class CalloutFilledOrganisation(CalloutFacts):
    """To the organisation: the callout found its people."""

    kind: ClassVar[str] = "callout_filled_organisation"
    taken: int = 0
