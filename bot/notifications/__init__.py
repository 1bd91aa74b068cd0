"""The notifications Renfort sends, one frozen dataclass per outbox kind, grouped by family.

A service builds the notification it sends; the outbox stores its fields as plain JSON
values; a channel's renderer turns it into that channel's message. Importing this package
loads every family, so CATALOGUE knows every kind."""

from bot.notifications import (
    alerts,
    applications,
    callouts,
    election,
    mission_changes,
    moderation,
    offers,
    organisers,
    relay,
    schedule,
)
from bot.notifications.catalogue import CATALOGUE, Notification, UnknownNotification, load

__all__ = [
    "CATALOGUE",
    "Notification",
    "UnknownNotification",
    "alerts",
    "applications",
    "callouts",
    "election",
    "load",
    "mission_changes",
    "moderation",
    "offers",
    "organisers",
    "relay",
    "schedule",
]
