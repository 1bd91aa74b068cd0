"""Once a day, delete the personal texts of missions that ended long ago, and the board's
expired links and sessions."""

from __future__ import annotations

from datetime import datetime

from bot.runtime import Renfort
from bot.services import purge


async def purge_personal_data(renfort: Renfort, now: datetime) -> int:
    """Relay texts and notes older than PURGE_AFTER_MONTHS, expired board keys; returns how
    many were wiped."""
    if not await purge.due(renfort.db, now):
        return 0
    done = await purge.purge(renfort.db, now=now, months=renfort.settings.purge_after_months)
    return done.relay_messages + done.notes + done.board_keys
