"""Offers whose time ran out: the person is withdrawn and the place offered to the next one.
The scan reads applications.offer_expires_at (indexed) and re-checks each offer under its
lock, so a restart or a second worker never withdraws anyone twice."""

from __future__ import annotations

from datetime import datetime

from bot.runtime import Renfort
from bot.services import offers


async def expire_offers(renfort: Renfort, now: datetime) -> int:
    """Withdraw the offers due by `now`; returns how many."""
    return await offers.expire_due_offers(renfort.db, now=now)
