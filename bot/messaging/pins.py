"""Where a mission happens, as a message points at it: only a place a map can show. A
remote mission has no place, and one placed before missions had coordinates has none to
point at; their text still says where (or that it is remote). A channel that shows no map
of its own links to one."""

from __future__ import annotations

from bot.messaging.message import Pin

ZOOM = 17  # a street and its buildings: enough to find the door


def mission_pin(
    name: str,
    *,
    address: str | None,
    latitude: float | None,
    longitude: float | None,
    remote: bool,
) -> Pin | None:
    """The pin of a mission called `name`, or None when no map can show it."""
    if remote or latitude is None or longitude is None:
        return None
    return Pin(latitude, longitude, name, address or "")


def map_url(pin: Pin) -> str:
    """OpenStreetMap centred on the pin, with its marker."""
    lat, lon = _degrees(pin.latitude), _degrees(pin.longitude)
    return f"https://www.openstreetmap.org/?mlat={lat}&mlon={lon}#map={ZOOM}/{lat}/{lon}"


def _degrees(value: float) -> str:
    # Six decimals place a point within a tenth of a metre; more only lengthens the link.
    return f"{value:.6f}".rstrip("0").rstrip(".")
