"""Importing missions from a commune's spreadsheet: times, errors, all or nothing."""

from __future__ import annotations

import csv
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from bot.geo import Geocoder
from bot.importer import (
    HEADER,
    ImportFileError,
    ImportResult,
    RowRejected,
    import_missions,
    local_time,
)
from storage import schema
from storage.database import Database
from tests.conftest import NOW
from tests.factories import commune

PARIS = ZoneInfo("Europe/Paris")
BEFORE_2027 = datetime(2026, 12, 1, tzinfo=UTC)
STATION = "Mairie de Saint-Dizier,Assesseur – bureau n°1,citizenship,,Hôtel de ville,52100"
AT_STATION = f"{STATION},48.6377,4.949,no"


def sheet(tmp_path: Path, *rows: str, bom: bool = False, header: str = ",".join(HEADER)) -> Path:
    path = tmp_path / "missions.csv"
    text = "\n".join([header, *rows]) + "\n"
    path.write_bytes((b"\xef\xbb\xbf" if bom else b"") + text.encode("utf-8"))
    return path


def slot(start: str, end: str, capacity: str = "2", place: str = AT_STATION) -> str:
    return f"{place},{start},{end},{capacity}"


async def run_import(
    db: Database, path: Path, *, now: datetime = NOW, skip_bad: bool = False
) -> ImportResult:
    return await import_missions(
        db, path, zone=PARIS, geocoder=Geocoder(None), now=now, skip_bad=skip_bad
    )


async def stored_slots(db: Database) -> list[tuple[datetime, datetime]]:
    s = schema.slots
    async with db.reading("test") as conn:
        rows = (await conn.execute(select(s).order_by(s.c.starts_at))).all()
    return [(r.starts_at, r.ends_at) for r in rows]


async def count_missions(db: Database) -> int:
    async with db.reading("test") as conn:
        return int(await conn.scalar(select(func.count()).select_from(schema.missions)) or 0)


def test_a_local_time_takes_the_offset_of_its_own_date() -> None:
    assert local_time("2027-06-13T08:00", PARIS, "start") == datetime(2027, 6, 13, 6, tzinfo=UTC)
    assert local_time("2027-12-12T08:00", PARIS, "start") == datetime(2027, 12, 12, 7, tzinfo=UTC)
    assert local_time("2027-06-13T08:00+00:00", PARIS, "start") == datetime(
        2027, 6, 13, 8, tzinfo=UTC
    )


def test_a_malformed_time_names_its_column() -> None:
    with pytest.raises(RowRejected, match="end '13/06/2027 18:00' is not a date and time"):
        local_time("13/06/2027 18:00", PARIS, "end")


async def test_a_night_slot_across_the_end_of_summer_time_lasts_nine_hours(
    sqlite_db: Database, tmp_path: Path
) -> None:
    await commune(sqlite_db)
    path = sheet(tmp_path, slot("2027-10-30T22:00", "2027-10-31T06:00"))

    result = await run_import(sqlite_db, path)

    assert (result.missions, result.slots, result.errors) == (1, 1, ())
    [(starts_at, ends_at)] = await stored_slots(sqlite_db)
    assert starts_at == datetime(2027, 10, 30, 20, tzinfo=UTC)  # 22:00 summer time
    assert ends_at == datetime(2027, 10, 31, 5, tzinfo=UTC)  # 06:00 winter time
    assert ends_at - starts_at == timedelta(hours=9)


async def test_a_time_skipped_when_clocks_go_forward_is_rejected_with_its_line(
    sqlite_db: Database, tmp_path: Path
) -> None:
    await commune(sqlite_db)
    path = sheet(
        tmp_path,
        slot("2027-03-27T08:00", "2027-03-27T12:00"),
        slot("2027-03-28T02:30", "2027-03-28T06:00"),
    )

    result = await run_import(sqlite_db, path, now=BEFORE_2027)

    assert result.missions == 0
    [error] = result.errors
    assert error.line == 3
    assert "2027-03-28T02:30 does not exist in Europe/Paris" in error.reason
    assert await count_missions(sqlite_db) == 0


async def test_a_time_that_happens_twice_needs_its_offset(
    sqlite_db: Database, tmp_path: Path
) -> None:
    await commune(sqlite_db)
    ambiguous = sheet(tmp_path, slot("2027-10-31T02:30", "2027-10-31T04:00"))

    refused = await run_import(sqlite_db, ambiguous)
    assert "happens twice" in refused.errors[0].reason
    assert "2027-10-31T02:30:00+02:00" in refused.errors[0].reason

    explicit = sheet(tmp_path, slot("2027-10-31T02:30+01:00", "2027-10-31T04:00"))
    accepted = await run_import(sqlite_db, explicit)
    assert accepted.errors == ()
    assert await stored_slots(sqlite_db) == [
        (datetime(2027, 10, 31, 1, 30, tzinfo=UTC), datetime(2027, 10, 31, 3, tzinfo=UTC))
    ]


async def test_a_file_saved_with_a_byte_order_mark_imports(
    sqlite_db: Database, tmp_path: Path
) -> None:
    await commune(sqlite_db)
    path = sheet(tmp_path, slot("2027-06-13T08:00", "2027-06-13T13:00"), bom=True)

    result = await run_import(sqlite_db, path)

    assert (result.missions, result.slots, result.errors) == (1, 1, ())


async def test_a_wrong_header_is_refused_naming_what_is_wrong(
    sqlite_db: Database, tmp_path: Path
) -> None:
    header = ",".join(h for h in HEADER if h != "capacity") + ",places"
    path = sheet(tmp_path, header=header)

    with pytest.raises(ImportFileError) as refused:
        await run_import(sqlite_db, path)

    message = str(refused.value)
    assert "\n" not in message
    assert ",".join(HEADER) in message
    assert "missing capacity" in message and "unknown places" in message


async def test_every_bad_row_is_reported_and_nothing_is_imported(
    db: Database, tmp_path: Path
) -> None:
    await commune(db)
    path = sheet(
        tmp_path,
        slot("2027-06-13T08:00", "2027-06-13T13:00"),
        slot("2027-06-13T13:00", "2027-06-13T12:00"),
        slot("2027-06-20T08:00", "2027-06-20T13:00", capacity="0"),
        "Mairie de Nulle Part,Tri,solidarity,,,52100,,,no,2027-06-13T08:00,2027-06-13T10:00,1",
        slot("2027-06-01T08:00", "2027-06-01T13:00"),
        slot("13/06/2027 08:00", "2027-06-13T13:00"),
        f"{STATION},48.6377,4.949,peut-être,2027-06-13T08:00,2027-06-13T13:00,2",
    )

    result = await run_import(db, path)

    assert [(e.line, e.reason.split()[0]) for e in result.errors] == [
        (3, "end"),
        (4, "capacity"),
        (5, "organisation"),
        (6, "the"),
        (7, "start"),
        (8, "remote"),
    ]
    assert "past" in result.errors[3].reason
    assert (result.missions, result.slots) == (0, 0)
    assert await count_missions(db) == 0


async def test_skip_bad_imports_the_good_slots_of_a_partly_bad_mission(
    db: Database, tmp_path: Path
) -> None:
    await commune(db)
    path = sheet(
        tmp_path,
        slot("2027-06-13T08:00", "2027-06-13T13:00"),
        slot("2027-06-13T13:00", "2027-06-13T18:00", capacity="beaucoup"),
        slot("2027-06-20T08:00", "2027-06-20T13:00"),
    )

    result = await run_import(db, path, skip_bad=True)

    assert (result.missions, result.slots) == (1, 2)
    assert [e.line for e in result.errors] == [3]
    assert len(await stored_slots(db)) == 2


async def test_rows_of_the_same_mission_group_into_one_whatever_the_case_of_the_organisation(
    sqlite_db: Database, tmp_path: Path
) -> None:
    await commune(sqlite_db)
    other_case = AT_STATION.replace("Mairie de Saint-Dizier", "MAIRIE DE SAINT-DIZIER")
    path = sheet(
        tmp_path,
        slot("2027-06-13T08:00", "2027-06-13T13:00"),
        slot("2027-06-13T13:00", "2027-06-13T18:00", place=other_case),
        slot("2027-06-13T08:00", "2027-06-13T13:00", place=AT_STATION.replace("n°1", "n°2")),
    )

    result = await run_import(sqlite_db, path)

    assert (result.missions, result.slots, result.errors) == (2, 3, ())


async def test_a_slot_given_twice_is_reported_against_the_first(
    sqlite_db: Database, tmp_path: Path
) -> None:
    await commune(sqlite_db)
    path = sheet(
        tmp_path,
        slot("2027-06-13T08:00", "2027-06-13T13:00"),
        slot("2027-06-13T08:00", "2027-06-13T13:00"),
    )

    result = await run_import(sqlite_db, path)

    assert [(e.line, e.reason) for e in result.errors] == [
        (3, "same slot as line 2; raise its capacity instead")
    ]


async def test_missing_coordinates_come_from_the_postcode_and_remote_needs_none(
    sqlite_db: Database, tmp_path: Path
) -> None:
    await commune(sqlite_db)
    path = sheet(
        tmp_path,
        slot("2027-06-13T08:00", "2027-06-13T13:00", place=f"{STATION},,,no"),
        "Mairie de Saint-Dizier,Appels,solidarity,,,,,,oui,2027-06-14T10:00,2027-06-14T12:00,3",
        "Mairie de Saint-Dizier,Tri,solidarity,,Dépôt,,,,non,2027-06-14T10:00,2027-06-14T12:00,3",
    )

    result = await run_import(sqlite_db, path)

    assert [(e.line, e.reason.split(" and ")[0]) for e in result.errors] == [
        (4, "no latitude/longitude")
    ]
    m = schema.missions
    async with sqlite_db.reading("test") as conn:
        rows = (await conn.execute(select(m.c.title, m.c.latitude, m.c.remote))).all()
    assert rows == []  # one bad row: nothing imported
    result = await run_import(sqlite_db, path, skip_bad=True)
    async with sqlite_db.reading("test") as conn:
        rows = (await conn.execute(select(m.c.title, m.c.latitude, m.c.remote))).all()
    assert sorted(rows) == [("Appels", None, True), ("Assesseur – bureau n°1", 48.6383, False)]


async def test_a_description_over_several_lines_keeps_the_line_numbers_right(
    sqlite_db: Database, tmp_path: Path
) -> None:
    await commune(sqlite_db)
    two_lines = AT_STATION.replace(",citizenship,,", ',citizenship,"Première ligne\nseconde",')
    path = sheet(
        tmp_path,
        slot("2027-06-13T08:00", "2027-06-13T13:00", place=two_lines),
        slot("2027-06-13T13:00", "2027-06-13T18:00", capacity="-1"),
    )

    result = await run_import(sqlite_db, path)

    assert [e.line for e in result.errors] == [4]


async def test_a_row_with_an_unquoted_comma_is_reported(
    sqlite_db: Database, tmp_path: Path
) -> None:
    await commune(sqlite_db)
    path = sheet(
        tmp_path,
        slot(
            "2027-06-13T08:00",
            "2027-06-13T13:00",
            place=AT_STATION.replace("Hôtel", "Place, Hôtel"),
        ),
    )

    result = await run_import(sqlite_db, path)

    assert "13 columns instead of 12" in result.errors[0].reason


async def test_a_file_that_is_not_utf8_is_refused_clearly(
    sqlite_db: Database, tmp_path: Path
) -> None:
    path = tmp_path / "missions.csv"
    path.write_bytes((",".join(HEADER) + "\nMairie de Saint-Dizier,Assesseur é\n").encode("cp1252"))

    with pytest.raises(ImportFileError, match="not UTF-8"):
        await run_import(sqlite_db, path)


async def test_yaml_rows_import_when_pyyaml_is_installed(
    sqlite_db: Database, tmp_path: Path
) -> None:
    pytest.importorskip("yaml")
    await commune(sqlite_db)
    path = tmp_path / "missions.yaml"
    path.write_text(
        "- organisation: Mairie de Saint-Dizier\n"
        "  title: Assesseur\n"
        "  domain: citizenship\n"
        "  postcode: '52100'\n"
        "  remote: false\n"
        "  start: 2027-06-13T08:00\n"
        "  end: 2027-06-13T13:00\n"
        "  capacity: 2\n"
        "- organisation: Mairie de Saint-Dizier\n"
        "  title: Assesseur\n"
        "  domain: citizenship\n"
        "  postcode: '52100'\n"
        "  remote: false\n"
        "  start: 2027-06-13T13:00\n"
        "  end: 2027-06-13T12:00\n"
        "  capacity: 2\n",
        encoding="utf-8",
    )

    result = await run_import(sqlite_db, path, skip_bad=True)

    assert (result.missions, result.slots) == (1, 1)
    assert [e.line for e in result.errors] == [9]


async def test_hostile_cells_are_line_numbered_errors_not_tracebacks(
    db: Database, tmp_path: Path
) -> None:
    await commune(db)
    path = sheet(
        tmp_path,
        slot("0001-01-01T00:05", "0001-01-01T05:00"),
        slot("2027-06-13T08:00", "2027-06-13T13:00", capacity="²"),
        slot("2027-06-13T08:00", "2027-06-13T13:00", capacity="３"),
        "Mairie de Saint-Dizier,Tri,solidarity,,Rue,５２１００,48.6,4.9,no,"
        "2027-06-13T08:00,2027-06-13T10:00,1",
        slot("9999-12-31T08:00", "9999-12-31T13:00"),
    )

    result = await run_import(db, path)

    assert [(e.line, e.reason.split()[0]) for e in result.errors] == [
        (2, "start"),
        (3, "capacity"),
        (4, "capacity"),
        (5, "postcode"),
        (6, "the"),
    ]
    assert "years from now" in result.errors[4].reason
    assert await count_missions(db) == 0


async def test_control_characters_in_cells_are_dropped_on_both_databases(
    db: Database, tmp_path: Path
) -> None:
    await commune(db)
    path = sheet(
        tmp_path,
        "Mairie de Saint-Dizier,Tri\x00 des\x07 dons,solidarity,Tout\x1b va bien,"
        "Hôtel de ville,52100,48.6377,4.949,no,2027-06-13T08:00,2027-06-13T13:00,2",
    )

    result = await run_import(db, path)

    assert (result.missions, result.errors) == (1, ())
    async with db.reading("test") as conn:
        row = (await conn.execute(select(schema.missions))).one()
    assert (row.title, row.description) == ("Tri des dons", "Tout va bien")


async def test_a_title_or_description_too_long_is_a_line_error(
    sqlite_db: Database, tmp_path: Path
) -> None:
    await commune(sqlite_db)
    path = sheet(
        tmp_path,
        f"Mairie de Saint-Dizier,{'T' * 201},solidarity,,Rue,52100,48.6,4.9,no,"
        "2027-06-13T08:00,2027-06-13T10:00,1",
        f"Mairie de Saint-Dizier,Tri,solidarity,{'d' * 3001},Rue,52100,48.6,4.9,no,"
        "2027-06-13T08:00,2027-06-13T10:00,1",
    )

    result = await run_import(sqlite_db, path)

    assert [str(e) for e in result.errors] == [
        "line 2: title is longer than 200 characters",
        "line 3: description is longer than 3000 characters",
    ]


async def count_organisations(db: Database) -> int:
    async with db.reading("test") as conn:
        return int(await conn.scalar(select(func.count()).select_from(schema.organisations)) or 0)


cells = st.text(max_size=12) | st.sampled_from(
    [
        "2027-06-13T08:00",
        "2027-06-13T13:00",
        "0001-01-01T00:05",
        "9999-12-31T23:59",
        "2027-10-31T02:30",
        "²",
        "５２１００",
        "52100",
        "solidarity",
        "48.6",
        "nan",
        "inf",
        "no",
        "2",
    ]
)


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(rows=st.lists(st.lists(cells, min_size=10, max_size=13), min_size=1, max_size=4))
async def test_random_cells_give_line_errors_or_an_import_never_a_crash(
    sqlite_db: Database, tmp_path: Path, rows: list[list[str]]
) -> None:
    if await count_organisations(sqlite_db) == 0:
        await commune(sqlite_db)
    path = tmp_path / "random.csv"
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(HEADER)
        writer.writerows(["Mairie de Saint-Dizier", *row[1:]] if row else row for row in rows)
    try:
        result = await run_import(sqlite_db, path, skip_bad=True)
    except ImportFileError as error:
        assert "\n" not in str(error)
    else:
        assert all(e.line >= 2 for e in result.errors)
