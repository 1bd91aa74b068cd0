"""Polling stations from a spreadsheet: one mission per station from an election template,
with a morning and an afternoon slot on each voting day. Every row is checked first, with
its line number; then everything is written in one transaction, or nothing."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import date, datetime, time
from pathlib import Path
from zoneinfo import ZoneInfo

from bot.domain import GeoPoint
from bot.geo import Geocoder
from bot.i18n import Translator
from bot.importer import (
    ImportFileError,
    ImportResult,
    RowError,
    RowRejected,
    check_ahead,
    check_postcode,
    coordinate,
    local_time,
    plain_digits,
)
from bot.services import organisations, templates
from bot.services.errors import InvalidInput
from bot.services.missions import (
    MAX_CAPACITY,
    MissionSpec,
    SlotSpec,
    insert_mission,
    validate_slot,
    validate_spec,
)
from bot.templates_builtin import ELECTION_KEYS
from bot.text import clean_text
from storage.database import Database

HEADER = ("name", "address", "postcode", "latitude", "longitude", "capacity")
TRANSACTION = "import_stations"
# Polling stations open at 8:00 and close at 18:00; two shifts share the day.
SHIFTS = ((time(8), time(13)), (time(13), time(18)))


@dataclass(frozen=True)
class Station:
    line: int
    name: str
    address: str
    postcode: str | None
    point: GeoPoint
    capacity: int | None


def read_stations(path: Path) -> list[tuple[int, dict[str, str], int]]:
    """(line, values by column, number of values) for every non-blank row."""
    try:
        text = path.read_bytes().decode("utf-8-sig")
    except OSError as error:
        raise ImportFileError(f"cannot read {path}: {error.strerror}") from None
    except UnicodeDecodeError as error:
        raise ImportFileError(
            f"{path.name} is not UTF-8 (byte {error.start}); save it as 'CSV UTF-8'"
        ) from None
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = [h.strip().lower() for h in next(reader)]
    except StopIteration:
        raise ImportFileError("the file is empty") from None
    if tuple(header) != HEADER:
        raise ImportFileError(f"the header must be exactly {','.join(HEADER)}")
    rows = []
    start = reader.line_num + 1
    try:
        for values in reader:
            line, start = start, reader.line_num + 1
            if any(v.strip() for v in values):
                cells = [clean_text(value) for value in values]
                rows.append((line, dict(zip(HEADER, cells, strict=False)), len(values)))
    except csv.Error as error:
        raise ImportFileError(f"line {reader.line_num}: {error}") from None
    return rows


def _capacity(text: str) -> int | None:
    value = text.strip()
    if not value:
        return None
    if not plain_digits(value) or not 1 <= int(value) <= MAX_CAPACITY:
        raise RowRejected(f"capacity {text!r} must be a whole number from 1 to {MAX_CAPACITY}")
    return int(value)


async def check_station(line: int, row: dict[str, str], width: int, geocoder: Geocoder) -> Station:
    if width != len(HEADER):
        raise RowRejected(f"{width} columns instead of {len(HEADER)} (a comma needs quotes)")
    name = " ".join(row["name"].split())
    if not name:
        raise RowRejected("name is empty")
    address = " ".join(row["address"].split())
    postcode = check_postcode(row["postcode"])
    latitude = coordinate(row["latitude"], "latitude", 90)
    longitude = coordinate(row["longitude"], "longitude", 180)
    if (latitude is None) != (longitude is None):
        raise RowRejected("give both latitude and longitude, or neither")
    point = None if latitude is None or longitude is None else GeoPoint(latitude, longitude)
    if point is None and postcode is not None:
        place = await geocoder.resolve(postcode)
        point = None if place is None else place.point
    if point is None:
        raise RowRejected("no latitude/longitude and the postcode could not be located")
    return Station(line, name, address, postcode, point, _capacity(row["capacity"]))


def day_slots(days: list[date], zone: ZoneInfo, now: datetime) -> list[tuple[datetime, datetime]]:
    """The morning and afternoon of each voting day, as UTC times; a past one is refused."""
    periods = []
    for day in days:
        for start, end in SHIFTS:
            try:
                period = (
                    local_time(datetime.combine(day, start).isoformat(), zone, "start"),
                    local_time(datetime.combine(day, end).isoformat(), zone, "end"),
                )
                validate_slot(SlotSpec(*period, capacity=1), now)
                check_ahead(period[0], now)
            except InvalidInput:
                raise ImportFileError(f"{day.isoformat()} is in the past") from None
            except RowRejected as error:
                raise ImportFileError(f"--date {day.isoformat()}: {error}") from None
            periods.append(period)
    return periods


async def import_stations(
    db: Database,
    path: Path,
    *,
    organisation_name: str,
    template_key: str,
    days: list[date],
    zone: ZoneInfo,
    geocoder: Geocoder,
    now: datetime,
    t: Translator,
) -> ImportResult:
    """One mission per station from the election template, or nothing when a row is bad."""
    if template_key not in ELECTION_KEYS:
        raise ImportFileError(
            f"template {template_key!r} is not an election template"
            f" ({', '.join(sorted(ELECTION_KEYS))})"
        )
    if not days:
        raise ImportFileError("give at least one --date")
    organisation = await organisations.find_organisation_by_name(db, organisation_name)
    if organisation is None:
        raise ImportFileError(
            f"organisation {organisation_name!r} does not exist (create it with renfort org create)"
        )
    periods = day_slots(sorted(set(days)), zone, now)
    rows = read_stations(path)
    stations: list[Station] = []
    errors: list[RowError] = []
    for line, row, width in rows:
        try:
            stations.append(await check_station(line, row, width, geocoder))
        except RowRejected as error:
            errors.append(RowError(line, str(error)))
    if errors or not stations:
        return ImportResult(0, 0, tuple(errors), len(rows))
    async with db.transaction(TRANSACTION) as conn:
        template = (await templates.builtin_template(conn, template_key)).localised(t)
        for station in stations:
            capacity = station.capacity or template.default_capacity
            spec = MissionSpec(
                organisation_id=organisation.id,
                title=f"{template.title} — {station.name}",
                domain=template.domain,
                description=template.full_description(t),
                conditions=(template.prerequisites,) if template.prerequisites else (),
                address=", ".join(p for p in (station.name, station.address) if p),
                postcode=station.postcode,
                point=station.point,
                timezone=zone.key,
                slots=tuple(SlotSpec(start, end, capacity) for start, end in periods),
                template_id=template.id,
            )
            validate_spec(spec, now)
            await insert_mission(conn, spec, actor_id=None, transaction=TRANSACTION)
    return ImportResult(len(stations), len(stations) * len(periods), (), len(rows))
