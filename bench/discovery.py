"""How fast a volunteer discovers missions at the scale of a département and beyond: 100,000
missions spread over France (most around towns, a few remote), 10 slots each, 1,000,000
applications, on SQLite and PostgreSQL. Times the discovery call (`/missions`, SMS
MISSIONS) for a radius of 5 km, 30 km and everywhere, with and without filters, later
pages reached with the next-page cursor (the pages before read untimed), and the mission
detail; p50 and p99 over people living where the missions are. The
floor is a read transaction that selects 1 on the same database, run just before each call
so that both see the same load.

Run: `python -m bench.discovery [--missions N] [--engines sqlite,postgresql] [--queries N]`.
The SQLite file is cached under the temporary directory; the PostgreSQL database
`renfort_bench` is created, filled and dropped by each run."""

from __future__ import annotations

import argparse
import asyncio
import random
import sqlite3
import statistics
import tempfile
import time
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import asyncpg
from sqlalchemy import text

from bench.table import Row
from bot.domain import DOMAINS, GeoPoint
from bot.services import discovery_cache, missions
from storage.database import Database
from storage.migrate import upgrade_sync

NOW = datetime(2027, 6, 7, 9, 0, tzinfo=UTC)
LAT, LON = (42.5, 51.0), (-4.5, 8.0)  # metropolitan France, roughly
SLOTS_PER_MISSION = 10
APPLICATIONS_PER_MISSION = 10
PEOPLE = 100_000
ORGANISATIONS = 2_000
PG_ADMIN = "postgresql://root@127.0.0.1/postgres"
PG_BENCH = "renfort_bench"
GOAL_MS = 20.0
VERSION = 6  # bump when the generated data changes, to rebuild cached files


@dataclass(frozen=True)
class Data:
    """Generated rows, as Python values, the same for both engines."""

    organisations: list[tuple[Any, ...]]
    people: list[tuple[Any, ...]]
    missions: list[tuple[Any, ...]]
    slots: list[tuple[Any, ...]]
    applications: list[tuple[Any, ...]]
    homes: list[GeoPoint]  # where people asking live: near missions, as people do


def generate(mission_count: int, seed: int = 7) -> Data:
    rng = random.Random(seed)
    created = NOW - timedelta(days=60)
    towns = [
        (rng.uniform(*LAT), rng.uniform(*LON), rng.choice((0.05, 0.1, 0.3))) for _ in range(80)
    ]
    organisations = [
        (
            i,
            f"Organisation {i}",
            f"INV{i:08d}",
            rng.random() < 0.7,
            rng.choice((None, *range(20, 101))),
            created,
        )
        for i in range(1, ORGANISATIONS + 1)
    ]
    people = [(i, f"P{i}", created) for i in range(1, PEOPLE + 1)]
    domains = list(DOMAINS)
    mission_rows: list[tuple[Any, ...]] = []
    slot_rows: list[tuple[Any, ...]] = []
    application_rows: list[tuple[Any, ...]] = []
    homes: list[GeoPoint] = []
    slot_id = application_id = 0
    for mission_id in range(1, mission_count + 1):
        remote = rng.random() < 0.02
        if remote:
            lat = lon = None
        elif rng.random() < 0.7:
            town_lat, town_lon, spread = rng.choice(towns)
            lat, lon = rng.gauss(town_lat, spread), rng.gauss(town_lon, spread * 1.4)
        else:
            lat, lon = rng.uniform(*LAT), rng.uniform(*LON)
        if lat is not None and lon is not None and len(homes) < 5_000:
            homes.append(GeoPoint(lat + rng.gauss(0, 0.02), lon + rng.gauss(0, 0.03)))
        status = "published" if rng.random() < 0.95 else "closed"
        organisation_id = rng.randint(1, ORGANISATIONS)
        score = organisations[organisation_id - 1][4]
        mission_rows.append(
            (
                mission_id,
                organisation_id,
                f"Mission {mission_id}",
                "",
                rng.choice(domains),
                f"{mission_id} rue de la République",
                f"{rng.randint(1, 95):02d}000",
                lat,
                lon,
                remote,
                "Europe/Paris",
                status,
                created,
                created,
                50 if score is None else score,  # the organisation's kept score
            )
        )
        first = NOW + timedelta(days=rng.uniform(-20, 60))
        for k in range(SLOTS_PER_MISSION):
            slot_id += 1
            starts = first + timedelta(days=k * rng.choice((1, 2, 7)), hours=rng.choice((0, 5)))
            capacity = rng.randint(1, 4)
            # About one slot in five is full, some with a waiting list.
            wanted = (
                capacity + rng.randint(0, 2) if rng.random() < 0.2 else rng.randint(0, capacity - 1)
            )
            taken = waitlisted = 0
            for _ in range(wanted):
                application_id += 1
                if taken < capacity:
                    status_a = rng.choice(("pending", "approved", "confirmed"))
                    taken += 1
                else:
                    status_a = "waitlisted"
                    waitlisted += 1
                application_rows.append(
                    (application_id, slot_id, rng.randint(1, PEOPLE), status_a, created, created)
                )
            slot_rows.append(
                (
                    slot_id,
                    mission_id,
                    starts,
                    starts + timedelta(hours=5),
                    capacity,
                    taken,
                    waitlisted,
                    created,
                )
            )
    return Data(organisations, people, mission_rows, slot_rows, application_rows, homes)


def _naive(value: Any) -> Any:
    return value.astimezone(UTC).replace(tzinfo=None) if isinstance(value, datetime) else value


def _stamp(value: Any) -> Any:
    """SQLAlchemy's SQLite storage of a UTC datetime."""
    if isinstance(value, datetime):
        return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")
    return value


INSERTS: dict[str, tuple[str, Callable[[Data], list[tuple[Any, ...]]]]] = {
    "organisations": (
        "id, name, invite_code, verified, reactivity, created_at",
        lambda d: d.organisations,
    ),
    "people": (
        "id, first_name, created_at",
        lambda d: d.people,
    ),
    "missions": (
        "id, organisation_id, title, description, domain, address, postcode, latitude,"
        " longitude, remote, timezone, status, created_at, published_at, reactivity",
        lambda d: d.missions,
    ),
    "slots": (
        "id, mission_id, starts_at, ends_at, capacity, taken, waitlisted, created_at",
        lambda d: d.slots,
    ),
    "applications": (
        "id, slot_id, person_id, status, created_at, updated_at",
        lambda d: d.applications,
    ),
}
PEOPLE_EXTRA = ", phone_shared, interests, availability, attended_count, no_show_count, updated_at"


def fill_sqlite(path: Path, data: Data) -> None:
    upgrade_sync(f"sqlite:///{path}")
    db = sqlite3.connect(path)
    db.execute("PRAGMA synchronous=OFF")
    with db:
        for table, (columns, rows) in INSERTS.items():
            values: Iterator[tuple[Any, ...]] = (tuple(map(_stamp, r)) for r in rows(data))
            if table == "people":
                values = ((*r, 0, "[]", "{}", 0, 0, r[-1]) for r in values)
                columns += PEOPLE_EXTRA
            marks = ", ".join("?" * len(columns.split(",")))
            db.executemany(f"INSERT INTO {table} ({columns}) VALUES ({marks})", values)
    db.close()


async def fill_postgresql(url: str, data: Data) -> None:
    await asyncio.to_thread(upgrade_sync, url)
    conn = await asyncpg.connect(url)
    try:
        for table, (columns, rows) in INSERTS.items():
            records: list[tuple[Any, ...]] = [tuple(map(_naive, r)) for r in rows(data)]
            names = [c.strip() for c in columns.split(",")]
            if table == "people":
                records = [(*r, False, "[]", "{}", 0, 0, r[-1]) for r in records]
                names += [c.strip() for c in PEOPLE_EXTRA.strip(", ").split(",")]
            await conn.copy_records_to_table(table, records=records, columns=names)
        await conn.execute("ANALYZE")  # what autovacuum does on a live database
    finally:
        await conn.close()


def warm(path: Path) -> None:
    """Read the database file once, as a running service's database sits in the page cache:
    this machine drops a file from its cache within minutes, and the first cases then timed
    the disk (a 640 MB file read page by page), which the floor never touches."""
    with path.open("rb") as file:
        while file.read(1 << 20):
            pass


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


Call = Callable[[GeoPoint], Awaitable[Any]]


class LaterPage:
    """The page reached with the next-page button: the cursors of the pages before are read
    first, untimed, as the button had them stored."""

    def __init__(self, db: Database, radius: int | None, page: int) -> None:
        self.db, self.radius, self.page = db, radius, page
        self.cursors: dict[GeoPoint, missions.Cursor | None] = {}

    async def prepare(self, home: GeoPoint) -> None:
        cursor = None
        for _ in range(self.page - 1):
            found = await missions.discover(
                self.db, now=NOW, near=home, radius_km=self.radius, after=cursor
            )
            cursor = found.next
        self.cursors[home] = cursor

    async def __call__(self, home: GeoPoint) -> Any:
        return await missions.discover(
            self.db, now=NOW, near=home, radius_km=self.radius, after=self.cursors[home]
        )


def cases(db: Database, detail_ids: list[int]) -> dict[str, Call]:
    week = (NOW, NOW + timedelta(days=7))
    detail = iter(detail_ids * 100)

    def search(radius: int | None, **extra: Any) -> Call:
        async def call(home: GeoPoint) -> Any:
            return await missions.discover(db, now=NOW, near=home, radius_km=radius, **extra)

        return call

    async def show(home: GeoPoint) -> Any:
        return await missions.mission_detail(db, next(detail))

    async def floor(home: GeoPoint) -> Any:
        async with db.reading("floor") as conn:
            return await conn.scalar(text("SELECT 1"))

    return {
        "floor (select 1)": floor,
        "5 km": search(5),
        "30 km": search(30),
        "everywhere": search(None),
        "30 km, domain + 7 days": search(
            30, domains=("solidarity",), date_from=week[0], date_to=week[1]
        ),
        "everywhere, domain + 7 days": search(
            None, domains=("health",), date_from=week[0], date_to=week[1]
        ),
        "5 km, page 3": LaterPage(db, 5, 3),
        "30 km, page 3": LaterPage(db, 30, 3),
        "everywhere, page 5": LaterPage(db, None, 5),
        "mission detail": show,
    }


Figures = dict[str, tuple[float, float, float, float]]  # p50, p99, floor p50, floor p99


async def measure(url: str, homes: list[GeoPoint], queries: int, mission_count: int) -> Figures:
    """Each case alternates with the floor, so both see the same load on a shared machine.
    The reads themselves are timed: no page is kept for the next asking the same."""
    discovery_cache.KEEP_SECONDS = 0.0
    db = Database(url)
    rng = random.Random(3)
    detail_ids = [rng.randint(1, mission_count) for _ in range(queries)]
    figures: Figures = {}
    calls = cases(db, detail_ids)
    floor = calls.pop("floor (select 1)")
    try:
        for name, call in calls.items():
            asked = rng.sample(homes, min(queries, len(homes)))
            if isinstance(call, LaterPage):
                for home in {*homes[:10], *asked}:
                    await call.prepare(home)
            for home in homes[:10]:  # warm the caches and the connection pool
                await call(home)
            times, floors = [], []
            for home in asked:
                started = time.perf_counter()
                await floor(home)
                between = time.perf_counter()
                await call(home)
                ended = time.perf_counter()
                floors.append((between - started) * 1000)
                times.append((ended - between) * 1000)
            figures[name] = (
                statistics.median(times),
                percentile(times, 0.99),
                statistics.median(floors),
                percentile(floors, 0.99),
            )
    finally:
        await db.close()
    return figures


async def run_engine(engine: str, data: Data, mission_count: int, queries: int) -> Figures:
    if engine == "sqlite":
        path = (
            Path(tempfile.gettempdir()) / f"renfort-bench-discovery-{mission_count}-v{VERSION}.db"
        )
        if not path.exists():
            partial = path.with_suffix(".partial")
            partial.unlink(missing_ok=True)
            await asyncio.to_thread(fill_sqlite, partial, data)
            partial.rename(path)
        await asyncio.to_thread(warm, path)
        return await measure(f"sqlite:///{path}", data.homes, queries, mission_count)
    admin = await asyncpg.connect(PG_ADMIN)
    try:
        await admin.execute(f"DROP DATABASE IF EXISTS {PG_BENCH}")
        await admin.execute(f"CREATE DATABASE {PG_BENCH}")
        url = PG_ADMIN.rsplit("/", 1)[0] + "/" + PG_BENCH
        await fill_postgresql(url, data)
        return await measure(url, data.homes, queries, mission_count)
    finally:
        await admin.execute(f"DROP DATABASE IF EXISTS {PG_BENCH} WITH (FORCE)")
        await admin.close()


def collect(mission_count: int, engines: list[str], queries: int) -> list[Row]:
    started = time.perf_counter()
    data = generate(mission_count)
    print(
        f"generated {len(data.missions):,} missions, {len(data.slots):,} slots,"
        f" {len(data.applications):,} applications in {time.perf_counter() - started:.1f} s",
        flush=True,
    )
    rows = []
    for engine in engines:
        figures = asyncio.run(run_engine(engine, data, mission_count, queries))
        for name, (p50, p99, floor50, floor99) in figures.items():
            print(
                f"{engine:10} {name:28} p50 {p50:6.2f} ms  p99 {p99:6.2f} ms"
                f"  (floor p50 {floor50:.2f} ms, p99 {floor99:.2f} ms)",
                flush=True,
            )
            rows.append(
                Row(
                    f"discovery {engine} {mission_count:,} missions: {name} p99",
                    p99,
                    "ms",
                    f"≤ {GOAL_MS:.0f} ms",
                    p99 <= GOAL_MS,
                    baseline=floor99,
                )
            )
    return rows


def rows(quick: bool) -> list[Row]:
    return collect(10_000 if quick else 100_000, ["sqlite", "postgresql"], 100 if quick else 300)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--missions", type=int, default=100_000)
    parser.add_argument("--engines", default="sqlite,postgresql")
    parser.add_argument("--queries", type=int, default=300)
    args = parser.parse_args()
    from bench.table import render

    print(render(collect(args.missions, args.engines.split(","), args.queries)))


if __name__ == "__main__":
    main()
