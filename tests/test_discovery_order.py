"""Discovery reads rings of growing size around the person and stops once the page is
settled: page after page, the list must be exactly the one read over the whole radius at
once, in the documented order, on SQLite and PostgreSQL."""

from __future__ import annotations

import json
import random
from datetime import timedelta
from itertools import pairwise
from typing import Any

import pytest
from sqlalchemy import update

from bot.domain import GeoPoint
from bot.services import discovery_cache, missions, organisations
from bot.services.missions import MissionCard, MissionSpec, SlotSpec
from storage import schema
from storage.database import Database
from tests.conftest import NOW
from tests.factories import ELECTION_MORNING, SAINT_DIZIER


async def scattered_missions(
    db: Database,
    count: int,
    spreads: tuple[float, ...] = (0.02, 0.2, 1.0),
    *,
    remote_placed: bool = False,
) -> None:
    """Missions up to about 120 km around Saint-Dizier (`spreads`: how far, in degrees of
    latitude), a few remote (with their organisation's address when `remote_placed`), some
    full, from organisations that answer more or less quickly."""
    rng = random.Random(12)
    orgs = [await organisations.create_organisation(db, f"Org {k}", "52100") for k in range(4)]
    async with db.transaction("test") as conn:
        for org, score in zip(orgs, (90, 20, None, 60), strict=True):
            o = schema.organisations
            await conn.execute(update(o).where(o.c.id == org.id).values(reactivity=score))
    for number in range(count):
        remote = number % 3 == 0  # many: they are read a chunk at a time
        spread = rng.choice(spreads)
        point = GeoPoint(
            SAINT_DIZIER.latitude + rng.uniform(-1, 1) * spread,
            SAINT_DIZIER.longitude + rng.uniform(-1, 1) * spread * 1.5,
        )
        starts = ELECTION_MORNING + timedelta(days=rng.randrange(0, 20), hours=number % 5)
        spec = MissionSpec(
            organisation_id=rng.choice(orgs).id,
            title=f"Mission {number}",
            domain=rng.choice(("citizenship", "solidarity")),
            point=None if remote and not remote_placed else point,
            remote=remote,
            slots=(SlotSpec(starts, starts + timedelta(hours=3), 2),),
        )
        mission_id = await missions.create_mission(db, spec, actor_id=None, now=NOW)
        if number % 4 == 1:
            async with db.transaction("test") as conn:
                s = schema.slots
                await conn.execute(
                    update(s).where(s.c.mission_id == mission_id).values(taken=2, waitlisted=1)
                )


async def every_page(
    db: Database, radius_km: int | None, near: GeoPoint | None = SAINT_DIZIER, **filters: Any
) -> list[MissionCard]:
    """The list read a page at a time, each page after the cursor of the one before, the
    cursor going through JSON as a button or an SMS conversation keeps it."""
    listed: list[MissionCard] = []
    cursor: missions.Cursor | None = None
    while True:
        page = await missions.discover(
            db, now=NOW, near=near, radius_km=radius_km, after=cursor, limit=5, **filters
        )
        listed += page.cards
        if page.next is None:
            assert page.total == len(page.cards)  # the last page has read every match
            return listed
        assert len(page.cards) == 5
        cursor = missions.Cursor.of(json.loads(json.dumps(page.next.data())))
        assert cursor == page.next


@pytest.mark.parametrize("nearest_first", [2, missions.NEAREST_FIRST])
async def test_pages_follow_the_order_read_over_the_whole_radius(
    db: Database, monkeypatch: pytest.MonkeyPatch, nearest_first: int
) -> None:
    """With few read at first, rings are read further out, nearest first, many times over."""
    await scattered_missions(db, 70)
    cases: list[tuple[int | None, dict[str, Any]]] = [
        (5, {}),
        (30, {}),
        (None, {}),
        (30, {"domains": ("solidarity",)}),
        (None, {"date_from": NOW + timedelta(days=10)}),
        (5, {"domains": ("citizenship",), "date_to": NOW + timedelta(days=12)}),
        (None, {"domains": ("solidarity",), "date_from": NOW + timedelta(days=3)}),
    ]
    for radius, filters in cases:
        monkeypatch.setattr(missions, "REMOTE_CHUNK", 2)  # remote ones in small chunks
        monkeypatch.setattr(missions, "NEAREST_FIRST", nearest_first)
        paged = await every_page(db, radius, **filters)
        monkeypatch.setattr(missions, "REMOTE_CHUNK", 1000)
        monkeypatch.setattr(missions, "NEAREST_FIRST", 1_000_000)
        whole = await missions.discover(
            db, now=NOW, near=SAINT_DIZIER, radius_km=radius, limit=1000, **filters
        )
        assert [c.id for c in paged] == [c.id for c in whole.cards], (radius, filters)

        # Open before full; local before remote among each; nearest 2 km band first.
        keys = [(c.full, c.remote) for c in paged]
        assert keys == sorted(keys)
        for earlier, later in pairwise(paged):
            if (earlier.full, earlier.remote) == (later.full, later.remote) and not later.remote:
                assert earlier.distance_km is not None and later.distance_km is not None
                assert earlier.distance_km // 2 <= later.distance_km // 2
        for card in paged:
            assert card.remote or radius is None or (card.distance_km or 0) <= radius
    assert any(c.full for c in paged) and any(c.remote for c in paged)


async def test_a_dense_town_read_nearest_first_keeps_the_order(
    db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    """In a town with dozens of missions in each 2 km band, a page is settled from the
    nearest few read: never before every mission of its bands is read, whatever their
    organisations' scores, and remote missions that give an address do not count."""
    await scattered_missions(db, 100, spreads=(0.015,), remote_placed=True)
    monkeypatch.setattr(missions, "NEAREST_FIRST", 1_000_000)
    whole = await missions.discover(db, now=NOW, near=SAINT_DIZIER, radius_km=30, limit=1000)
    monkeypatch.setattr(missions, "NEAREST_GROWTH_MAX", 2)
    monkeypatch.setattr(discovery_cache, "KEEP_SECONDS", 0.0)  # each page read again
    for nearest_first in range(2, 9):  # the nearest read end at many distances
        monkeypatch.setattr(missions, "NEAREST_FIRST", nearest_first)
        paged = await every_page(db, 30)
        assert [c.id for c in paged] == [c.id for c in whole.cards], nearest_first


async def test_pages_without_a_place_follow_the_whole_list(db: Database) -> None:
    await scattered_missions(db, 30)
    paged = await every_page(db, None, near=None, domains=("solidarity",))
    whole = await missions.discover(
        db, now=NOW, near=None, radius_km=None, limit=1000, domains=("solidarity",)
    )
    assert [c.id for c in paged] == [c.id for c in whole.cards]
    assert whole.total == len(paged) > 5


def test_a_damaged_cursor_means_the_first_page() -> None:
    for data in (
        None,
        [],
        ["x"] * 8,
        [1, 2, 3],
        "cursor",
        [False, False, 1, -50, 3.2, "x", 4, 4],
        [False, False, 1, -50, 3.2, NOW.isoformat(), 4, float("nan")],
    ):
        assert missions.Cursor.of(data) is None
