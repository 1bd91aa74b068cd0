"""Registering, whatever the channel: what a person still lacks (a first name, a home) and so
the step they stand at, a home read from what they typed, a partial answer kept, and the
registration finished with what nobody asked given its default.

Both channels read the step from the person record, so a registration begun on one resumes
at the right step on the other. A phone asks for the first name and the postcode in one
message and leaves interests for later; Telegram, on top of these steps, has the person
confirm the name Telegram gave and offers the interests before finishing."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum

from bot.domain import DEFAULT_RADIUS_KM, DOMAINS
from bot.geo import Geocoder, Place
from bot.services import people
from bot.services.people import UNSET, Person
from storage.database import Database, Inbound

__all__ = [
    "PLACE_MAX",
    "Step",
    "UnknownPlace",
    "finish",
    "resolve_home",
    "save",
    "step",
]

# Longer than any French commune's name, postcode included: anything beyond is not a place
# name, though it may be an address that holds a postcode.
PLACE_MAX = 60
# A postcode inside a longer text: five digits, or '52 100', standing alone.
_SPACED_POSTCODE = re.compile(r"(\d{2}) (\d{3})")
_POSTCODE_INSIDE = re.compile(r"(?<![\d.,])(\d{2}) ?(\d{3})(?![\d.,]*\d)")


class Step(StrEnum):
    """What registering asks next."""

    NAME_AND_HOME = "name_and_home"
    NAME = "name"
    HOME = "home"
    FINISH = "finish"  # nothing lacking: finishing is all that is left


@dataclass(frozen=True)
class UnknownPlace:
    """Typed text that names no place we know."""

    typed: str


def step(person: Person, *, first_name: str | None = None, home: Place | None = None) -> Step:
    """The step `person` stands at, once what they just said (`first_name`, `home`) counts."""
    named = bool(first_name or person.first_name)
    housed = home is not None or person.home is not None
    if not named and not housed:
        return Step.NAME_AND_HOME
    if not named:
        return Step.NAME
    if not housed:
        return Step.HOME
    return Step.FINISH


async def resolve_home(geocoder: Geocoder, typed: str) -> Place | UnknownPlace:
    """The place a typed postcode or town names. Longer than a place name, only the postcode
    it holds is looked up (a full address typed in answer finds its commune), and a long
    sentence without one is not sent to the geocoder at all, where it could match anything."""
    text = typed.strip()
    query: str | None = text if 0 < len(text) <= PLACE_MAX else None
    spaced = _SPACED_POSTCODE.fullmatch(text)
    if spaced is not None:  # '52 100', as a postcode is often said and written
        query = spaced.group(1) + spaced.group(2)
    elif query is None and (inside := _POSTCODE_INSIDE.search(text)) is not None:
        query = inside.group(1) + inside.group(2)
    place = await geocoder.resolve(query) if query is not None else None
    return UnknownPlace(text) if place is None else place


async def save(
    db: Database,
    person_id: int,
    *,
    first_name: str | None = None,
    home: Place | None = None,
    locale: str | None = None,
    inbound: Inbound | None,
) -> Person:
    """Keep what the person said so far (nothing else changes), in one transaction with the
    turn's inbound id and next state."""
    return await people.update_profile(
        db,
        person_id,
        first_name=UNSET if first_name is None else first_name,
        home=UNSET if home is None else home,
        locale=UNSET if locale is None else locale,
        inbound=inbound,
    )


async def finish(
    db: Database,
    person: Person,
    *,
    first_name: str | None = None,
    home: Place | None = None,
    locale: str | None = None,
    interests: Sequence[str] = (),
    inbound: Inbound | None,
) -> Person:
    """The person registered, with what they said last, in one transaction with the turn's
    inbound. The radius is stored (the default one when none was chosen) so that an empty
    radius may later mean 'everywhere'. Interests chosen now replace those chosen before;
    with none at all, every domain: a callout reaches only people interested in its domain,
    and a crisis of any kind must still reach them. They narrow it later."""
    chosen = list(interests) or ([] if person.interests else list(DOMAINS))
    radius = DEFAULT_RADIUS_KM if person.search_radius_km is None else person.search_radius_km
    return await people.update_profile(
        db,
        person.id,
        first_name=UNSET if first_name is None else first_name,
        home=UNSET if home is None else home,
        locale=UNSET if locale is None else locale,
        interests=chosen or UNSET,
        search_radius_km=radius,
        complete_registration=True,
        inbound=inbound,
    )
