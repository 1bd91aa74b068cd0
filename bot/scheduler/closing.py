"""Job: close missions whose last slot has ended, one transaction per mission."""

from __future__ import annotations

from datetime import datetime

from bot.runtime import Renfort
from bot.services.closing import close_mission, finished_missions


async def close_finished_missions(renfort: Renfort, now: datetime) -> int:
    """Close every finished mission; returns how many closed."""
    closed = 0
    for mission_id in await finished_missions(renfort.db, now=now):
        closed += await close_mission(renfort.db, mission_id=mission_id, now=now) is not None
    return closed
