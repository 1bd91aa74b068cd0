"""Missions from a spreadsheet: one row per slot, checked row by row, written at once.

The format is what a commune fills in (see README): rows sharing organisation, title and
address are one mission with several slots; times are local wall-clock times in the
configured time zone."""

from __future__ import annotations

import csv
import dataclasses
import importlib
import io
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from bot.domain import DOMAINS, GeoPoint
from bot.geo import Geocoder
from bot.services import organisations
from bot.services.errors import InvalidInput
from bot.services.missions import (
    MAX_CAPACITY,
    MissionSpec,
    SlotSpec,
    insert_mission,
    validate_slot,
    validate_spec,
)
from bot.text import clean_text
from storage.database import Database

HEADER = (
    "organisation",
    "title",
    "domain",
    "description",
    "address",
    "postcode",
    "latitude",
    "longitude",
    "remote",
    "start",
    "end",
    "capacity",
)
TRANSACTION = "import_missions"
YES = frozenset({"yes", "oui", "true", "y", "o", "1"})
NO = frozenset({"no", "non", "false", "n", "0", ""})
SLOT_REASONS = {
    "slot_order": "end must be after start",
    "slot_past": "the slot starts in the past",
    "capacity": f"capacity must be between 1 and {MAX_CAPACITY}",
}

# A slot further ahead is a typo (9999 for 2027), not a plan.
MAX_AHEAD = timedelta(days=3 * 366)
MAX_TITLE = 200
MAX_DESCRIPTION = 3000

# Reports progress: (stage, done, total); stages are "check" then "write".
Progress = Callable[[str, int, int], None]


class ImportFileError(Exception):
    """The file as a whole cannot be read (format, encoding, header); one line."""


@dataclass(frozen=True)
class RowError:
    line: int
    reason: str

    def __str__(self) -> str:
        return f"line {self.line}: {self.reason}"


@dataclass(frozen=True)
class ImportResult:
    missions: int
    slots: int
    errors: tuple[RowError, ...]
    rows: int


@dataclass
class _Mission:
    """Rows grouped into one mission while checking; the first good row sets its fields."""

    spec: MissionSpec
    first_line: int
    slots: list[SlotSpec] = field(default_factory=list)
    lines: dict[tuple[datetime, datetime], int] = field(default_factory=dict)


@dataclass(frozen=True)
class SheetRow:
    """One row of the file: where it starts, its values by column, how many it had."""

    line: int
    values: dict[str, str]
    width: int = len(HEADER)


class RowRejected(ValueError):
    """Why one row cannot be imported; the message names the column at fault."""


def yaml_supported() -> bool:
    """YAML is read only when PyYAML happens to be installed; it is not a dependency."""
    try:
        importlib.import_module("yaml")
    except ImportError:
        return False
    return True


def read_rows(path: Path) -> list[SheetRow]:
    """Every non-blank row of a CSV (or YAML) file, with its line number."""
    try:
        raw = path.read_bytes()
    except OSError as error:
        raise ImportFileError(f"cannot read {path}: {error.strerror}") from None
    try:
        # utf-8-sig drops the BOM that spreadsheet programs put at the start.
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise ImportFileError(
            f"{path.name} is not UTF-8 (byte {error.start}); save it as 'CSV UTF-8'"
        ) from None
    suffix = path.suffix.lower()
    if suffix in (".yaml", ".yml"):
        if not yaml_supported():
            raise ImportFileError("YAML files need PyYAML installed; use the CSV format instead")
        return _yaml_rows(text)
    if suffix != ".csv":
        raise ImportFileError(f"{path.name}: expected a .csv file")
    return _csv_rows(text)


def _check_header(found: list[str]) -> None:
    names = [name.strip().lower() for name in found]
    if tuple(names) == HEADER:
        return
    missing = [h for h in HEADER if h not in names]
    extra = [n for n in names if n not in HEADER]
    details = []
    if missing:
        details.append("missing " + ", ".join(missing))
    if extra:
        details.append("unknown " + ", ".join(extra))
    if not details:
        details.append("columns out of order")
    raise ImportFileError(f"the header must be exactly {','.join(HEADER)} ({'; '.join(details)})")


def _csv_rows(text: str) -> list[SheetRow]:
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = next(reader)
    except StopIteration:
        raise ImportFileError("the file is empty") from None
    except csv.Error as error:
        raise ImportFileError(f"line 1: {error}") from None
    _check_header(header)
    rows: list[SheetRow] = []
    # A quoted value may span lines, so a row starts just after the previous one ended.
    start = reader.line_num + 1
    try:
        for values in reader:
            line, start = start, reader.line_num + 1
            if any(v.strip() for v in values):
                cells = [clean_text(value) for value in values]
                rows.append(SheetRow(line, dict(zip(HEADER, cells, strict=False)), len(values)))
    except csv.Error as error:
        raise ImportFileError(f"line {reader.line_num}: {error}") from None
    return rows


def _yaml_rows(text: str) -> list[SheetRow]:
    yaml: Any = importlib.import_module("yaml")
    try:
        # Composing keeps each entry's line; loading gives the plain values.
        nodes = yaml.compose(text, Loader=yaml.SafeLoader)
        data = yaml.safe_load(text)
    except yaml.YAMLError as error:
        raise ImportFileError(f"not valid YAML: {str(error).splitlines()[0]}") from None
    if not isinstance(data, list) or not all(isinstance(item, dict) for item in data):
        raise ImportFileError("a YAML file must be a list of rows with the CSV's column names")
    rows: list[SheetRow] = []
    for node, item in zip(nodes.value, data, strict=True):
        keys = [str(k) for k in item]
        unknown = [k for k in keys if k.strip().lower() not in HEADER]
        if unknown:
            raise ImportFileError(
                f"line {node.start_mark.line + 1}: unknown column {', '.join(unknown)}"
            )
        row = {str(k).strip().lower(): clean_text(_yaml_text(v)) for k, v in item.items()}
        rows.append(SheetRow(node.start_mark.line + 1, {h: row.get(h, "") for h in HEADER}))
    return rows


def _yaml_text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, datetime):
        return value.isoformat()
    return str(value)


def local_time(text: str, zone: ZoneInfo, column: str) -> datetime:
    """A wall-clock time in `zone` (or with an explicit offset) as an aware UTC datetime."""
    value = text.strip()
    try:
        parsed = datetime.fromisoformat(value)
        if parsed.tzinfo is not None:
            return parsed.astimezone(UTC)
        first = parsed.replace(tzinfo=zone, fold=0).astimezone(UTC)
        second = parsed.replace(tzinfo=zone, fold=1).astimezone(UTC)
    # OverflowError: a time near year 1 or 9999 has no UTC equivalent.
    except (ValueError, OverflowError):
        raise RowRejected(
            f"{column} {value!r} is not a date and time like 2027-06-13T08:00"
        ) from None
    if first.astimezone(zone).replace(tzinfo=None) != parsed:
        raise RowRejected(f"{column} {value} does not exist in {zone.key} (clocks go forward)")
    if first != second:
        raise RowRejected(
            f"{column} {value} happens twice in {zone.key} (clocks go back);"
            f" add the offset, e.g. {parsed.isoformat()}{_offset(first, zone)}"
        )
    return first


def _offset(moment: datetime, zone: ZoneInfo) -> str:
    return moment.astimezone(zone).isoformat()[-6:]


def _yes_no(text: str) -> bool:
    value = text.strip().lower()
    if value in YES:
        return True
    if value in NO:
        return False
    raise RowRejected(f"remote {text!r} must be yes or no")


def coordinate(text: str, column: str, limit: float) -> float | None:
    """A latitude or longitude cell (a comma as decimal point is fine); None when empty."""
    value = text.strip().replace(",", ".")
    if not value:
        return None
    try:
        number = float(value)
    except ValueError:
        raise RowRejected(f"{column} {text!r} is not a number") from None
    if not -limit <= number <= limit:
        raise RowRejected(f"{column} {text} is out of range")
    return number


def plain_digits(text: str) -> bool:
    """0-9 only: str.isdigit() also takes '²' and full-width digits, which int() refuses
    or reads as another number than the one shown."""
    return text.isascii() and text.isdigit()


def check_postcode(text: str) -> str | None:
    """A postcode cell: empty, or exactly 5 digits."""
    postcode = text.strip() or None
    if postcode is not None and not (plain_digits(postcode) and len(postcode) == 5):
        raise RowRejected(f"postcode {postcode!r} must be 5 digits")
    return postcode


def check_ahead(starts_at: datetime, now: datetime) -> None:
    if starts_at - now > MAX_AHEAD:
        raise RowRejected(f"the slot starts more than {MAX_AHEAD.days // 366} years from now")


def _capacity(text: str) -> int:
    value = text.strip()
    if not plain_digits(value) or int(value) < 1:
        raise RowRejected(f"capacity {text!r} must be a positive whole number")
    return int(value)


def _fold(text: str) -> str:
    return " ".join(text.split()).casefold()


class _Checker:
    """Turns rows into missions, remembering every error."""

    def __init__(
        self, organisation_ids: dict[str, int], zone: ZoneInfo, geocoder: Geocoder, now: datetime
    ) -> None:
        self.organisation_ids = organisation_ids
        self.zone = zone
        self.geocoder = geocoder
        self.now = now
        self.missions: dict[tuple[int, str, str], _Mission] = {}
        self.errors: list[RowError] = []
        self._places: dict[str, GeoPoint | None] = {}

    async def add(self, row: SheetRow) -> None:
        try:
            await self._add(row)
        except RowRejected as error:
            self.errors.append(RowError(row.line, str(error)))

    async def _add(self, sheet_row: SheetRow) -> None:
        if sheet_row.width != len(HEADER):
            raise RowRejected(
                f"{sheet_row.width} columns instead of {len(HEADER)}"
                " (a value with a comma needs quotes)"
            )
        row, line = sheet_row.values, sheet_row.line
        organisation_id = self._organisation(row["organisation"])
        title = " ".join(row["title"].split())
        if not title:
            raise RowRejected("title is empty")
        if len(title) > MAX_TITLE:
            raise RowRejected(f"title is longer than {MAX_TITLE} characters")
        if len(row["description"]) > MAX_DESCRIPTION:
            raise RowRejected(f"description is longer than {MAX_DESCRIPTION} characters")
        domain = row["domain"].strip().lower()
        if domain not in DOMAINS:
            raise RowRejected(f"domain {row['domain']!r} is not one of {', '.join(DOMAINS)}")
        postcode = check_postcode(row["postcode"])
        remote = _yes_no(row["remote"])
        address = " ".join(row["address"].split())
        slot = self._slot(row)
        key = (organisation_id, _fold(title), _fold(address))
        mission = self.missions.get(key)
        if mission is None:
            spec = MissionSpec(
                organisation_id=organisation_id,
                title=title,
                domain=domain,
                description=row["description"].strip(),
                address=address,
                postcode=postcode,
                point=await self._point(row, address, postcode, remote),
                remote=remote,
                timezone=self.zone.key,
            )
            mission = self.missions[key] = _Mission(spec, line)
        elif (domain, remote) != (mission.spec.domain, mission.spec.remote):
            raise RowRejected(f"domain and remote must be the same as line {mission.first_line}")
        same = mission.lines.get((slot.starts_at, slot.ends_at))
        if same is not None:
            raise RowRejected(f"same slot as line {same}; raise its capacity instead")
        mission.lines[(slot.starts_at, slot.ends_at)] = line
        mission.slots.append(slot)

    def _organisation(self, name: str) -> int:
        if not name.strip():
            raise RowRejected("organisation is empty")
        organisation_id = self.organisation_ids.get(_fold(name))
        if organisation_id is None:
            raise RowRejected(
                f"organisation {name.strip()!r} does not exist (create it with renfort org create)"
            )
        return organisation_id

    def _slot(self, row: dict[str, str]) -> SlotSpec:
        slot = SlotSpec(
            local_time(row["start"], self.zone, "start"),
            local_time(row["end"], self.zone, "end"),
            _capacity(row["capacity"]),
        )
        try:
            validate_slot(slot, self.now)
        except InvalidInput as error:
            raise RowRejected(SLOT_REASONS.get(error.code, error.code)) from None
        check_ahead(slot.starts_at, self.now)
        return slot

    async def _point(
        self, row: dict[str, str], address: str, postcode: str | None, remote: bool
    ) -> GeoPoint | None:
        latitude = coordinate(row["latitude"], "latitude", 90)
        longitude = coordinate(row["longitude"], "longitude", 180)
        if (latitude is None) != (longitude is None):
            raise RowRejected("give both latitude and longitude, or neither")
        if latitude is not None and longitude is not None:
            return GeoPoint(latitude, longitude)
        if remote:
            return None
        # The full address is only known to the geocoding API; the postcode alone falls
        # back on the commune's centre from the offline table.
        queries = [q for q in (f"{address} {postcode or ''}".strip(), postcode) if q]
        for query in queries:
            point = await self._resolve(query)
            if point is not None:
                return point
        raise RowRejected("no latitude/longitude and the address and postcode could not be located")

    async def _resolve(self, query: str) -> GeoPoint | None:
        if query not in self._places:
            place = await self.geocoder.resolve(query)
            self._places[query] = None if place is None else place.point
        return self._places[query]

    def specs(self) -> list[MissionSpec]:
        specs = []
        for mission in self.missions.values():
            if not mission.slots:
                continue
            spec = dataclasses.replace(mission.spec, slots=tuple(mission.slots))
            validate_spec(spec, self.now)
            specs.append(spec)
        return specs


async def _organisation_ids(db: Database) -> dict[str, int]:
    return {
        _fold(summary.organisation.name): summary.organisation.id
        for summary in await organisations.list_organisations(db)
    }


async def import_missions(
    db: Database,
    path: Path,
    *,
    zone: ZoneInfo,
    geocoder: Geocoder,
    now: datetime,
    skip_bad: bool = False,
    progress: Progress | None = None,
) -> ImportResult:
    """Check every row, then write all missions in one transaction, or nothing when a row
    is bad (unless `skip_bad`: then the good rows are written and the bad ones reported)."""
    rows = read_rows(path)
    checker = _Checker(await _organisation_ids(db), zone, geocoder, now)
    for done, row in enumerate(rows, start=1):
        await checker.add(row)
        if progress is not None:
            progress("check", done, len(rows))
    errors = tuple(checker.errors)
    specs = checker.specs()
    if (errors and not skip_bad) or not specs:
        return ImportResult(0, 0, errors, len(rows))
    async with db.transaction(TRANSACTION) as conn:
        for done, spec in enumerate(specs, start=1):
            await insert_mission(conn, spec, actor_id=None, transaction=TRANSACTION)
            if progress is not None:
                progress("write", done, len(specs))
    return ImportResult(len(specs), sum(len(s.slots) for s in specs), errors, len(rows))
