"""Missions waiting two days for a referent's review: the referent is reminded once."""

from __future__ import annotations

from datetime import datetime

from bot.runtime import Renfort
from bot.services.review_queue import remind_referents


async def remind_reviews(renfort: Renfort, now: datetime) -> int:
    """Job: remind referents of missions in review for two days."""
    return await remind_referents(renfort.db, now)
