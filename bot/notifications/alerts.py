"""Territory alerts: volunteers asked whether they are available, organisations told who
is, and the slot an organisation then offers."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import ClassVar

from bot.notifications.catalogue import Notification


@dataclass(frozen=True, kw_only=True)
class TerritoryAlert(Notification):
    """To a volunteer of the territory: available or not?"""

    kind: ClassVar[str] = "territory_alert"
    alert_id: int
    text: str
    urgent: bool = False
    place_name: str | None = None


@dataclass(frozen=True, kw_only=True)
class AlertVolunteerAvailable(Notification):
    """To an organisation of the territory: this volunteer is available."""

    kind: ClassVar[str] = "alert_volunteer_available"
    alert_id: int
    recipient_id: int
    organisation_id: int
    first_name: str
    town: str | None = None
    distance_km: float | None = None
    text: str


@dataclass(frozen=True, kw_only=True)
class AlertOffer(Notification):
    """To the volunteer: a slot an organisation offers them, to accept or decline."""

    kind: ClassVar[str] = "alert_offer"
    offer_id: int
    mission_title: str
    organisation_name: str
    address: str | None = None
    remote: bool = False
    starts_at: datetime
    ends_at: datetime
    timezone: str
    conditions: tuple[str, ...] = ()
