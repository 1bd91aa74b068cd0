"""How long a crisis callout takes to target on a large register: 1,000,000 registered
volunteers in SQLite spread over France, a callout whose radius holds about 100,000 of them.
Times the preview count, the launch (targeting + first wave queued), a full targeting pass,
and a wave asking everyone; reports how much the process grew. The floor is the bare scan
of the radius's bounding box (a COUNT through sqlite3, no rule at all) in the same run.
Run: `python -m bench.targeting [--people N] [--radius KM] [--needed N]`."""

from __future__ import annotations

import argparse
import asyncio
import random
import resource
import sqlite3
import tempfile
import time
import tracemalloc
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from bench.table import Row
from bot.domain import GeoPoint
from bot.geo import bounding_box
from bot.services import callouts
from bot.services.callout_targeting import candidates
from bot.services.callout_waves import load, target_of
from storage.database import Database
from storage.migrate import upgrade_sync

NOW = datetime(2027, 6, 7, 9, 0, tzinfo=UTC)  # a Monday, 11:00 in Paris: no quiet hours
CENTRE = (46.6, 2.4)  # the middle of France
LAT, LON = (42.5, 51.0), (-4.5, 8.0)
DOMAINS = ("solidarity", "health", "emergency", "environment", "neighbourhood")
COORDINATOR = 1
PEOPLE, RADIUS_KM, NEEDED = 1_000_000, 185, 100
PREVIEW_GOAL_MS, LAUNCH_GOAL_MS, GROWTH_GOAL_MB = 500, 1000, 50
BEFORE = {"preview": 2100, "launch": 2500}  # the figures (ms) on this machine


def stamp(when: datetime) -> str:
    """SQLAlchemy's SQLite storage of a UTC datetime."""
    return when.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")


def _people(count: int, rng: random.Random) -> Iterator[tuple[Any, ...]]:
    created = stamp(NOW - timedelta(days=90))
    for i in range(1, count + 1):
        telegram = rng.random() < 0.8
        phone = f"+336{i:08d}" if not telegram or rng.random() < 0.3 else None
        interests = '["' + '","'.join(rng.sample(DOMAINS, rng.randint(1, 3))) + '"]'
        yield (
            i,
            f"P{i}",
            i if telegram else None,
            i if telegram else None,
            created if telegram and rng.random() < 0.03 else None,  # blocked the bot
            phone,
            created if phone and rng.random() < 0.05 else None,  # sent STOP
            rng.uniform(*LAT),
            rng.uniform(*LON),
            interests,
            rng.choice((0, 0, 0, 1, 2, 5, 12)),
            rng.choice((0,) * 12 + (1, 2)),
            created,
        )


def fill(path: Path, people: int, seed: int = 11) -> int:
    """People, an organisation and its mission, and the commitments and recent callouts that
    targeting must exclude; returns the slot id. Straight through sqlite3, in bulk."""
    rng = random.Random(seed)
    created = stamp(NOW - timedelta(days=30))
    starts = NOW + timedelta(hours=6)
    db = sqlite3.connect(path)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA synchronous=OFF")
    with db:
        db.executemany(
            "INSERT INTO people (id, first_name, phone_shared, telegram_user_id,"
            " telegram_chat_id, telegram_unreachable_at, phone, sms_stopped_at, latitude,"
            " longitude, interests, availability, attended_count, no_show_count, locale,"
            " registered_at, created_at, updated_at)"
            " VALUES (?, ?, 0, ?, ?, ?, ?, ?, ?, ?, ?, '{}', ?, ?, 'fr', ?, ?, ?)",
            ((*row, row[-1], row[-1]) for row in _people(people, rng)),
        )
        db.execute(
            "INSERT INTO organisations (id, name, invite_code, verified, created_at,"
            " attendance_check, offer_window_hours) VALUES (1, 'Préfecture', 'CODE1', 1, ?, 1, 12)",
            (created,),
        )
        db.execute(
            "INSERT INTO members (organisation_id, person_id, role, created_at)"
            " VALUES (1, ?, 'owner', ?)",
            (COORDINATOR, created),
        )
        db.execute(
            "INSERT INTO missions (id, organisation_id, title, description, domain, address,"
            " latitude, longitude, remote, timezone, status, created_at) VALUES (1, 1,"
            " 'Sacs de sable, digue de la Loire', '', 'emergency', 'Quai de Loire', ?, ?, 0,"
            " 'Europe/Paris', 'published', ?)",
            (*CENTRE, created),
        )
        db.executemany(
            "INSERT INTO slots (id, mission_id, starts_at, ends_at, capacity, created_at)"
            " VALUES (?, 1, ?, ?, ?, ?)",
            [
                (1, stamp(starts), stamp(starts + timedelta(hours=4)), 50_000, created),
                # Another commitment at the same time: its people are busy.
                (2, stamp(starts), stamp(starts + timedelta(hours=3)), 50_000, created),
            ],
        )
        db.executemany(
            "INSERT INTO applications (slot_id, person_id, status, created_at, updated_at)"
            f" VALUES (2, ?, 'approved', '{created}', '{created}')",
            ((p,) for p in rng.sample(range(1, people + 1), people // 100)),
        )
        # Earlier callouts this week: some people reached the cap of three.
        db.executemany(
            "INSERT INTO callouts (id, organisation_id, slot_id, needed, status, domains,"
            " channels, urgent, wave_factor, wave_wait_minutes, waves_sent, created_at,"
            " updated_at) VALUES (?, 1, 2, 10, 'filled', '[]', '[]', 0, 3, 15, 1, ?, ?)",
            [(i, created, created) for i in (1, 2, 3)],
        )
        recent = stamp(NOW - timedelta(days=2))
        asked = rng.sample(range(1, people + 1), people // 20)
        db.executemany(
            "INSERT INTO callout_recipients (callout_id, person_id, wave, rank, created_at)"
            " VALUES (?, ?, 1, 1, ?)",
            ((c, p, recent) for p in asked for c in ((1, 2, 3) if p % 4 == 0 else (1,))),
        )
    db.execute("ANALYZE")
    db.close()
    return 1


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def rss_mb() -> float:
    """The process's resident memory now."""
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * resource.getpagesize() / 2**20


def bare_scan_s(path: Path, radius: int) -> float:
    """The floor: counting the people in the bounding box, nothing else, best of three."""
    lat_min, lat_max, lon_min, lon_max = bounding_box(GeoPoint(*CENTRE), radius)
    db = sqlite3.connect(path)
    best = float("inf")
    for _ in range(3):
        started = time.perf_counter()
        db.execute(
            "SELECT count(*) FROM people WHERE latitude BETWEEN ? AND ?"
            " AND longitude BETWEEN ? AND ?",
            (lat_min, lat_max, lon_min, lon_max),
        ).fetchone()
        best = min(best, time.perf_counter() - started)
    db.close()
    return best


async def run(url: str, slot_id: int, radius: int, needed: int) -> dict[str, Any]:
    db = Database(url)
    targeting = callouts.Targeting(radius_km=radius)
    figures: dict[str, Any] = {"rss_before_mb": rss_mb()}
    try:
        started = time.perf_counter()
        figures["matched"] = await callouts.preview(
            db, organisation_id=1, slot_id=slot_id, targeting=targeting, now=NOW
        )
        figures["preview_s"] = time.perf_counter() - started

        started = time.perf_counter()
        view = await callouts.launch(
            db, actor_id=COORDINATOR, slot_id=slot_id, needed=needed, targeting=targeting, now=NOW
        )
        figures["launch_s"] = time.perf_counter() - started
        figures["first_wave"] = view.asked
        figures["rss_after_mb"] = rss_mb()

        async with db.reading("bench_pass") as conn:
            row = await load(conn, view.id)
            assert row is not None
            started = time.perf_counter()
            pool = await candidates(conn, target_of(row), NOW)
            figures["pass_s"] = time.perf_counter() - started
            # Again under tracemalloc, which slows Python down: memory only.
            tracemalloc.start()
            await candidates(conn, target_of(row), NOW)
            figures["pass_peak_mb"] = tracemalloc.get_traced_memory()[1] / 2**20
            tracemalloc.stop()
        figures["pass_size"] = len(pool)

        # Everyone left at once: what a wave the size of the whole pool costs to queue.
        await callouts.stop(db, actor_id=COORDINATOR, callout_id=view.id, now=NOW)
        everyone = -(-figures["matched"] // 3)
        started = time.perf_counter()
        big = await callouts.launch(
            db,
            actor_id=COORDINATOR,
            slot_id=slot_id,
            needed=everyone,
            targeting=targeting,
            now=NOW + timedelta(seconds=1),
        )
        figures["full_wave_s"] = time.perf_counter() - started
        figures["full_wave"] = big.asked
    finally:
        await db.close()
    return figures


def measure(people: int, radius: int, needed: int) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "bench.db"
        url = f"sqlite:///{path}"
        upgrade_sync(url)
        started = time.perf_counter()
        slot_id = fill(path, people)
        print(f"filled {people:,} people in {time.perf_counter() - started:.1f} s", flush=True)
        figures = asyncio.run(run(url, slot_id, radius, needed))
        figures["floor_s"] = bare_scan_s(path, radius)
    return figures


def rows(quick: bool) -> list[Row]:
    """Preview, launch and memory growth, on a million people or a tenth of them."""
    people = PEOPLE // (10 if quick else 1)
    f = measure(people, RADIUS_KM, NEEDED)
    floor_ms = f["floor_s"] * 1000
    preview_ms, launch_ms = f["preview_s"] * 1000, f["launch_s"] * 1000
    growth = f["rss_after_mb"] - f["rss_before_mb"]
    return [
        Row(
            f"callout preview over {people:,} people",
            preview_ms,
            "ms",
            f"<= {PREVIEW_GOAL_MS} ms",
            preview_ms <= PREVIEW_GOAL_MS,
            floor_ms,
        ),
        Row(
            f"callout launch over {people:,} people",
            launch_ms,
            "ms",
            f"<= {LAUNCH_GOAL_MS} ms",
            launch_ms <= LAUNCH_GOAL_MS,
            floor_ms,
        ),
        Row(
            "memory growth over preview + launch",
            growth,
            "MB",
            f"<= {GROWTH_GOAL_MB} MB",
            growth <= GROWTH_GOAL_MB,
        ),
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--people", type=int, default=PEOPLE)
    parser.add_argument("--radius", type=int, default=None, help="km; default: ~10%% match")
    parser.add_argument("--needed", type=int, default=NEEDED)
    args = parser.parse_args()
    # People are spread evenly, so the share inside the circle is its share of the area.
    radius = args.radius or RADIUS_KM
    f = measure(args.people, radius, args.needed)
    floor_ms = f["floor_s"] * 1000
    print(f"radius {radius} km: {f['matched']:,} people match (of {args.people:,})")
    print(f"floor, the bare bounding-box scan: {floor_ms:.0f} ms")
    print(
        f"preview: {f['preview_s'] * 1000:.0f} ms (goal <= {PREVIEW_GOAL_MS} ms; before:"
        f" {BEFORE['preview']} ms); ratio to the floor {f['preview_s'] * 1000 / floor_ms:.1f}"
    )
    print(
        f"launch, first wave of {f['first_wave']} queued (needed {args.needed}):"
        f" {f['launch_s'] * 1000:.0f} ms (goal <= {LAUNCH_GOAL_MS} ms; before:"
        f" {BEFORE['launch']} ms); ratio to the floor {f['launch_s'] * 1000 / floor_ms:.1f}"
    )
    print(
        f"full targeting pass over {f['pass_size']:,} people: {f['pass_s'] * 1000:.0f} ms,"
        f" Python peak {f['pass_peak_mb']:.0f} MB (tracemalloc)"
    )
    print(f"a wave asking all {f['full_wave']:,} at once: {f['full_wave_s']:.1f} s")
    print(
        f"resident memory: {f['rss_before_mb']:.0f} MB before the preview,"
        f" {f['rss_after_mb']:.0f} MB after the launch; process peak {peak_rss_mb():.0f} MB"
    )


if __name__ == "__main__":
    main()
