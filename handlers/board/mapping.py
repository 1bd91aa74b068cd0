"""The board's map without tiles: missions placed on a plain background by a simple
projection of their coordinates (longitudes shrunk by the latitude's cosine, enough for a
commune or a département), markers coloured by how full their next slot is."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from bot.services.board import BoardMission

WIDTH, HEIGHT, MARGIN = 600, 360, 30


@dataclass(frozen=True)
class Point:
    mission: BoardMission
    x: float
    y: float
    level: str  # full, partial, empty: the marker's colour and its text


def level(fill: float) -> str:
    if fill >= 1.0:
        return "full"
    return "partial" if fill >= 0.5 else "empty"


def map_points(missions: Sequence[BoardMission]) -> list[Point]:
    if not missions:
        return []
    lats = [m.latitude for m in missions]
    lons = [m.longitude for m in missions]
    squeeze = math.cos(math.radians(sum(lats) / len(lats)))
    # A single place, or several on one spot, still needs a span to scale by.
    span_x = max((max(lons) - min(lons)) * squeeze, 1e-3)
    span_y = max(max(lats) - min(lats), 1e-3)
    scale = min((WIDTH - 2 * MARGIN) / span_x, (HEIGHT - 2 * MARGIN) / span_y)
    middle_lon, middle_lat = (max(lons) + min(lons)) / 2, (max(lats) + min(lats)) / 2
    return [
        Point(
            mission=m,
            x=round(WIDTH / 2 + (m.longitude - middle_lon) * squeeze * scale, 1),
            y=round(HEIGHT / 2 - (m.latitude - middle_lat) * scale, 1),
            level=level(m.fill),
        )
        for m in missions
    ]
