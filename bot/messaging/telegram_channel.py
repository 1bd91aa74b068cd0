"""Sending notifications through the Bot API (interface; implementation in progress)."""

from __future__ import annotations

from typing import Any

from bot.runtime import Renfort


class TelegramChannel:
    def __init__(self, bot: Any, renfort: Renfort) -> None:
        self.bot = bot
        self.renfort = renfort
