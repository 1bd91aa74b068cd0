"""The periodic outbox sweep, for rows another worker queued, wakes the dispatcher from the
bot's own event loop: set from the scheduler's threads, the wake-up would wait for
something else to wake the loop."""

from __future__ import annotations

import asyncio
from pathlib import Path

from tests.conftest import NOW
from tests.harness import FakeClock, running_bot, sqlite_file_url


async def test_the_outbox_sweep_wakes_the_dispatcher_from_its_own_loop(tmp_path: Path) -> None:
    async with running_bot(sqlite_file_url(tmp_path), FakeClock(NOW)) as bot:
        scheduler = bot.service.scheduler
        assert scheduler is not None
        job = scheduler.get_job("outbox_sweep")
        assert job is not None and asyncio.iscoroutinefunction(job.func)
        renfort = bot.service.renfort
        assert renfort is not None
        renfort.outbox_ready.clear()
        await job.func(*job.args)
        assert renfort.outbox_ready.is_set()
