"""Templates: the built-in ones, a mission from a template in two taps, an organisation's
own template saved from a mission, and polling stations imported from a list."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select
from typer.testing import CliRunner

from bot.domain import MissionStatus
from bot.geo import Geocoder
from bot.i18n import Translator
from bot.importer import ImportFileError, ImportResult
from bot.services import missions, organisations, templates
from bot.stations import import_stations
from bot.templates_builtin import BUILTIN_TEMPLATES
from renfort import cli
from storage import schema
from storage.database import Database, load_conversation
from tests.conftest import NOW
from tests.factories import commune, polling_station, volunteer
from tests.harness import FakeClock, running_bot, sqlite_file_url
from tests.organiser_steps import COORDINATOR, meet_everyone, say, tap_action

PARIS = ZoneInfo("Europe/Paris")
EXAMPLE = Path(__file__).resolve().parent.parent / "examples" / "bureaux-saint-dizier.csv"
ROUNDS = [date(2027, 6, 13), date(2027, 6, 20)]


def station_list(tmp_path: Path, *rows: str) -> Path:
    """A list of polling stations with the columns the example has, one row per station."""
    path = tmp_path / "bureaux.csv"
    header = "name,address,postcode,latitude,longitude,capacity"
    path.write_text("\n".join([header, *rows]) + "\n", encoding="utf-8")
    return path


async def stations(
    db: Database,
    path: Path,
    template_key: str,
    *,
    days: list[date] = ROUNDS,
    organisation_name: str = "Mairie de Saint-Dizier",
) -> ImportResult:
    """The polling stations of the file, imported in English for a commune near Paris."""
    return await import_stations(
        db,
        path,
        organisation_name=organisation_name,
        template_key=template_key,
        days=days,
        zone=PARIS,
        geocoder=Geocoder(None),
        now=NOW,
        t=Translator("en"),
    )


async def test_built_in_templates_come_first_then_the_organisations_own(db: Database) -> None:
    org = await commune(db)
    coordinator = await volunteer(db, 1, "Nadia")
    await organisations.join(db, coordinator.id, org.invite_code)
    mission_id = await polling_station(db, org.id, now=NOW, title="Tenue du bureau 3")

    saved = await templates.save_from_mission(db, mission_id=mission_id, actor_id=coordinator.id)
    again = await templates.save_from_mission(db, mission_id=mission_id, actor_id=coordinator.id)
    offered = await templates.templates_for(db, org.id)
    other = await organisations.create_organisation(db, "Banque alimentaire 52")

    assert [t.key for t in offered[: len(BUILTIN_TEMPLATES)]] == [b.key for b in BUILTIN_TEMPLATES]
    assert offered[-1] == saved == again
    assert (saved.title, saved.duration_minutes, saved.default_capacity) == (
        "Tenue du bureau 3",
        300,
        2,
    )
    assert saved.id not in [t.id for t in await templates.templates_for(db, other.id)]
    assessor = offered[0].localised(Translator("en"))
    assert "electoral roll" in assessor.full_description(Translator("en"))


async def test_stations_make_one_mission_per_station_with_two_slots_per_day(
    db: Database,
) -> None:
    org = await commune(db)

    result = await stations(db, EXAMPLE, "assessor", organisation_name="mairie de saint-dizier")

    assert (result.missions, result.slots, result.errors) == (5, 20, ())
    page = await missions.discover(db, now=NOW, near=None, radius_km=None, limit=10)
    assert len(page.cards) == 5
    detail = await missions.mission_detail(db, page.cards[0].id)
    assert detail.organisation_id == org.id and detail.status == MissionStatus.PUBLISHED
    assert detail.title.startswith("Polling station assessor — Bureau")
    hours = [
        (s.starts_at.astimezone(PARIS).hour, s.ends_at.astimezone(PARIS).hour) for s in detail.slots
    ]
    assert hours == [(8, 13), (13, 18)] * 2
    assert {s.starts_at.astimezone(PARIS).date() for s in detail.slots} == set(ROUNDS)
    capacities = {
        (await missions.mission_detail(db, c.id)).address.split(",")[0]: c.free_places
        for c in page.cards
    }
    assert capacities["Bureau 4 — Salle des fêtes de Marnaval"] == 12
    assert capacities["Bureau 5 — École de la Noue"] == 8  # the template's 2 per slot
    t = schema.missions
    async with db.reading("test") as conn:
        assert await conn.scalar(select(func.count()).where(t.c.template_id.is_(None))) == 0


async def test_a_bad_station_row_is_reported_by_line_and_nothing_is_created(
    db: Database, tmp_path: Path
) -> None:
    await commune(db)
    bad = station_list(
        tmp_path,
        "Bureau 1,Place de la mairie,52100,48.63,4.94,2",
        ",Rue sans nom,52100,48.63,4.94,2",
        "Bureau 3,Rue Ampère,521,,,2",
        "Bureau 4,Rue Ampère,52100,abc,4.9,2",
    )

    result = await stations(db, bad, "teller", days=ROUNDS[:1])

    assert [str(e) for e in result.errors] == [
        "line 3: name is empty",
        "line 4: postcode '521' must be 5 digits",
        "line 5: latitude 'abc' is not a number",
    ]
    assert result.missions == 0
    assert (await missions.discover(db, now=NOW, near=None, radius_km=None)).total == 0
    with pytest.raises(ImportFileError, match="not an election template"):
        await stations(db, bad, "food_aid")


@pytest.mark.usefixtures("operator_env")
def test_the_stations_command() -> None:
    runner = CliRunner()
    assert runner.invoke(cli.app, ["org", "create", "Mairie de Saint-Dizier"]).exit_code == 0

    result = runner.invoke(
        cli.app,
        [
            "missions",
            "stations",
            str(EXAMPLE),
            "--organisation",
            "Mairie de Saint-Dizier",
            "--template",
            "assessor",
            "--date",
            "2027-06-13",
            "--date",
            "2027-06-20",
        ],
    )
    verified = runner.invoke(cli.app, ["org", "verify", "Mairie de Saint-Dizier"])
    no_person = runner.invoke(
        cli.app, ["referent", "add", "--telegram-id", "5", "--territory", "52"]
    )

    assert result.exit_code == 0, result.output
    assert "Created 5 mission(s) with 20 slot(s)" in result.stdout
    assert verified.exit_code == 0 and "verified" in verified.stdout
    assert no_person.exit_code == 1 and "/start" in no_person.stderr


async def test_a_mission_from_a_template_in_two_taps(tmp_path: Path) -> None:
    async with running_bot(sqlite_file_url(tmp_path), FakeClock(NOW)) as bot:
        meet_everyone(bot)
        organisation = await commune(bot.db)
        await say(bot, COORDINATOR, f"/join {organisation.invite_code}")

        start = (await say(bot, COORDINATOR, "/newmission"))[-1]
        assert "Polling station assessor" in start.button_texts()[0]
        assert any("From scratch" in label for label in start.button_texts())
        assessor = (await templates.templates_for(bot.db, organisation.id))[0]
        await tap_action(bot, COORDINATOR, start, "nm_template", template_id=assessor.id)
        assert "electoral roll" in start.text and "postcode" in start.text
        asked = (await say(bot, COORDINATOR, "Hôtel de ville, 52100 Saint-Dizier"))[-1]
        assert "When does it start?" in asked.text
        final = (await say(bot, COORDINATOR, "13/06/2027 8h"))[-1]
        assert "2 volunteers" in final.text
        changed = (await say(bot, COORDINATOR, "3"))[-1]
        assert "3 volunteers" in changed.text
        await tap_action(bot, COORDINATOR, changed, "nm_publish")

        assert "Published" in changed.text
        page = await missions.discover(bot.db, now=NOW, near=None, radius_km=None)
        [card] = page.cards
        detail = await missions.mission_detail(bot.db, card.id)
        assert (detail.title, detail.domain) == ("Polling station assessor", "citizenship")
        assert "electoral roll" in detail.description
        assert [(s.starts_at, s.ends_at, s.capacity) for s in detail.slots] == [
            (datetime(2027, 6, 13, 6, tzinfo=UTC), datetime(2027, 6, 13, 11, tzinfo=UTC), 3)
        ]
        assert await load_conversation(bot.db, "telegram", str(COORDINATOR)) is None

        offer = bot.double.messages[COORDINATOR][-1]
        await tap_action(bot, COORDINATOR, offer, "nm_save_template", mission=card.id)
        assert "Saved as a template" in offer.text
        again = (await say(bot, COORDINATOR, "/newmission"))[-1]
        assert again.button_texts()[len(BUILTIN_TEMPLATES)] == "Polling station assessor"
        assert len(await templates.templates_for(bot.db, organisation.id)) == 9


async def test_stations_refuse_a_far_date_and_odd_digits_by_line(
    sqlite_db: Database, tmp_path: Path
) -> None:
    await commune(sqlite_db)
    odd = station_list(
        tmp_path,
        "Bureau\x00 1,Place de la mairie,52100,48.63,4.94,²",
        "Bureau 2,Rue Ampère,５２１００,,,2",
    )

    result = await stations(sqlite_db, odd, "teller", days=ROUNDS[:1])
    assert [str(e) for e in result.errors] == [
        "line 2: capacity '²' must be a whole number from 1 to 10000",
        "line 3: postcode '５２１００' must be 5 digits",
    ]
    for far in (date(9999, 12, 31), date(1, 1, 1)):
        with pytest.raises(ImportFileError, match=far.isoformat()):
            await stations(sqlite_db, odd, "teller", days=[far])
