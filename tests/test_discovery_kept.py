"""The first page of missions is kept a moment for the next person asking the same, and
never shown stale after a change: a place taken, a mission changed by a command run beside
the bot, or (within two seconds) by another worker."""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path

import pytest

from bot.domain import GeoPoint
from bot.services import applications, discovery_cache, missions
from storage.database import Database, TransactionCounts, turn_costs
from tests.conftest import NOW
from tests.factories import SAINT_DIZIER, commune, first_slot, polling_station, volunteer


async def first_page(db: Database, near: GeoPoint = SAINT_DIZIER) -> missions.DiscoveryPage:
    return await missions.discover(db, now=NOW, near=near, radius_km=30)


async def reads_of_first_page(db: Database) -> tuple[missions.DiscoveryPage, int]:
    costs = TransactionCounts()
    token = turn_costs.set(costs)
    try:
        page = await first_page(db)
    finally:
        turn_costs.reset(token)
    return page, costs.reads


async def test_the_same_page_for_the_next_person_reads_nothing(db: Database) -> None:
    org = await commune(db)
    await polling_station(db, org.id, now=NOW, capacity=2)
    page, reads = await reads_of_first_page(db)
    assert reads == 1 and page.cards[0].free_places == 2
    again, reads = await reads_of_first_page(db)
    assert reads == 0 and again == page
    elsewhere = await first_page(db, GeoPoint(48.86, 2.35))  # Paris: another page
    assert elsewhere.cards == ()


async def test_a_place_taken_shows_on_the_next_page_asked_for(db: Database) -> None:
    org = await commune(db)
    slot_id = await first_slot(db, await polling_station(db, org.id, now=NOW, capacity=1))
    assert (await first_page(db)).cards[0].free_places == 1
    camille = await volunteer(db, 1, "Camille")
    await applications.apply(db, person_id=camille.id, slot_id=slot_id, now=NOW)
    full = (await first_page(db)).cards[0]
    assert full.free_places == 0 and full.waitlisted == 0


async def test_a_change_made_by_a_command_beside_the_bot_is_seen_at_once(db: Database) -> None:
    org = await commune(db)
    await polling_station(db, org.id, now=NOW, title="Bureau n°1")
    assert len((await first_page(db)).cards) == 1
    beside = Database(db.url.replace("+aiosqlite", "").replace("+asyncpg", ""))
    try:
        await polling_station(beside, org.id, now=NOW, title="Bureau n°2")
    finally:
        await beside.close()
    assert len((await first_page(db)).cards) == 2


async def test_another_workers_change_is_seen_once_the_page_expires(
    sqlite_db: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(discovery_cache, "KEEP_SECONDS", 0.2)
    org = await commune(sqlite_db)
    mission_id = await polling_station(sqlite_db, org.id, now=NOW)
    assert len((await first_page(sqlite_db)).cards) == 1
    # Another process closes the mission: this one's counts do not see it.
    path = sqlite_db.url.removeprefix("sqlite+aiosqlite:///")
    with sqlite3.connect(path) as other:
        other.execute("UPDATE missions SET status = 'closed' WHERE id = ?", (mission_id,))
    await asyncio.sleep(0.3)
    assert (await first_page(sqlite_db)).cards == ()
