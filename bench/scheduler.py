"""How long one scheduler tick takes on a large database: 100,000 future slots and
1,000,000 applications in SQLite, every registered job timed on its own. The goal is under
a second per tick. Run: `python -m bench.scheduler [--slots N] [--applications N]`."""

from __future__ import annotations

import argparse
import asyncio
import random
import sqlite3
import statistics
import tempfile
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from bot.config import Settings
from bot.geo import Geocoder
from bot.runtime import Renfort
from bot.scheduler.tick import jobs
from storage.database import Database
from storage.migrate import upgrade_sync

START = datetime(2027, 6, 7, 7, 0, tzinfo=UTC)  # a Monday morning
PARIS = ZoneInfo("Europe/Paris")
SLOTS_PER_MISSION = 10
ORGANISATIONS = 200
# What the applications of a busy year look like.
STATUSES = ("approved",) * 6 + ("confirmed", "pending", "pending", "cancelled")


def stamp(when: datetime) -> str:
    """SQLAlchemy's SQLite storage of a UTC datetime."""
    return when.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")


def fill(path: Path, slots: int, applications: int, seed: int = 7) -> None:
    """Bulk rows straight through sqlite3: the ORM would take longer than the benchmark."""
    rng = random.Random(seed)
    created = stamp(START - timedelta(days=30))
    people = max(applications // 5, 1)
    missions = max(slots // SLOTS_PER_MISSION, 1)
    db = sqlite3.connect(path)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA synchronous=OFF")
    with db:
        db.executemany(
            "INSERT INTO organisations (id, name, invite_code, verified, created_at)"
            " VALUES (?, ?, ?, 1, ?)",
            (
                (i, f"Organisation {i}", f"CODE{i:06d}", created)
                for i in range(1, ORGANISATIONS + 1)
            ),
        )
        db.executemany(
            "INSERT INTO people (id, first_name, phone_shared, interests, availability,"
            " attended_count, no_show_count, telegram_user_id, telegram_chat_id, locale,"
            " registered_at, created_at, updated_at)"
            " VALUES (?, ?, 0, '[]', '{}', 0, 0, ?, ?, 'fr', ?, ?, ?)",
            ((i, f"P{i}", i, i, created, created, created) for i in range(1, people + 1)),
        )
        db.executemany(
            "INSERT INTO missions (id, organisation_id, title, description, domain, address,"
            " remote, timezone, status, created_at) VALUES (?, ?, ?, '', 'solidarity', ?, 0,"
            " 'Europe/Paris', 'published', ?)",
            (
                (i, 1 + i % ORGANISATIONS, f"Mission {i}", f"{i} rue de la Paix", created)
                for i in range(1, missions + 1)
            ),
        )

        def slot_rows() -> Iterator[tuple[int, int, str, str, int]]:
            for i in range(1, slots + 1):
                day = START.astimezone(PARIS).date() + timedelta(days=rng.randrange(365))
                local = datetime.combine(day, datetime.min.time(), PARIS).replace(
                    hour=rng.randrange(7, 21)
                )
                begins = local.astimezone(UTC)
                yield (i, 1 + i % missions, stamp(begins), stamp(begins + timedelta(hours=4)), 10)

        db.executemany(
            "INSERT INTO slots (id, mission_id, starts_at, ends_at, capacity, created_at)"
            f" VALUES (?, ?, ?, ?, ?, '{created}')",
            slot_rows(),
        )
        db.executemany(
            "INSERT INTO applications (slot_id, person_id, status, created_at, updated_at)"
            f" VALUES (?, ?, ?, '{created}', '{created}')",
            (
                (1 + i % slots, rng.randrange(1, people + 1), rng.choice(STATUSES))
                for i in range(applications)
            ),
        )
    db.execute("ANALYZE")
    db.close()


async def time_ticks(url: str, ticks: int) -> list[dict[str, float]]:
    """Each tick a minute after the previous one; per job seconds, and the total."""
    db = Database(url)
    settings = Settings(_env_file=None, database_url=url)  # type: ignore[call-arg]
    now = START
    renfort = Renfort(settings=settings, db=db, geocoder=Geocoder(None), clock=lambda: now)
    results: list[dict[str, float]] = []
    try:
        for _ in range(ticks):
            timings: dict[str, float] = {}
            for name, job in jobs():
                started = time.perf_counter()
                done = await job(renfort, now)
                timings[name] = time.perf_counter() - started
                timings[f"{name} (items)"] = done
            timings["tick"] = sum(v for k, v in timings.items() if not k.endswith("(items)"))
            results.append(timings)
            now += timedelta(minutes=1)
    finally:
        await db.close()
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--slots", type=int, default=100_000)
    parser.add_argument("--applications", type=int, default=1_000_000)
    parser.add_argument("--ticks", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "bench.db"
        url = f"sqlite:///{path}"
        upgrade_sync(url)
        started = time.perf_counter()
        fill(path, args.slots, args.applications)
        print(
            f"filled {args.slots:,} slots and {args.applications:,} applications"
            f" in {time.perf_counter() - started:.1f} s"
        )
        results = asyncio.run(time_ticks(url, args.ticks))
    for number, timings in enumerate(results, 1):
        jobs_text = ", ".join(
            f"{k} {v * 1000:.0f} ms ({int(timings[k + ' (items)'])})"
            for k, v in timings.items()
            if not k.endswith("(items)") and k != "tick"
        )
        label = "catch-up" if number == 1 else "steady"
        print(f"tick {number} ({label}): {timings['tick'] * 1000:.0f} ms — {jobs_text}")
    steady = [t["tick"] for t in results[1:]] or [results[0]["tick"]]
    print(f"steady ticks: median {statistics.median(steady) * 1000:.0f} ms (goal < 1000 ms)")


if __name__ == "__main__":
    main()
