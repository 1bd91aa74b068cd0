"""SIGTERM stops `renfort run` within 10 s without losing or doubling the send under way."""

from __future__ import annotations

import asyncio
import signal
import time
from pathlib import Path

from sqlalchemy import select

from bot.messaging.outbox import enqueue
from bot.notifications import load
from renfort.sandbox.telegram_double import TelegramDouble
from storage import schema
from storage.database import Database
from tests.conftest import sqlite_url
from tests.factories import volunteer
from tests.harness import free_port
from tests.processes import start_worker
from tests.test_render import snapshot


async def test_sigterm_finishes_the_send_in_flight_and_exits_cleanly(
    sqlite_template: Path, tmp_path: Path
) -> None:
    url = sqlite_url(sqlite_template, tmp_path)
    db = Database(url)
    double = TelegramDouble()
    await double.start()
    worker = None
    try:
        camille = await volunteer(db, 1, "Camille")
        double.user(1, "Camille")
        worker = await start_worker(double, url, free_port(), tmp_path)
        double.send_delay = 2.0  # Telegram is slow today: the send is still under way
        async with db.transaction("test_notify") as conn:
            row = await enqueue(conn, load("offer_expired", snapshot()), person_id=camille.id)
        deadline = time.monotonic() + 20
        while not any(m == "sendMessage" and p.get("chat_id") in (1, "1") for m, p in double.calls):
            assert time.monotonic() < deadline, worker.output()
            await asyncio.sleep(0.05)

        stopped_at = time.monotonic()
        worker.process.send_signal(signal.SIGTERM)
        code = await asyncio.wait_for(worker.process.wait(), 12)
        took = time.monotonic() - stopped_at

        assert code == 0, worker.output()
        assert took < 10
        assert len(double.messages[1]) == 1  # delivered, once
        async with db.reading("test") as conn:
            status = await conn.scalar(
                select(schema.outbox.c.status).where(schema.outbox.c.id == row)
            )
        assert status == "sent"  # recorded: a restart will not send it again
        assert "Traceback" not in worker.output()
    finally:
        if worker is not None and worker.process.returncode is None:
            worker.process.kill()
            await worker.process.wait()
        await double.stop()
        await db.close()
