"""Where a mission happens, as a message points at it: only a place a map can show. A
remote mission has no place, and one placed before missions had coordinates has none to
point at; their text still says where (or that it is remote)."""

from __future__ import annotations

from bot.messaging.message import Pin


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
