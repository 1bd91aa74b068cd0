"""Discovering missions, whatever the channel: how far a person's search reaches, which dates
'this weekend' keeps, interests that match nothing, pages that go on where the last one
stopped, and slot numbers that point at the date a list line shows."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from bot.conversation import discovering
from bot.conversation.discovering import MINE, WEEKEND, NoSuchSlot, Picked, Unlisted
from bot.domain import GeoPoint
from bot.geo import lookup_offline
from bot.runtime import Renfort
from bot.services import applications, people
from bot.services.missions import Cursor, MissionCard, SlotView
from bot.services.people import Person
from handlers.sms.conversation import SmsConversations
from storage.database import Database
from tests.conftest import NOW
from tests.factories import ELECTION_MORNING, SAINT_DIZIER, commune, polling_station, volunteer
from tests.harness import FakeClock
from tests.sms_steps import Resident, sms_renfort
from tests.test_volunteer_support import (
    CHAUMONT,
    Chat,
    database_url,
    mission,
    register,
    volunteer_bot,
)

PARIS = ZoneInfo("Europe/Paris")


def card(next_start: datetime, *, free_places: int) -> MissionCard:
    return MissionCard(
        id=1,
        title="Assesseur",
        domain="citizenship",
        organisation_id=1,
        organisation_name="Mairie de Saint-Dizier",
        address="Place de la mairie",
        postcode="52100",
        remote=False,
        timezone="Europe/Paris",
        distance_km=0.1,
        next_start=next_start,
        free_places=free_places,
        open_slots=1,
    )


async def titles(db: Database, person: Person, domain: str | None = None) -> list[str]:
    page = await discovering.discover(db, person, now=NOW, zone=PARIS, limit=10, domain=domain)
    return [card.title for card in page.cards]


async def test_an_empty_radius_means_everywhere_once_registered_the_default_before(
    db: Database,
) -> None:
    org = await commune(db)
    await polling_station(db, org.id, now=NOW, title="Saint-Dizier")
    await polling_station(db, org.id, now=NOW, title="Chaumont", point=CHAUMONT)
    newcomer = await people.ensure_telegram_person(
        db, telegram_user_id=5, chat_id=5, first_name="Lou", language_code="fr"
    )
    newcomer = await people.update_profile(db, newcomer.id, home=lookup_offline("52100"))
    registered = await volunteer(db, 6, "Camille")
    assert (newcomer.search_radius_km, registered.search_radius_km) == (None, None)

    # Someone not registered yet (Telegram lets them look) sees the default 30 km; a
    # registered person's empty radius is their choice of everywhere. A phone only lists
    # missions once registration is done, which stores the default radius.
    assert await titles(db, newcomer) == ["Saint-Dizier"]
    assert await titles(db, registered) == ["Saint-Dizier", "Chaumont"]
    narrow = await people.update_profile(db, registered.id, search_radius_km=30)
    assert await titles(db, narrow) == ["Saint-Dizier"]


def test_this_weekend_is_counted_in_the_service_time_zone() -> None:
    monday = datetime(2027, 6, 14, tzinfo=PARIS)
    saturday_morning = datetime(2027, 6, 12, 10, tzinfo=PARIS)
    assert discovering.window(WEEKEND, saturday_morning, PARIS) == (saturday_morning, monday)
    sunday_evening = datetime(2027, 6, 13, 20, tzinfo=PARIS)
    assert discovering.window(WEEKEND, sunday_evening, PARIS) == (sunday_evening, monday)
    # Just after midnight on Saturday in France, still Friday in UTC: already the weekend.
    friday_utc = datetime(2027, 6, 11, 22, 30, tzinfo=ZoneInfo("UTC"))
    assert discovering.window(WEEKEND, friday_utc, PARIS) == (friday_utc, monday)
    wednesday = datetime(2027, 6, 9, 12, tzinfo=PARIS)
    assert discovering.window(WEEKEND, wednesday, PARIS) == (
        datetime(2027, 6, 12, tzinfo=PARIS),
        monday,
    )


async def test_interests_that_match_nothing_widen_to_every_domain_only_when_asked(
    db: Database,
) -> None:
    org = await commune(db)
    await mission(db, org.id, "Nettoyage des berges", domain="environment")
    camille = await volunteer(db, 1)  # interested in elections only

    # Telegram's 'my interests' filter keeps to them: the list says the filter is on.
    assert await titles(db, camille, domain=MINE) == []
    # A phone has no filter to change: its list widens rather than show nothing.
    page = await discovering.discover(
        db, camille, now=NOW, zone=PARIS, limit=10, domain=MINE, widen=True
    )
    assert [c.title for c in page.cards] == ["Nettoyage des berges"] and page.widened
    await polling_station(db, org.id, now=NOW, title="Assesseur")
    page = await discovering.discover(
        db, camille, now=NOW, zone=PARIS, limit=10, domain=MINE, widen=True
    )
    assert [c.title for c in page.cards] == ["Assesseur"] and not page.widened


async def test_a_page_goes_on_after_the_last_mission_shown(db: Database) -> None:
    org = await commune(db)
    for number in range(1, 9):  # further each time
        place = GeoPoint(SAINT_DIZIER.latitude + number * 0.01, SAINT_DIZIER.longitude)
        await mission(db, org.id, f"Bureau {number}", point=place)
    camille = await volunteer(db, 1)

    first = await discovering.discover(db, camille, now=NOW, zone=PARIS, limit=6)
    assert len(first.cards) == 6 and first.left_after(6)
    # Three shown (all an SMS had room for): the next page starts with the fourth.
    kept = Cursor.of(json.loads(json.dumps(first.after(3).data())))
    second = await discovering.discover(db, camille, now=NOW, zone=PARIS, limit=6, after=kept)
    assert [c.title for c in second.cards] == [f"Bureau {n}" for n in range(4, 9)]
    assert not second.left_after(5) and second.next is None


async def test_the_slot_a_list_line_numbers_is_the_one_whose_date_it_shows(
    db: Database,
) -> None:
    org = await commune(db)
    afternoon = ELECTION_MORNING + timedelta(hours=6)
    mission_id = await polling_station(db, org.id, now=NOW, capacity=1, starts_at=afternoon)
    lou = await volunteer(db, 9, "Lou")
    camille = await volunteer(db, 1)
    opened = await discovering.open_mission(db, mission_id, NOW)
    [slot] = opened.slots
    await applications.apply(db, person_id=lou.id, slot_id=slot.id, now=NOW)

    page = await discovering.discover(db, camille, now=NOW, zone=PARIS, limit=5)
    numbers = await discovering.listed_slots(db, page.cards, NOW)
    # A full mission points at its first slot, to join the waiting list.
    assert numbers == {mission_id: 1}
    picked = await discovering.pick_slot(db, [mission_id], 1, numbers[mission_id], NOW)
    assert isinstance(picked, Picked) and picked.slot.starts_at == page.cards[0].next_start


def test_slots_started_are_not_numbered_and_full_ones_are_skipped_on_the_list() -> None:
    now = datetime(2027, 6, 13, 9, tzinfo=PARIS)

    def slot(slot_id: int, hour: int, taken: int) -> SlotView:
        starts = datetime(2027, 6, 13, hour, tzinfo=PARIS)
        return SlotView(slot_id, 1, starts, starts + timedelta(hours=2), 1, taken)

    started, full, free = slot(1, 8, 0), slot(2, 10, 1), slot(3, 14, 0)
    numbered = discovering.upcoming((started, full, free), now)
    assert numbered == (full, free)
    # The list shows the first date with a free place, and calls it slot 2 as the page does.
    assert discovering.shown_slot(card(free.starts_at, free_places=1), numbered) == 2
    # With every place taken, the first date, to join its waiting list.
    assert discovering.shown_slot(card(full.starts_at, free_places=0), (full,)) == 1


async def test_numbers_the_list_did_not_give_say_how_many_it_gave(db: Database) -> None:
    org = await commune(db)
    mission_id = await polling_station(db, org.id, now=NOW)
    assert discovering.pick([mission_id], 2) == Unlisted(1)
    assert discovering.pick([], 1) == Unlisted(0)
    assert await discovering.pick_slot(db, [mission_id], 1, 3, NOW) == NoSuchSlot(1, 1)
    # Once its only slot has started, the mission has nothing left to apply for.
    later = ELECTION_MORNING + timedelta(minutes=1)
    assert await discovering.pick_slot(db, [mission_id], 1, 1, later) == NoSuchSlot(1, 0)


async def test_telegram_keeps_to_the_interests_filter_once_chosen(tmp_path: Path) -> None:
    async with volunteer_bot(database_url(tmp_path), FakeClock(NOW)) as bot:
        org = await commune(bot.db)
        await mission(bot.db, org.id, "Nettoyage des berges", domain="environment")
        chat = Chat(bot, 1, "Camille", "en")
        await register(chat, "52100", ("citizenship",))
        listing = (await chat.say("/missions"))[-1]
        assert "Nettoyage" in listing.text  # every kind until a filter is chosen
        await chat.tap(listing, "🏷")
        await chat.tap(listing, "My interests")
        assert "Nettoyage" not in listing.text and "No mission matches" in listing.text


async def test_a_phone_list_widens_when_the_interests_match_nothing(db: Database) -> None:
    renfort: Renfort = sms_renfort(db, FakeClock(NOW))
    resident = Resident(SmsConversations(renfort))
    await mission(db, (await commune(db)).id, "Nettoyage des berges", domain="environment")
    await resident.registers(language="2")
    await resident.says("INTERESTS")
    await resident.says("1")  # elections only
    assert "1.1 Nettoyage des berges" in (await resident.says("MISSIONS"))
