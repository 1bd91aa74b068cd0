"""The dispatcher drains the outbox (interface; implementation in progress)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from bot.runtime import Renfort


class Dispatcher:
    def __init__(self, renfort: Renfort, channels: Mapping[str, Any]) -> None:
        self.renfort = renfort
        self.channels = channels

    async def run(self) -> None:
        """Send due notifications until stopped."""

    async def drain(self) -> int:
        """Send everything due now; returns how many were handled."""
        return 0

    def stop(self) -> None:
        """Ask `run` to return."""
