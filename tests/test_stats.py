"""Statistics: fill rate, answers, attendance, the chart, reactivity in discovery, the CLI."""

from __future__ import annotations

import json
from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select, update
from typer.testing import CliRunner

from bot.charts import stats_chart
from bot.i18n import Translator
from bot.scheduler.reactivity import refresh_reactivity
from bot.services import applications, missions, organisations, reactivity, stats
from renfort import cli
from storage import schema
from storage.database import Database
from tests.conftest import NOW
from tests.factories import SAINT_DIZIER, commune, first_slot, polling_station, volunteer
from tests.harness import FakeClock
from tests.sms_steps import sms_renfort

PARIS = ZoneInfo("Europe/Paris")


async def answered_after(db: Database, application_id: int, hours: float) -> None:
    """Pretend the application was created `hours` before its decision."""
    e = schema.application_events
    async with db.transaction("test") as conn:
        await conn.execute(
            update(schema.applications)
            .where(schema.applications.c.id == application_id)
            .values(created_at=NOW - timedelta(hours=hours + 1))
        )
        await conn.execute(
            update(e)
            .where(e.c.application_id == application_id)
            .values(at=NOW - timedelta(hours=1))
        )


async def test_stats_on_a_small_scenario(db: Database) -> None:
    org = await commune(db)
    coordinator = await volunteer(db, 1, "Nadia")
    await organisations.join(db, coordinator.id, org.invite_code)
    mission = await polling_station(db, org.id, now=NOW, capacity=4)
    slot = await first_slot(db, mission)
    ids = []
    for k, hours in enumerate((2, 4, 10)):
        person = await volunteer(db, 10 + k, f"V{k}")
        view = await applications.apply(db, person_id=person.id, slot_id=slot, now=NOW)
        await applications.decide(db, application_id=view.id, actor_id=coordinator.id, approve=True)
        await answered_after(db, view.id, hours)
        ids.append(view.id)
    figures = await stats.organisation_stats(db, org.id, now=NOW, zone=PARIS)
    assert (figures.taken, figures.capacity) == (3, 4)
    assert figures.fill_rate == 0.75
    assert figures.applications == 3
    assert figures.median_answer == timedelta(hours=4)
    assert figures.reactivity.share_in_time == 1.0
    assert figures.score is not None and figures.score > 90
    assert sum(count for _, count in figures.weekly) == 3
    png = stats_chart(figures, Translator("en"))
    assert png.startswith(b"\x89PNG\r\n\x1a\n") and len(png) > 1000


async def test_quick_organisations_come_first_at_a_similar_distance(db: Database) -> None:
    slow, quick = await commune(db, "Lente"), await commune(db, "Rapide")
    coordinator = await volunteer(db, 1, "Nadia")
    for org in (slow, quick):
        await organisations.join(db, coordinator.id, org.invite_code)
    slow_mission = await polling_station(db, slow.id, now=NOW, capacity=5, title="Lente")
    quick_mission = await polling_station(db, quick.id, now=NOW, capacity=5, title="Rapide")
    for mission, hours in ((slow_mission, 24 * 10), (quick_mission, 1)):
        person = await volunteer(db, 100 + mission, "V")
        view = await applications.apply(
            db, person_id=person.id, slot_id=await first_slot(db, mission), now=NOW
        )
        await applications.decide(db, application_id=view.id, actor_id=coordinator.id, approve=True)
        await answered_after(db, view.id, hours)
    async with db.transaction("test") as conn:  # the scheduler's pass over kept scores
        await reactivity.refresh(conn, now=NOW)
    page = await missions.discover(db, now=NOW, near=SAINT_DIZIER, radius_km=30)
    assert [c.id for c in page.cards][:2] == [quick_mission, slow_mission]


@pytest.mark.usefixtures("operator_env")
def test_renfort_stats_json() -> None:
    runner = CliRunner()
    assert runner.invoke(cli.app, ["org", "create", "Mairie", "--postcode", "52100"]).exit_code == 0
    result = runner.invoke(cli.app, ["stats", "--json"])
    assert result.exit_code == 0, result.output
    (row,) = json.loads(result.stdout)
    assert row["name"] == "Mairie" and row["applications"] == 0 and row["fill_rate"] is None
    table = runner.invoke(cli.app, ["stats"])
    assert table.exit_code == 0 and "Mairie" in table.stdout


async def test_the_scheduler_keeps_scores_fresh_when_nobody_answers(db: Database) -> None:
    org = await commune(db)
    mission = await polling_station(db, org.id, now=NOW, capacity=5)
    person = await volunteer(db, 7, "V")
    view = await applications.apply(
        db, person_id=person.id, slot_id=await first_slot(db, mission), now=NOW
    )
    async with db.transaction("test") as conn:  # applied ten days ago, never answered
        await conn.execute(
            update(schema.applications)
            .where(schema.applications.c.id == view.id)
            .values(created_at=NOW - timedelta(days=10))
        )
    renfort = sms_renfort(db, FakeClock(NOW))

    assert await refresh_reactivity(renfort, NOW) == 1
    page = await missions.discover(db, now=NOW, near=SAINT_DIZIER, radius_km=30)
    async with db.reading("test") as conn:
        o = schema.organisations
        kept = (await conn.execute(select(o.c.reactivity, o.c.reactivity_at))).one()
    assert kept == (0, NOW) and page.cards[0].organisation_id == org.id
    assert await refresh_reactivity(renfort, NOW + timedelta(hours=1)) == 0  # fresh enough
    assert await refresh_reactivity(renfort, NOW + timedelta(hours=7)) == 1


async def test_a_decision_puts_its_organisation_first_in_line_for_the_next_measure(
    db: Database,
) -> None:
    org = await commune(db)
    coordinator = await volunteer(db, 1, "Nadia")
    await organisations.join(db, coordinator.id, org.invite_code)
    mission = await polling_station(db, org.id, now=NOW, capacity=5)
    renfort = sms_renfort(db, FakeClock(NOW))
    assert await refresh_reactivity(renfort, NOW) == 1
    assert await refresh_reactivity(renfort, NOW + timedelta(hours=1)) == 0  # fresh enough

    person = await volunteer(db, 7, "V")
    view = await applications.apply(
        db, person_id=person.id, slot_id=await first_slot(db, mission), now=NOW
    )
    await applications.decide(db, application_id=view.id, actor_id=coordinator.id, approve=True)
    await answered_after(db, view.id, 2)

    assert await refresh_reactivity(renfort, NOW + timedelta(hours=1)) == 1  # measured again
    async with db.reading("test") as conn:
        o = schema.organisations
        assert await conn.scalar(select(o.c.reactivity)) == 100
