"""Places: typed the way people type them, resolved offline first, then by the geocoder."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

import pytest
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from bot.domain import GeoPoint
from bot.geo import Geocoder, haversine_km, lookup_offline
from bot.sockets import listening_socket

WASSY = {"city": "Wassy", "postcode": "52130", "coordinates": [4.9475, 48.4985]}


@contextlib.asynccontextmanager
async def address_api() -> AsyncIterator[tuple[str, list[str]]]:
    """A double of the national address base's /search/ endpoint."""
    asked: list[str] = []

    async def search(request: Request) -> JSONResponse:
        query = request.query_params["q"]
        asked.append(query)
        features = []
        if query.lower() in ("wassy", "52130"):
            features.append(
                {
                    "geometry": {"type": "Point", "coordinates": WASSY["coordinates"]},
                    "properties": {"city": WASSY["city"], "postcode": WASSY["postcode"]},
                }
            )
        return JSONResponse({"type": "FeatureCollection", "features": features})

    sock = listening_socket("127.0.0.1", 0)
    port = sock.getsockname()[1]
    server = uvicorn.Server(
        uvicorn.Config(Starlette(routes=[Route("/search/", search)]), log_level="warning")
    )
    task = asyncio.create_task(server.serve(sockets=[sock]))
    while not server.started:
        await asyncio.sleep(0.01)
    try:
        yield f"http://127.0.0.1:{port}", asked
    finally:
        server.should_exit = True
        await task


@pytest.mark.parametrize(
    "typed", ["52100", "Saint-Dizier", "saint dizier", "ST DIZIER", "  Saint-Dizier  "]
)
def test_a_town_is_found_however_it_is_typed(typed: str) -> None:
    place = lookup_offline(typed)
    assert place is not None and place.postcode == "52100"


def test_accents_and_case_do_not_matter() -> None:
    place = lookup_offline("chalons en champagne")
    assert place is not None and place.name == "Châlons-en-Champagne"


def test_distances_are_great_circle_kilometres() -> None:
    paris, lyon = GeoPoint(48.8566, 2.3522), GeoPoint(45.7640, 4.8357)
    assert 390 < haversine_km(paris, lyon) < 395


async def test_a_place_unknown_offline_is_asked_to_the_geocoder() -> None:
    async with address_api() as (url, asked):
        place = await Geocoder(url).resolve("Wassy")
        assert place is not None and place.postcode == "52130"
        assert abs(place.point.latitude - 48.4985) < 1e-6
        assert await Geocoder(url).resolve("52100") is not None
        assert asked == ["Wassy"]  # the offline table answered for 52100
        assert await Geocoder(url).resolve("Nowhere-sur-Rien") is None


async def test_an_unreachable_geocoder_means_not_found_not_a_crash() -> None:
    sock = listening_socket("127.0.0.1", 0)
    port = sock.getsockname()[1]
    sock.close()
    assert await Geocoder(f"http://127.0.0.1:{port}", timeout=1).resolve("Wassy") is None
