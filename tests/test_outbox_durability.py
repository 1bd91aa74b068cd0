"""The outbox survives `kill -9`: a real `python -m bot run` drains 2,000 notifications to
2,000 people through the Bot API double, dies mid-way, and a second process on the same
database finishes the job. Everyone gets the message; only the batch that was in flight may
arrive twice. On PostgreSQL two workers also drain one outbox together without ever
sending a row twice (FOR UPDATE SKIP LOCKED)."""

from __future__ import annotations

import asyncio
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import func, insert, select, text

from bot.config import load_settings
from bot.geo import Geocoder
from bot.messaging.dispatcher import LEASE, Dispatcher
from bot.runtime import Renfort
from renfort.sandbox.telegram_double import TelegramDouble
from storage import schema
from storage.database import Database
from storage.migrate import upgrade
from tests.harness import sqlite_file_url
from tests.processes import bot_env
from tests.test_render import snapshot

RECIPIENTS = 2000
BATCH_SIZE = 20
FIRST_CHAT = 500_000
KIND = "offer_expired"
MARK = "Assesseur"  # in every copy of the notification (its mission title)
# Fast enough that a run takes seconds; the double enforces nothing, so no 429s.
RATE = "400"
DRAIN_TIMEOUT = 40.0
# A bot process starts in a second or two, but far slower when the machine is busy.
PROCESS_START_TIMEOUT = 120.0
# Waiting for a drain fails only after this long without one more message: a busy machine
# sends slowly, a stuck dispatcher not at all.
STALL_TIMEOUT = 30.0
OUTBOX = schema.outbox


# ---- databases -----------------------------------------------------------------------------


async def fill_outbox(database_url: str, *doubles: TelegramDouble) -> None:
    """2,000 volunteers on Telegram and one due notification for each, all enqueued in one
    transaction, as a callout leaves them."""
    # The people exist in Telegram before a dispatcher may already be sending to them.
    for double in doubles:
        for i in range(RECIPIENTS):
            double.user(FIRST_CHAT + i, f"V{i}")
    await upgrade(database_url)
    people = [
        {
            "first_name": f"V{i}",
            "telegram_user_id": FIRST_CHAT + i,
            "telegram_chat_id": FIRST_CHAT + i,
            "interests": [],
            "availability": {},
        }
        for i in range(RECIPIENTS)
    ]
    db = Database(database_url)
    try:
        async with db.transaction("test_fill_outbox") as conn:
            await conn.execute(insert(schema.people), people)
            ids = await conn.scalars(select(schema.people.c.id).order_by(schema.people.c.id))
            rows = [
                {
                    "kind": KIND,
                    "person_id": person_id,
                    "payload": snapshot(application_id=person_id),
                    "priority": 5,
                    "status": "pending",
                    "not_before": schema.now(),
                    "created_at": schema.now(),
                }
                for person_id in ids
            ]
            await conn.execute(insert(OUTBOX), rows)
    finally:
        await db.close()


async def statuses(database_url: str) -> dict[str, int]:
    db = Database(database_url)
    try:
        async with db.reading("test_statuses") as conn:
            rows = await conn.execute(
                select(OUTBOX.c.status, func.count())
                .where(OUTBOX.c.kind == KIND)
                .group_by(OUTBOX.c.status)
            )
            return {status: count for status, count in rows.tuples()}
    finally:
        await db.close()


async def wait_until_drained(database_url: str, *workers: subprocess.Popen[bytes]) -> None:
    """Until no notification is left pending or mid-send (every send is recorded after the
    double has it, so by then every copy, duplicates included, has arrived)."""
    progress, deadline = -1, 0.0
    while True:
        found = await statuses(database_url)
        if not found.get("pending") and not found.get("sending"):
            return
        for worker in workers:
            assert worker.poll() is None, f"the bot exited with {worker.returncode}"
        done = found.get("sent", 0) + found.get("failed", 0)
        if done != progress:  # slow on a loaded machine is fine; stuck is not
            progress, deadline = done, time.monotonic() + STALL_TIMEOUT
        elif time.monotonic() > deadline:
            raise TimeoutError(f"the outbox stopped draining: {found}")
        await asyncio.sleep(0.2)


# ---- bot processes -------------------------------------------------------------------------


@contextmanager
def bot_process(
    double: TelegramDouble, database_url: str, log: Path
) -> Iterator[subprocess.Popen[bytes]]:
    """`python -m bot run` as its own process, dispatching to the double."""
    env = bot_env(double, database_url, OUTBOX_BATCH_SIZE=str(BATCH_SIZE), TELEGRAM_RATE=RATE)
    # A file, not a pipe: nobody reads the log while the test runs, and a full pipe would
    # stall the bot.
    with log.open("ab") as stderr:
        process = subprocess.Popen(
            [sys.executable, "-m", "bot", "run"],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=stderr,
        )
    try:
        yield process
    finally:
        if process.poll() is None:
            process.kill()
        process.wait(timeout=20)


def delivered(double: TelegramDouble) -> int:
    return sum(len(messages) for messages in double.messages.values())


async def wait_for_deliveries(double: TelegramDouble, count: int, log: Path) -> None:
    """Until `count` messages have arrived, watched closely so the kill lands right then."""
    progress, deadline = -1, 0.0
    while (arrived := delivered(double)) < count:
        if arrived != progress:  # slow on a loaded machine is fine; stuck is not
            progress, deadline = arrived, time.monotonic() + STALL_TIMEOUT
        elif time.monotonic() > deadline:
            raise TimeoutError(f"{arrived} messages arrived; see the bot's log {log}")
        await asyncio.sleep(0.002)


def copies(double: TelegramDouble) -> list[int]:
    """How many copies of the notification each recipient has, in chat order."""
    return [
        sum(MARK in message.text for message in double.messages[FIRST_CHAT + i])
        for i in range(RECIPIENTS)
    ]


# ---- the scenarios -------------------------------------------------------------------------


async def kill_mid_callout_and_restart(
    double: TelegramDouble, database_url: str, log: Path, backend: str
) -> None:
    await fill_outbox(database_url, double)

    with bot_process(double, database_url, log) as first:
        await wait_for_deliveries(double, RECIPIENTS // 2, log)
        first.send_signal(signal.SIGKILL)
        first.wait(timeout=20)
    at_kill = delivered(double)
    left = await statuses(database_url)

    with bot_process(double, database_url, log) as second:
        await wait_until_drained(database_url, second)

    got = copies(double)
    duplicates = sum(n - 1 for n in got if n > 1)
    print(
        f"\n{backend}: killed with {at_kill} of {RECIPIENTS} delivered"
        f" ({left.get('sending', 0)} rows mid-send); after restart {sum(got)} messages,"
        f" {duplicates} duplicates (batch size {BATCH_SIZE})"
    )
    assert RECIPIENTS // 2 <= at_kill < RECIPIENTS, "the kill did not land mid-callout"
    assert min(got) >= 1, f"{got.count(0)} people got nothing"
    assert duplicates <= BATCH_SIZE
    assert max(got) <= 2
    assert await statuses(database_url) == {"sent": RECIPIENTS}


async def test_a_kill_9_mid_callout_loses_nobody_and_repeats_at_most_one_batch_on_sqlite(
    double: TelegramDouble, tmp_path: Path
) -> None:
    await kill_mid_callout_and_restart(
        double, sqlite_file_url(tmp_path), tmp_path / "bot.log", "SQLite"
    )


async def test_a_kill_9_mid_callout_loses_nobody_and_repeats_at_most_one_batch_on_postgresql(
    double: TelegramDouble, tmp_path: Path, pg_url: str
) -> None:
    await kill_mid_callout_and_restart(double, pg_url, tmp_path / "bot.log", "PostgreSQL")


async def test_two_workers_on_postgresql_share_the_outbox_and_send_each_row_once(
    double: TelegramDouble, tmp_path: Path, pg_url: str
) -> None:
    # Each worker talks to its own double (same token, same people), so what each one sent
    # is known exactly: the two halves must not overlap and must cover everyone.
    other = TelegramDouble(double.token)
    await other.start()
    try:
        await upgrade(pg_url)  # before the workers start, so they do not race to migrate
        log = tmp_path / "bot.log"
        with (
            bot_process(double, pg_url, log) as one,
            bot_process(other, pg_url, log) as two,
        ):
            # Both at work before the rows arrive: on a busy machine the first one up could
            # otherwise send them all before the other has even started.
            db = Database(pg_url)
            try:
                await presences(db, 2)
            finally:
                await db.close()
            await fill_outbox(pg_url, double, other)
            await wait_until_drained(pg_url, one, two)
            # Both still alive: neither drained everything only because the other had died.
            assert one.poll() is None and two.poll() is None
    finally:
        await other.stop()

    by_one, by_two = copies(double), copies(other)
    print(
        f"\nPostgreSQL, two workers: {sum(by_one)} + {sum(by_two)} messages,"
        f" {sum(max(0, a + b - 1) for a, b in zip(by_one, by_two, strict=True))} duplicates"
    )
    assert sum(by_one) > 0 and sum(by_two) > 0, "one worker did all the work"
    assert [a + b for a, b in zip(by_one, by_two, strict=True)] == [1] * RECIPIENTS
    assert await statuses(pg_url) == {"sent": RECIPIENTS}


async def presences(db: Database, count: int) -> None:
    """Until `count` dispatchers hold their presence lock on this database."""
    query = text(
        "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND granted"
        " AND mode = 'ShareLock' AND database = (SELECT oid FROM pg_database"
        " WHERE datname = current_database())"
    )
    deadline = time.monotonic() + PROCESS_START_TIMEOUT
    while True:
        async with db.reading("test_presences") as conn:
            if await conn.scalar(query) == count:
                return
        if time.monotonic() > deadline:
            raise TimeoutError(f"never {count} dispatchers present")
        await asyncio.sleep(0.02)


async def test_on_postgresql_a_starting_worker_takes_back_a_dead_workers_rows_not_a_live_ones(
    pg_url: str,
) -> None:
    await upgrade(pg_url)
    db = Database(pg_url)
    renfort = Renfort(load_settings(_env_file=None, database_url=pg_url), db, Geocoder(None))
    # No channel at all: a row a dispatcher takes back is given up at once, which shows.
    live, newcomer = Dispatcher(renfort, {}), Dispatcher(renfort, {})
    try:
        running = [asyncio.create_task(live.run())]
        await presences(db, 1)
        async with db.transaction("test_claimed_by_live") as conn:
            row_id = await conn.scalar(
                insert(OUTBOX)
                .values(
                    kind=KIND,
                    chat_id=-1,
                    payload=snapshot(),
                    status="sending",  # the live worker's batch, its lease still running
                    not_before=renfort.now() + LEASE,
                    created_at=renfort.now(),
                )
                .returning(OUTBOX.c.id)
            )
        running.append(asyncio.create_task(newcomer.run()))
        await presences(db, 2)
        async with db.reading("test_status") as conn:
            assert await conn.scalar(select(OUTBOX.c.status).where(OUTBOX.c.id == row_id)) == (
                "sending"
            )

        live.stop()
        newcomer.stop()
        await asyncio.gather(*running)
        await presences(db, 0)  # both gone: the row's worker is dead now
        restarted = Dispatcher(renfort, {})
        task = asyncio.create_task(restarted.run())
        try:
            # Taken back it goes 'sending' -> 'pending' -> 'failed' (no channel): wait for
            # the end state, not the first change, or a busy machine shows 'pending'.
            deadline = time.monotonic() + DRAIN_TIMEOUT
            while True:
                async with db.reading("test_status") as conn:
                    status = await conn.scalar(select(OUTBOX.c.status).where(OUTBOX.c.id == row_id))
                if status == "failed" or time.monotonic() > deadline:
                    break
                await asyncio.sleep(0.02)
        finally:
            restarted.stop()
            await task
        # Taken back at start, long before its lease (LEASE) ran out.
        assert status == "failed", f"the dead worker's row stayed {status!r}"
    finally:
        await db.close()
