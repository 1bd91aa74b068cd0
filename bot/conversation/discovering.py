"""Discovering missions, whatever the channel: which missions a person is shown (how far, which
kinds, which dates), a page at a time; a mission's slots one may still apply for, numbered
from 1; and what "mission n" or "mission n, slot k" points at in what was listed.

The channels differ on purpose in a few ways, passed in rather than decided here: how many
missions a page reads (an SMS shows as many as fit one message), and what a person sees
before choosing any filter. Telegram lists every kind and offers "my interests" as a
filter, which then keeps to them even when that leaves nothing: the list says which filter
is on and another is one tap away. A phone has no filter to change, so its list starts from
the person's interests and widens to every kind when nothing matches them."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from typing import TypeVar
from zoneinfo import ZoneInfo

from bot.domain import DEFAULT_RADIUS_KM, MissionStatus
from bot.messaging.message import Pin
from bot.messaging.pins import mission_pin
from bot.services import missions
from bot.services.errors import Conflict
from bot.services.missions import Cursor, MissionCard, MissionDetail, SlotView
from bot.services.people import Person
from storage.database import Database

__all__ = [
    "ANY",
    "MINE",
    "MONTH",
    "WEEK",
    "WEEKEND",
    "WHEN",
    "NoSuchSlot",
    "Opened",
    "Page",
    "Picked",
    "Unlisted",
    "discover",
    "domains_of",
    "listed_slots",
    "open_mission",
    "pick",
    "pick_slot",
    "search_radius",
    "shown_slot",
    "upcoming",
    "window",
]

MINE = "mine"  # the domain filter 'my interests'
ANY, WEEK, WEEKEND, MONTH = "any", "week", "weekend", "month"
WHEN = (ANY, WEEK, WEEKEND, MONTH)

Listed = TypeVar("Listed")


def search_radius(person: Person) -> int | None:
    """Registration stores the default, so an empty radius of a registered person is their
    choice of 'everywhere'; someone not registered yet gets the default."""
    if person.search_radius_km is None and not person.registered:
        return DEFAULT_RADIUS_KM
    return person.search_radius_km


def domains_of(person: Person, domain: str | None) -> tuple[str, ...]:
    """The domains a filter keeps (none: every domain): None for all, MINE for the person's
    interests, else that one domain."""
    if domain == MINE:
        return person.interests
    return () if domain is None else (domain,)


def window(when: str, now: datetime, zone: ZoneInfo) -> tuple[datetime | None, datetime | None]:
    """The dates a 'when' filter keeps, counted in the service's time zone."""
    if when == WEEK:
        return now, now + timedelta(days=7)
    if when == MONTH:
        return now, now + timedelta(days=30)
    if when == WEEKEND:
        today = now.astimezone(zone).date()
        # Saturday of this weekend (on a Sunday, the day before).
        saturday = today + timedelta(days=(5 - today.weekday()) % 7)
        if today.weekday() == 6:
            saturday = today - timedelta(days=1)
        starts = datetime.combine(saturday, time(), tzinfo=zone)
        return max(starts, now), starts + timedelta(days=2)
    return None, None


@dataclass(frozen=True)
class Page:
    """Missions for a person, nearest first, those with a free place before the full ones."""

    cards: tuple[MissionCard, ...]
    radius_km: int | None  # the radius searched (None: everywhere)
    # How many match from this page's first card on; None when more match than were read.
    total: int | None
    more: bool  # missions are left after the last card read
    widened: bool  # the person's interests matched nothing: every domain instead
    cursors: tuple[Cursor, ...]  # where the list goes on after each card

    def after(self, shown: int) -> Cursor:
        """Where the list goes on once its first `shown` cards are shown (a channel may show
        fewer than were read)."""
        return self.cursors[shown - 1]

    def left_after(self, shown: int) -> bool:
        """Whether missions are left once the first `shown` cards are shown."""
        return shown < len(self.cards) or self.more

    @property
    def next(self) -> Cursor | None:
        """Where the next page starts; None on the last page."""
        return self.cursors[-1] if self.more and self.cursors else None


async def discover(
    db: Database,
    person: Person,
    *,
    now: datetime,
    zone: ZoneInfo,
    limit: int,
    domain: str | None = None,
    when: str = ANY,
    after: Cursor | None = None,
    widen: bool = False,
) -> Page:
    """The page of missions after `after` (None: the first page) for the person, near their
    home within `search_radius`, of the domains `domain` keeps, in the dates `when` keeps.
    `widen`: a first page of the person's interests that finds nothing shows every domain
    instead (the page says so, for the pages after it to go on the same way)."""
    radius = search_radius(person)
    domains = domains_of(person, domain)
    date_from, date_to = window(when, now, zone)

    async def read(domains: Sequence[str]) -> missions.DiscoveryPage:
        return await missions.discover(
            db,
            now=now,
            near=person.home,
            radius_km=radius,
            domains=domains,
            date_from=date_from,
            date_to=date_to,
            after=after,
            limit=limit,
        )

    found = await read(domains)
    widened = widen and domain == MINE and bool(domains) and after is None and not found.cards
    if widened:
        found = await read(())
    return Page(found.cards, radius, found.total, found.more, widened, found.cursors)


def upcoming(slots: Sequence[SlotView], now: datetime) -> tuple[SlotView, ...]:
    """The slots of a mission one may still apply for (those not started), in the order of
    its detail (soonest first): numbered from 1 in this order on every channel."""
    return tuple(s for s in slots if s.starts_at > now)


@dataclass(frozen=True)
class Opened:
    """A published mission and its slots one may still apply for, numbered from 1."""

    detail: MissionDetail
    slots: tuple[SlotView, ...]

    @property
    def slot_ids(self) -> list[int]:
        return [s.id for s in self.slots]

    @property
    def pin(self) -> Pin | None:
        """Where the mission happens, for a channel that can show it on a map."""
        detail, point = self.detail, self.detail.point
        return mission_pin(
            detail.title,
            address=", ".join(p for p in (detail.address, detail.postcode or "") if p),
            latitude=None if point is None else point.latitude,
            longitude=None if point is None else point.longitude,
            remote=detail.remote,
        )


async def open_mission(db: Database, mission_id: int, now: datetime) -> Opened:
    """The mission and its upcoming slots, or the refusal a closed one deserves."""
    detail = await missions.mission_detail(db, mission_id)
    if detail.status != MissionStatus.PUBLISHED:
        raise Conflict("mission_closed")
    return Opened(detail, upcoming(detail.slots, now))


def shown_slot(card: MissionCard, slots: Sequence[SlotView]) -> int | None:
    """The number, among the mission's upcoming `slots`, of the slot whose date its list line
    shows: the first with a free place, or the first of a full mission."""
    for number, slot in enumerate(slots, 1):
        if slot.starts_at >= card.next_start and (card.full or slot.free > 0):
            return number
    return None


async def listed_slots(db: Database, cards: Sequence[MissionCard], now: datetime) -> dict[int, int]:
    """For each listed mission, the number its page gives the slot its list line shows; one
    read for the whole page (the same slots `upcoming` keeps of each mission)."""
    slots = await missions.upcoming_slots(db, [c.id for c in cards], now)
    numbers: dict[int, int] = {}
    for card in cards:
        number = shown_slot(card, slots[card.id])
        if number is not None:
            numbers[card.id] = number
    return numbers


@dataclass(frozen=True)
class Unlisted:
    """A number the list did not give: it gave `count` (0: there was no list)."""

    count: int


@dataclass(frozen=True)
class NoSuchSlot:
    """Mission `number` of the list has `count` upcoming slots (0: none left), not the one
    asked for."""

    number: int
    count: int


@dataclass(frozen=True)
class Picked:
    """The slot a list line pointed at, with its mission opened as its own page numbers it."""

    mission: Opened
    slot: SlotView


def pick(listed: Sequence[Listed], number: int) -> Listed | Unlisted:
    """What the list numbered `number`, counting from 1."""
    if not 1 <= number <= len(listed):
        return Unlisted(len(listed))
    return listed[number - 1]


async def pick_slot(
    db: Database, listed: Sequence[int], number: int, slot: int, now: datetime
) -> Picked | Unlisted | NoSuchSlot:
    """Slot `slot` of mission `number` of the missions `listed` (their ids, in list order),
    numbered as the mission's own page numbers its slots."""
    mission_id = pick(listed, number)
    if isinstance(mission_id, Unlisted):
        return mission_id
    opened = await open_mission(db, mission_id, now)
    found = pick(opened.slots, slot)
    if isinstance(found, Unlisted):
        return NoSuchSlot(number, found.count)
    return Picked(opened, found)
