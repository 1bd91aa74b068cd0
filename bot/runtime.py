"""What every handler and job of one running Renfort shares: settings, database, clock."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from bot.config import Settings
from bot.geo import Geocoder
from bot.i18n import Translator, resolve_locale
from bot.metrics import Metrics
from storage.database import Database


def system_clock() -> datetime:
    return datetime.now(UTC)


@dataclass
class Renfort:
    """The running service's shared parts, passed to handlers instead of globals."""

    settings: Settings
    db: Database
    geocoder: Geocoder
    clock: Callable[[], datetime] = system_clock
    metrics: Metrics = field(default_factory=Metrics)
    outbox_ready: asyncio.Event = field(default_factory=asyncio.Event)
    sandbox: bool = False  # talking to the local chat, not to Telegram
    # Facts a scheduler job learnt that stay true (a digest fully queued for a week), so
    # later ticks skip the database; losing it on restart only costs one look.
    settled: set[str] = field(default_factory=set)

    def now(self) -> datetime:
        return self.clock()

    def translator(self, chosen: str | None, telegram_language: str | None = None) -> Translator:
        return Translator(resolve_locale(chosen, telegram_language, self.settings.renfort_locale))

    def notify_outbox(self) -> None:
        """Wake the dispatcher: a service call just enqueued notifications."""
        self.outbox_ready.set()
