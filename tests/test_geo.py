"""Places: typed the way people type them, resolved offline first, then by the geocoder."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from typing import Any

import pytest
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from bot.domain import GeoPoint
from bot.geo import Geocoder, haversine_km, lookup_offline
from bot.sockets import listening_socket

WASSY = {"city": "Wassy", "postcode": "52130", "coordinates": [4.9475, 48.4985]}


# Answers of a misbehaving address base, by query: what a real one sent on a bad day.
ODD_ANSWERS: dict[str, Any] = {
    "no-geometry": {"features": [{"properties": {"city": "Nulle part"}}]},
    "null-geometry": {"features": [{"geometry": None, "properties": {}}]},
    "short-coordinates": {"features": [{"geometry": {"coordinates": [4.9]}}]},
    "text-coordinates": {"features": [{"geometry": {"coordinates": ["est", "nord"]}}]},
    "off-the-globe": {"features": [{"geometry": {"coordinates": [400, 95]}}]},
    "not-a-list": {"features": "none"},
    "a-list": [1, 2, 3],
    "then-good": {
        "features": [
            {"geometry": {}},
            {"geometry": {"coordinates": WASSY["coordinates"]}, "properties": None},
        ]
    },
}


@contextlib.asynccontextmanager
async def address_api(failures: int = 0) -> AsyncIterator[tuple[str, list[str]]]:
    """A double of the national address base's /search/ endpoint; the first `failures`
    calls answer 503."""
    asked: list[str] = []

    async def search(request: Request) -> Response:
        query = request.query_params["q"]
        asked.append(query)
        if len(asked) <= failures:
            return Response("busy", status_code=503)
        if query in ODD_ANSWERS:
            return JSONResponse(ODD_ANSWERS[query])
        if query == "not-json":
            return Response("<html>oops</html>", media_type="text/html")
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
    async with address_api() as (url, asked), Geocoder(url) as geocoder:
        place = await geocoder.resolve("Wassy")
        assert place is not None and place.postcode == "52130"
        assert abs(place.point.latitude - 48.4985) < 1e-6
        assert await geocoder.resolve("52100") is not None
        assert asked == ["Wassy"]  # the offline table answered for 52100
        assert await geocoder.resolve("Nowhere-sur-Rien") is None


async def test_an_unreachable_geocoder_means_not_found_not_a_crash() -> None:
    sock = listening_socket("127.0.0.1", 0)
    port = sock.getsockname()[1]
    sock.close()
    async with Geocoder(f"http://127.0.0.1:{port}", timeout=1) as geocoder:
        assert await geocoder.resolve("Wassy") is None


@pytest.mark.parametrize("query", [*ODD_ANSWERS.keys() - {"then-good"}, "not-json"])
async def test_an_odd_answer_from_the_geocoder_means_not_found(query: str) -> None:
    async with address_api() as (url, asked), Geocoder(url) as geocoder:
        assert await geocoder.resolve(query) is None
        assert asked == [query]


async def test_the_first_feature_with_a_point_is_taken() -> None:
    async with address_api() as (url, _asked), Geocoder(url) as geocoder:
        place = await geocoder.resolve("then-good")
    assert place is not None and place.name == "then-good" and place.point.latitude == 48.4985


async def test_a_busy_geocoder_is_asked_once_more_then_left_alone() -> None:
    async with address_api(failures=1) as (url, asked), Geocoder(url) as geocoder:
        assert await geocoder.resolve("Wassy") is not None
        assert asked == ["Wassy", "Wassy"]
    async with address_api(failures=5) as (url, asked), Geocoder(url) as geocoder:
        assert await geocoder.resolve("Wassy") is None
        assert asked == ["Wassy", "Wassy"]


async def test_one_connection_serves_every_question_and_is_closed_at_the_end() -> None:
    async with address_api() as (url, _asked):
        geocoder = Geocoder(url)
        await geocoder.resolve("Wassy")
        client = geocoder._client
        await geocoder.resolve("52130")
        assert client is not None and geocoder._client is client
        await geocoder.close()
        assert client.is_closed and geocoder._client is None


async def test_a_query_longer_than_any_place_is_not_sent() -> None:
    async with address_api() as (url, asked), Geocoder(url) as geocoder:
        assert await geocoder.resolve("Wassy " * 100) is None
    assert asked == []
