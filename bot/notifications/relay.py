"""Messages relayed between an organisation and its volunteers: first names only, never a
phone number or a username."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from bot.notifications.catalogue import Notification


@dataclass(frozen=True, kw_only=True)
class RelayToVolunteer(Notification):
    """To a volunteer: an organisation's message, answered with Reply."""

    kind: ClassVar[str] = "relay_to_volunteer"
    relay_id: int | None = None
    organisation_name: str
    mission_title: str | None = None
    text: str = ""


@dataclass(frozen=True, kw_only=True)
class RelayToOrganisation(Notification):
    """To the organisation: a volunteer's answer."""

    kind: ClassVar[str] = "relay_to_organisation"
    relay_id: int | None = None
    organisation_name: str
    mission_title: str | None = None
    volunteer_name: str = ""
    volunteer_via_sms: bool = False
    text: str = ""
