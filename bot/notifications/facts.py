"""Fields many notifications share: the slot a message is about and the application behind
it. Kinds extend these (flat, so the stored payload keeps the keys it always had)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol, Self

from bot.messaging.message import Pin
from bot.messaging.pins import mission_pin
from bot.notifications.catalogue import Notification, Record


@dataclass(frozen=True, kw_only=True)
class SlotFacts(Notification):
    """Which mission, who runs it, where and when. Rows queued before missions' coordinates
    travelled with them have none: their message says the address without a map."""

    mission_title: str
    organisation_name: str
    address: str | None = None
    remote: bool = False
    latitude: float | None = None
    longitude: float | None = None
    timezone: str
    starts_at: datetime
    ends_at: datetime

    @property
    def pin(self) -> Pin | None:
        """The mission's place on a map, if a map can show it."""
        return mission_pin(
            self.mission_title,
            address=self.address,
            latitude=self.latitude,
            longitude=self.longitude,
            remote=self.remote,
        )


@dataclass(frozen=True, kw_only=True)
class ApplicationFacts(SlotFacts):
    """A notification about one application, rendered without the database."""

    application_id: int
    mission_id: int

    @classmethod
    def about(cls, view: ApplicationLike, **extra: Any) -> Self:
        """This kind about `view`, with the kind's own fields in `extra`."""
        return cls(**application_fields(view), **extra)


@dataclass(frozen=True, kw_only=True)
class ApplicationLine(Record):
    """One application in a list a notification carries (the evening's pending list)."""

    application_id: int
    mission_id: int
    mission_title: str
    organisation_name: str
    address: str | None = None
    remote: bool = False
    latitude: float | None = None
    longitude: float | None = None
    timezone: str
    starts_at: datetime
    ends_at: datetime
    volunteer_name: str
    volunteer_via_sms: bool = False


def application_fields(view: ApplicationLike) -> dict[str, Any]:
    return {
        "application_id": view.id,
        "mission_id": view.mission_id,
        "mission_title": view.mission_title,
        "organisation_name": view.organisation_name,
        "address": view.address,
        "remote": view.remote,
        "latitude": view.latitude,
        "longitude": view.longitude,
        "timezone": view.timezone,
        "starts_at": view.starts_at,
        "ends_at": view.ends_at,
    }


class Timed(Protocol):
    """A notification (or a line of one) about a slot: when, in the slot's time zone."""

    @property
    def starts_at(self) -> datetime: ...
    @property
    def ends_at(self) -> datetime: ...
    @property
    def timezone(self) -> str: ...


class Placed(Protocol):
    """A notification about a mission's place: an address, or remote."""

    @property
    def address(self) -> str | None: ...
    @property
    def remote(self) -> bool: ...


class Located(Placed, Protocol):
    """A place with its coordinates when the mission has them."""

    @property
    def latitude(self) -> float | None: ...
    @property
    def longitude(self) -> float | None: ...


class ApplicationLike(Timed, Located, Protocol):
    """What a service's view of an application offers (ApplicationView, Upcoming)."""

    @property
    def id(self) -> int: ...
    @property
    def mission_id(self) -> int: ...
    @property
    def mission_title(self) -> str: ...
    @property
    def organisation_name(self) -> str: ...


class MissionSlot(Timed, Protocol):
    """A notification naming the mission, its organisation and the slot."""

    @property
    def mission_title(self) -> str: ...
    @property
    def organisation_name(self) -> str: ...
