"""Places: distances and resolving a postcode or a town to coordinates.

A small offline table of communes keeps the sandbox and the tests independent of any
network; a configured geocoder (the national address base's API or a compatible one) is
asked when the table does not know a place."""

from __future__ import annotations

import csv
import logging
import math
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import httpx

from bot.domain import GeoPoint

log = logging.getLogger(__name__)
EARTH_RADIUS_KM = 6371.0088
COMMUNES_CSV = Path(__file__).parent / "data" / "communes.csv"
MAX_QUERY = 200  # the address base refuses longer queries; no place name is that long


@dataclass(frozen=True)
class Place:
    name: str
    postcode: str
    point: GeoPoint


def haversine_km(a: GeoPoint, b: GeoPoint) -> float:
    return distances_from(a)(b.latitude, b.longitude)


def distances_from(centre: GeoPoint) -> Callable[[float, float], float]:
    """haversine_km from `centre` to a latitude and longitude, the part that depends on the
    centre worked out once: discovery measures hundreds of missions from one home."""
    lat1, lon1 = math.radians(centre.latitude), math.radians(centre.longitude)
    cos1 = math.cos(lat1)
    sin, cos, asin, sqrt, radians = math.sin, math.cos, math.asin, math.sqrt, math.radians

    def distance(latitude: float, longitude: float) -> float:
        lat2 = radians(latitude)
        h = (
            sin((lat2 - lat1) / 2) ** 2
            + cos1 * cos(lat2) * sin((radians(longitude) - lon1) / 2) ** 2
        )
        return 2 * EARTH_RADIUS_KM * asin(sqrt(h))

    return distance


def bounding_box(centre: GeoPoint, radius_km: float) -> tuple[float, float, float, float]:
    """(min_lat, max_lat, min_lon, max_lon) enclosing the circle, for an indexed pre-filter."""
    dlat = math.degrees(radius_km / EARTH_RADIUS_KM)
    cos_lat = max(math.cos(math.radians(centre.latitude)), 1e-6)
    dlon = math.degrees(radius_km / (EARTH_RADIUS_KM * cos_lat))
    return (
        centre.latitude - dlat,
        centre.latitude + dlat,
        centre.longitude - dlon,
        centre.longitude + dlon,
    )


def fold(text: str) -> str:
    """Lower case, no accents, hyphens and apostrophes as spaces: how people type towns."""
    decomposed = unicodedata.normalize("NFKD", text)
    plain = "".join(c for c in decomposed if not unicodedata.combining(c)).lower()
    for mark in "-'’_.":
        plain = plain.replace(mark, " ")
    plain = " ".join(plain.split())
    return plain.replace("saint ", "st ").replace("sainte ", "ste ")


@cache
def _communes() -> tuple[Place, ...]:
    with COMMUNES_CSV.open(encoding="utf-8") as handle:
        return tuple(
            Place(
                row["name"],
                row["postcode"],
                GeoPoint(float(row["latitude"]), float(row["longitude"])),
            )
            for row in csv.DictReader(handle)
        )


def lookup_offline(query: str) -> Place | None:
    """A postcode (exact) or a town name (accents and case ignored) from the offline table."""
    text = query.strip()
    if not text:
        return None
    if text.isdigit():
        return next((p for p in _communes() if p.postcode == text), None)
    wanted = fold(text)
    return next((p for p in _communes() if fold(p.name) == wanted), None)


class Geocoder:
    """Offline table first, then the configured geocoding API (BAN-compatible), through
    one HTTP client for the process (close it at stop, or use `async with`)."""

    def __init__(self, api_url: str | None, timeout: float = 3.0, retries: int = 1) -> None:
        self.api_url = api_url
        self.timeout = timeout
        self.retries = retries
        self._client: httpx.AsyncClient | None = None

    async def __aenter__(self) -> Geocoder:
        return self

    async def __aexit__(self, *_exc: object) -> None:
        await self.close()

    async def close(self) -> None:
        if self._client is not None:
            await self._client.aclose()
            self._client = None

    def _http(self) -> httpx.AsyncClient:
        if self._client is None:
            self._client = httpx.AsyncClient(timeout=self.timeout)
        return self._client

    async def resolve(self, query: str) -> Place | None:
        if len(query) > MAX_QUERY:
            return None
        found = lookup_offline(query)
        if found is not None or self.api_url is None:
            return found
        return await self._ask_api(query)

    async def _ask_api(self, query: str) -> Place | None:
        params: dict[str, str | int] = {"q": query, "limit": 1}
        if query.strip().isdigit():
            params["type"] = "municipality"
        for attempt in range(self.retries + 1):
            try:
                response = await self._http().get(f"{self.api_url}/search/", params=params)
                if response.status_code >= 500 and attempt < self.retries:
                    continue  # a busy server often answers the second time
                response.raise_for_status()
                return _first_place(response.json(), query)
            except httpx.TransportError as error:  # timeouts, refused connections
                if attempt < self.retries:
                    continue
                log.warning("geocoder unreachable: %s", type(error).__name__)
            except (httpx.HTTPStatusError, ValueError) as error:
                log.warning("geocoder answer unusable: %s", type(error).__name__)
            return None
        return None


def _first_place(body: object, query: str) -> Place | None:
    """The first feature of a GeoJSON answer that has a usable point; None when none has."""
    features = body.get("features") if isinstance(body, dict) else None
    for feature in features if isinstance(features, list) else []:
        place = _place(feature, query)
        if place is not None:
            return place
    return None


def _place(feature: object, query: str) -> Place | None:
    if not isinstance(feature, dict):
        return None
    geometry = feature.get("geometry")
    coordinates = geometry.get("coordinates") if isinstance(geometry, dict) else None
    if not isinstance(coordinates, list) or len(coordinates) < 2:
        return None
    try:
        lon, lat = float(coordinates[0]), float(coordinates[1])
    except (TypeError, ValueError):
        return None
    if not (math.isfinite(lat) and math.isfinite(lon) and -90 <= lat <= 90 and -180 <= lon <= 180):
        return None
    props = feature.get("properties")
    props = props if isinstance(props, dict) else {}
    return Place(
        name=str(props.get("city") or props.get("name") or query)[:100],
        postcode=str(props.get("postcode") or "")[:10],
        point=GeoPoint(lat, lon),
    )
