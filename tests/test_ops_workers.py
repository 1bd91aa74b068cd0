"""Two `renfort run` workers on one PostgreSQL database, as in production behind one webhook:
applications racing for the last places through both, a callout sent by both under one
Telegram rate (the double answers 429 above 30/s), and one worker killed -9 mid-callout.

Sizes are scaled so the file runs in about a minute: 200 applications for 10 places; a
callout to 600 people at Telegram's 30 msg/s (the double's limit, the workers' shared
budget at 90 % of it: about 22 s); 300 people for the kill."""

from __future__ import annotations

import asyncio
import signal
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import func, insert, select, update

from bot.buttons import Button, save_buttons
from bot.domain import HOLDING, ApplicationStatus
from bot.services import callouts, organisations
from bot.services.callouts import Targeting
from handlers.telegram.applying import CONFIRM_APPLY
from handlers.web import SECRET_HEADER, TELEGRAM_WEBHOOK_PATH
from renfort.sandbox.telegram_double import SentMessage, TelegramDouble
from storage import schema
from storage.database import Database
from tests.factories import SAINT_DIZIER, commune, first_slot, polling_station, volunteer
from tests.harness import free_port
from tests.processes import Worker, start_worker, stop_worker

SECRET = "two-workers-secret"
APPLICANTS, PLACES = 200, 10
CALLOUT_PEOPLE, KILL_PEOPLE = 600, 300
FIRST_ID = 700_000
KM = 1 / 111.2
P, A, OUT = schema.people, schema.applications, schema.outbox
C, R = schema.callouts, schema.callout_recipients


async def two_workers(
    double: TelegramDouble, url: str, tmp_path: Path, **env: str
) -> tuple[Worker, Worker]:
    """Two workers in webhook mode, each on its own port so the test decides who gets what
    (in production they share one port: `renfort run --workers 2`)."""
    workers = []
    for _ in range(2):
        port = free_port()
        workers.append(
            await start_worker(
                double,
                url,
                port,
                tmp_path,
                WORKERS="2",
                TELEGRAM_MODE="webhook",
                PUBLIC_URL=f"http://127.0.0.1:{port}",
                TELEGRAM_WEBHOOK_SECRET=SECRET,
                **env,
            )
        )
    double.webhook_url = None  # updates are handed out by the test below
    return workers[0], workers[1]


async def stop_both(*workers: Worker) -> None:
    codes = await asyncio.gather(*(stop_worker(w) for w in workers))
    for worker, code in zip(workers, codes, strict=True):
        assert code in (0, -signal.SIGKILL), worker.output()


async def test_200_applications_through_two_workers_take_exactly_10_places(
    double: TelegramDouble,
    tmp_path: Path,
    pg_url: str,
    pg_db: Database,
) -> None:
    org = await commune(pg_db)
    mission = await polling_station(pg_db, org.id, now=datetime.now(UTC), capacity=PLACES)
    slot = await first_slot(pg_db, mission)
    taps = []
    for i in range(APPLICANTS):
        user = FIRST_ID + i
        await volunteer(pg_db, user, f"V{i}")
        double.user(user, f"V{i}")
        [[(_label, token)]] = await save_buttons(
            pg_db, [[Button("✅", CONFIRM_APPLY, {"slot": slot})]]
        )
        card = SentMessage(
            10_000 + i, user, "Confirmer ?", [[{"text": "✅", "callback_data": token}]]
        )
        double.messages[user].append(card)
        taps.append((user, card, token))
    one, two = await two_workers(double, pg_url, tmp_path)
    try:
        for user, card, token in taps:
            double.tap_data(user, card, token)
        updates = double.take_pending()
        async with httpx.AsyncClient(timeout=60) as client:

            async def post(worker: Worker, update: dict[str, Any]) -> int:
                response = await client.post(
                    f"http://127.0.0.1:{worker.port}{TELEGRAM_WEBHOOK_PATH}",
                    json=update,
                    headers={SECRET_HEADER: SECRET},
                )
                return response.status_code

            answers = await asyncio.gather(
                *(post((one, two)[n % 2], u) for n, u in enumerate(updates))
            )
        assert answers == [200] * APPLICANTS
        counts = await wait_for_applications(pg_db, slot, APPLICANTS)
    finally:
        await stop_both(one, two)
    held = sum(counts.get(status, 0) for status in HOLDING)
    print(f"\n{APPLICANTS} applications through two workers for {PLACES} places: {counts}")
    assert held == PLACES
    assert counts.get(ApplicationStatus.WAITLISTED, 0) == APPLICANTS - PLACES


async def wait_for_applications(db: Database, slot: int, total: int) -> dict[str, int]:
    deadline = time.monotonic() + 90
    while True:
        async with db.reading("test_applications") as conn:
            rows = await conn.execute(
                select(A.c.status, func.count()).where(A.c.slot_id == slot).group_by(A.c.status)
            )
            counts = {str(status): int(n) for status, n in rows.tuples()}
        if sum(counts.values()) >= total or time.monotonic() > deadline:
            return counts
        await asyncio.sleep(0.2)


async def callout_scene(
    db: Database, double: TelegramDouble, people: int, needed: int | None = None
) -> int:
    """A verified commune's slot tomorrow, `people` volunteers nearby and a callout to them
    (by default everyone in its first wave); returns the callout's id."""
    now = datetime.now(UTC)
    org = await commune(db)
    coordinator = await volunteer(db, 1, "Nadia")
    await organisations.join(db, coordinator.id, org.invite_code)
    mission = await polling_station(
        db, org.id, now=now, capacity=people, starts_at=now + timedelta(days=1)
    )
    rows = [
        {
            "first_name": f"V{i}",
            "locale": "fr",
            "telegram_user_id": FIRST_ID + i,
            "telegram_chat_id": FIRST_ID + i,
            "latitude": SAINT_DIZIER.latitude + (1 + i % 5) * KM,
            "longitude": SAINT_DIZIER.longitude,
            "interests": ["emergency"],
            "availability": {},
            "registered_at": now - timedelta(days=30),
            "created_at": now,
            "updated_at": now,
        }
        for i in range(people)
    ]
    async with db.transaction("test_people") as conn:
        await conn.execute(insert(P), rows)
    for i in range(people):
        double.user(FIRST_ID + i, f"V{i}")
    slot = await first_slot(db, mission)
    view = await callouts.launch(
        db,
        actor_id=coordinator.id,
        slot_id=slot,
        # Three people asked per place: by default everyone, in the first wave.
        needed=needed or people // 3,
        targeting=Targeting(radius_km=10, domains=("emergency",), urgent=True),
        now=now,
    )
    return view.id


async def outbox_left(db: Database) -> int:
    async with db.reading("test_outbox_left") as conn:
        return int(
            await conn.scalar(select(func.count()).where(OUT.c.status.in_(("pending", "sending"))))
            or 0
        )


async def wait_until_sent(db: Database, timeout: float, *alive: Worker) -> None:
    deadline = time.monotonic() + timeout
    while await outbox_left(db):
        assert time.monotonic() < deadline, "the callout was not sent in time"
        for worker in alive:
            assert worker.process.returncode is None, worker.output()
        await asyncio.sleep(0.25)


def copies(double: TelegramDouble, people: int) -> list[int]:
    return [len(double.messages[FIRST_ID + i]) for i in range(people)]


async def sent_by(worker: Worker) -> float:
    async with httpx.AsyncClient() as client:
        text = (await client.get(f"http://127.0.0.1:{worker.port}/metrics")).text
    line = next(
        (
            line
            for line in text.splitlines()
            if line.startswith("renfort_messages_out_total")
            and 'outcome="sent"' in line
            and 'channel="telegram"' in line
        ),
        None,
    )
    return float(line.rsplit(" ", 1)[1]) if line else 0.0


async def test_a_callout_through_two_workers_stays_under_30_per_second_and_asks_each_once(
    double: TelegramDouble,
    tmp_path: Path,
    pg_url: str,
    pg_db: Database,
) -> None:
    double.limits.enforce = True  # Telegram's 30/s per bot, 1/s per chat: 429 above
    one, two = await two_workers(double, pg_url, tmp_path, TELEGRAM_RATE="30")
    try:
        started = time.monotonic()
        await callout_scene(pg_db, double, CALLOUT_PEOPLE)
        await wait_until_sent(pg_db, 90, one, two)
        took = time.monotonic() - started
        shares = (await sent_by(one), await sent_by(two))
    finally:
        await stop_both(one, two)
    got = copies(double, CALLOUT_PEOPLE)
    print(
        f"\ncallout to {CALLOUT_PEOPLE} through two workers: {took:.1f} s"
        f" ({CALLOUT_PEOPLE / took:.1f} msg/s), sent {shares[0]:.0f} + {shares[1]:.0f},"
        f" 429s: {double.too_many_requests}"
    )
    assert double.too_many_requests == 0
    assert got == [1] * CALLOUT_PEOPLE
    assert min(shares) > 0, "one worker did all the sending"


async def test_a_worker_killed_mid_callout_leaves_the_rest_to_the_other(
    double: TelegramDouble,
    tmp_path: Path,
    pg_url: str,
    pg_db: Database,
) -> None:
    double.limits.enforce = True
    one, two = await two_workers(
        double, pg_url, tmp_path, TELEGRAM_RATE="30", OUTBOX_BATCH_SIZE="20"
    )
    try:
        await callout_scene(pg_db, double, KILL_PEOPLE)
        deadline = time.monotonic() + 60
        while sum(copies(double, KILL_PEOPLE)) < KILL_PEOPLE // 3:
            assert time.monotonic() < deadline
            await asyncio.sleep(0.01)
        one.process.send_signal(signal.SIGKILL)
        await one.process.wait()
        at_kill = sum(copies(double, KILL_PEOPLE))
        await wait_until_sent(pg_db, 60, two)
    finally:
        await stop_both(one, two)
    got = copies(double, KILL_PEOPLE)
    duplicates = sum(n - 1 for n in got if n > 1)
    print(
        f"\nkill -9 of one worker with {at_kill} of {KILL_PEOPLE} sent: the other finished,"
        f" {duplicates} duplicates, 429s: {double.too_many_requests}"
    )
    assert at_kill < KILL_PEOPLE, "the kill did not land mid-callout"
    assert min(got) >= 1, f"{got.count(0)} people were never asked"
    assert duplicates <= 20  # at most the batch the dead worker had in flight
    assert double.too_many_requests == 0


async def help_answered(double: TelegramDouble, worker: Worker) -> None:
    """Camille sends /help and, within 20 s, gets an answer (from whichever worker polls)."""
    double.user(1, "Camille")
    double.send_text(1, "/help")
    deadline = time.monotonic() + 20
    while not double.messages[1]:
        assert time.monotonic() < deadline, worker.output()
        await asyncio.sleep(0.05)


async def test_run_workers_2_polls_once_shares_port_and_metrics_and_stops_on_sigterm(
    double: TelegramDouble,
    tmp_path: Path,
    pg_url: str,
) -> None:
    port = free_port()
    bot = await start_worker(double, pg_url, port, tmp_path, "--workers", "2")
    try:
        await help_answered(double, bot)
        await asyncio.sleep(4)  # a second poller would have knocked by now
        async with httpx.AsyncClient() as client:
            scrapes = [
                (await client.get(f"http://127.0.0.1:{port}/metrics")).text for _ in range(6)
            ]
        # While both run (on stop, python-telegram-bot's last getUpdates ends its own
        # abandoned long poll, which the double cannot tell from a second poller).
        conflicts = double.conflicts
    finally:
        stopped_at = time.monotonic()
        code = await stop_worker(bot)
        took = time.monotonic() - stopped_at
    assert code == 0, bot.output()
    assert took < 10
    assert len(double.messages[1]) == 1  # one answer: the update went to one worker
    assert conflicts == 0  # one poller at a time
    # Whichever worker answers the scrape, it counts the whole bot's traffic.
    assert all('renfort_inbound_total{channel="telegram"} 1.0' in text for text in scrapes)
    assert bot.output().count("this worker polls Telegram") == 1


async def test_when_the_polling_worker_dies_another_one_polls(
    double: TelegramDouble,
    tmp_path: Path,
    pg_url: str,
) -> None:
    workers = [
        await start_worker(double, pg_url, free_port(), tmp_path, WORKERS="2") for _ in range(2)
    ]
    try:
        deadline = time.monotonic() + 15
        while not any("this worker polls Telegram" in w.output() for w in workers):
            assert time.monotonic() < deadline
            await asyncio.sleep(0.1)
        poller, other = sorted(workers, key=lambda w: "this worker polls" not in w.output())
        assert "this worker polls" not in other.output()
        poller.process.send_signal(signal.SIGKILL)
        await poller.process.wait()
        await help_answered(double, other)
    finally:
        await stop_both(*workers)
    assert "this worker polls Telegram" in other.output()
    assert len(double.messages[1]) == 1


async def test_a_due_wave_is_sent_once_when_both_workers_tick_at_once(
    double: TelegramDouble,
    tmp_path: Path,
    pg_url: str,
    pg_db: Database,
) -> None:
    # 20 needed: wave 1 asks 60 of the 300; nobody answers and its wait is over, so
    # both workers' first tick (at start) finds wave 2 due at the same moment.
    callout = await callout_scene(pg_db, double, KILL_PEOPLE, needed=20)
    async with pg_db.transaction("test_wave_due") as conn:
        await conn.execute(
            update(C)
            .where(C.c.id == callout)
            .values(next_wave_at=datetime.now(UTC) - timedelta(minutes=1))
        )
    workers = await asyncio.gather(
        *(start_worker(double, pg_url, free_port(), tmp_path, WORKERS="2") for _ in range(2))
    )
    try:
        await wait_until_sent(pg_db, 60, *workers)
        await asyncio.sleep(1)
        await wait_until_sent(pg_db, 60, *workers)
    finally:
        await stop_both(*workers)
    async with pg_db.reading("test_waves") as conn:
        waves_sent = await conn.scalar(select(C.c.waves_sent).where(C.c.id == callout))
        rows = await conn.execute(
            select(R.c.wave, func.count()).where(R.c.callout_id == callout).group_by(R.c.wave)
        )
        asked = {int(wave): int(n) for wave, n in rows.all()}
    got = copies(double, KILL_PEOPLE)
    print(f"\ntwo workers ticking together: waves {waves_sent}, asked per wave {asked}")
    assert waves_sent == 2 and asked == {1: 60, 2: 20}
    assert sum(got) == 80 and max(got) == 1
