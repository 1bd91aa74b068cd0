"""Where a mission happens, shown by each channel its own way: a Map button on Telegram, a
location pin on WhatsApp, the address alone by SMS. A remote mission, or a reminder queued
before reminders carried coordinates, points at no place and still says where."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from pathlib import Path
from typing import Any

from bot.i18n import Translator
from bot.services import missions
from bot.services.missions import MissionSpec, SlotSpec
from handlers.sms.render import notification_message
from handlers.telegram.map_link import with_map
from handlers.telegram.render import render
from renfort.sandbox.telegram_double import SentMessage
from tests.conftest import NOW
from tests.factories import ELECTION_MORNING, SAINT_DIZIER, commune
from tests.harness import FakeClock, running_bot, sqlite_file_url
from tests.schedule_steps import approved, person, place
from tests.test_reminders import DAY_BEFORE, meet
from tests.test_render import snapshot
from tests.test_sms_end_to_end import PHONE, approved_by_sms, renfort_with_sms
from tests.test_volunteer_support import Chat, database_url, mission, register, volunteer_bot
from tests.test_whatsapp import (
    approve,
    registered_and_applied,
    renfort_with_whatsapp,
    writes,
)

EN = Translator("en")
ADDRESS = "École Jules Ferry, 12 rue de la République"  # the polling station's
OSM = "https://www.openstreetmap.org/?mlat=48.6383&mlon=4.9497#map=17/48.6383/4.9497"
PIN = f"geo:48.6383,4.9497|{ADDRESS}"


def last_row(message: SentMessage) -> list[dict[str, Any]]:
    return message.buttons[-1] if message.buttons else []


def no_map(message: SentMessage) -> bool:
    return not any("openstreetmap" in str(b.get("url")) for row in message.buttons for b in row)


async def test_a_reminder_on_telegram_opens_the_mission_s_place_on_a_map(tmp_path: Path) -> None:
    clock = FakeClock(NOW)
    async with running_bot(sqlite_file_url(tmp_path), clock) as bot:
        meet(bot.double)
        spot = await place(bot.db, now=NOW, starts_at=ELECTION_MORNING)
        for who in (
            await person(bot.db, 20, "Camille", "fr"),
            await person(bot.db, 21, "Sam", "en"),
        ):
            await approved(bot.db, spot, who.id, NOW)
        clock.current = DAY_BEFORE
        await bot.tick_and_send()
        await bot.tick_and_send()
        [french] = bot.double.messages[20][-1:]
        [english] = bot.double.messages[21][-1:]
        assert "⏰" in english.text and ADDRESS in english.text  # the text stands without it
        assert last_row(english) == [{"text": "🗺 Map", "url": OSM}]
        assert last_row(french) == [{"text": "🗺 Plan", "url": OSM}]


async def test_a_remote_mission_s_reminder_has_no_map(tmp_path: Path) -> None:
    clock = FakeClock(NOW)
    async with running_bot(sqlite_file_url(tmp_path), clock) as bot:
        meet(bot.double)
        spot = await place(bot.db, now=NOW, starts_at=ELECTION_MORNING)
        online = await mission(bot.db, spot.organisation.id, "Standard téléphonique", point=None)
        slot_id = (await missions.mission_detail(bot.db, online)).slots[0].id
        sam = await person(bot.db, 21, "Sam", "en")
        await approved(bot.db, replace(spot, slot_id=slot_id, mission_id=online), sam.id, NOW)
        clock.current = DAY_BEFORE
        await bot.tick_and_send()
        await bot.tick_and_send()
        [reminder] = bot.double.messages[21][-1:]
        assert "Standard téléphonique" in reminder.text and "Remote" in reminder.text
        assert no_map(reminder)


async def test_a_reminder_by_sms_says_the_address_and_nothing_more(tmp_path: Path) -> None:
    async with renfort_with_sms(tmp_path) as (bot, twilio):
        spot = await place(bot.db, now=NOW, starts_at=ELECTION_MORNING)
        await approved_by_sms(bot, twilio, "Camille", spot.coordinator_id)
        bot.clock.current = DAY_BEFORE
        await bot.tick_and_send()
        [reminder] = [s for s in twilio.inbox[PHONE] if "reminder" in s.body]
        assert "École Jules Ferry" in reminder.body
        assert reminder.persistent_actions == [] and reminder.content_sid is None


async def test_a_reminder_on_whatsapp_carries_the_location_pin_inside_the_window(
    tmp_path: Path,
) -> None:
    async with renfort_with_whatsapp(tmp_path) as (bot, twilio):
        before = await registered_and_applied(bot, twilio)
        await approve(bot, before)
        bot.clock.advance(days=5, hours=6)  # the evening before, an hour before the reminder
        await writes(twilio, "HELP")
        seen = len(twilio.on_whatsapp(PHONE))
        bot.clock.advance(hours=1, minutes=30)
        await bot.tick_and_send()
        await bot.tick_and_send()
        [reminder] = twilio.on_whatsapp(PHONE)[seen:]
        assert reminder.body.startswith("Renfort reminder") and "École Jules Ferry" in reminder.body
        assert reminder.content_sid is None and reminder.persistent_actions == [PIN]


async def test_a_reminder_on_whatsapp_outside_the_window_says_the_address_in_its_template(
    tmp_path: Path,
) -> None:
    async with renfort_with_whatsapp(tmp_path) as (bot, twilio):
        before = await registered_and_applied(bot, twilio)
        await approve(bot, before)
        seen = len(twilio.on_whatsapp(PHONE))
        bot.clock.advance(days=5, hours=7, minutes=30)
        await bot.tick_and_send()
        await bot.tick_and_send()
        [reminder] = twilio.on_whatsapp(PHONE)[seen:]
        assert reminder.content_sid is not None and "École Jules Ferry" in reminder.body
        assert reminder.persistent_actions == []


def test_a_reminder_queued_before_coordinates_travelled_still_renders_without_a_place() -> None:
    old = snapshot(number=1)  # the payload as the previous release stored it
    telegram = with_map(render("reminder_day_before", old, EN), EN)
    phone = notification_message("reminder_day_before", old, EN, NOW)
    assert ADDRESS in telegram.text and telegram.place is None and telegram.rows == []
    assert ADDRESS in phone.text and phone.place is None
    placed = snapshot(number=1, latitude=48.6383, longitude=4.9497)
    [[button]] = with_map(render("reminder_hours_before", placed, EN), EN).rows
    assert (button.label, button.url) == ("🗺 Map", OSM)


async def test_a_mission_s_page_on_telegram_has_the_map_a_remote_one_none(tmp_path: Path) -> None:
    async with volunteer_bot(database_url(tmp_path), FakeClock(NOW)) as bot:
        org = await commune(bot.db)
        await mission(bot.db, org.id, "Assesseur")
        await mission(bot.db, org.id, "Standard téléphonique", point=None)
        chat = Chat(bot, 1, "Camille", "en")
        await register(chat, "52100", ("citizenship",))
        listing = (await chat.say("/missions"))[-1]
        await chat.tap(listing, "Assesseur")
        assert "Place de la mairie, 52100" in listing.text
        [button] = last_row(listing)
        assert button["text"] == "🗺 Map" and button["url"].startswith(
            "https://www.openstreetmap.org/?mlat=48.6383&mlon=4.9497"
        )
        await chat.tap(listing, "Back to the list")
        await chat.tap(listing, "Standard")
        assert "Remote" in listing.text and no_map(listing)


def station(organisation_id: int, slots: int) -> MissionSpec:
    starts = [ELECTION_MORNING + timedelta(days=d) for d in range(slots)]
    return MissionSpec(
        organisation_id=organisation_id,
        title="Assesseur",
        domain="citizenship",
        description="Tenir le bureau de vote.",
        address=ADDRESS,
        postcode="52100",
        point=SAINT_DIZIER,
        slots=tuple(SlotSpec(s, s + timedelta(hours=5), 2) for s in starts),
    )


async def test_a_mission_s_page_with_quick_replies_on_whatsapp_links_to_the_map(
    tmp_path: Path,
) -> None:
    """Two slots: quick replies, which cannot carry a pin; the text ends with the map's link."""
    async with renfort_with_whatsapp(tmp_path) as (bot, twilio):
        org = await commune(bot.db)
        await missions.create_mission(bot.db, station(org.id, 2), actor_id=None, now=NOW)
        await writes(twilio, "Hello", "Camille 52100", "MISSIONS")
        [page] = await writes(twilio, "1")
        shown = twilio.on_whatsapp(PHONE)[-1]
        assert len(shown.buttons) == 2 and shown.persistent_actions == []
        assert ADDRESS in page and page.endswith("\n📍 " + OSM)


async def test_a_mission_s_page_on_whatsapp_carries_the_pin_and_by_sms_the_address(
    tmp_path: Path,
) -> None:
    async with renfort_with_whatsapp(tmp_path) as (bot, twilio):
        org = await commune(bot.db)
        # Four slots: too many for quick replies, so the page goes with its pin.
        spec = station(org.id, 4)
        await missions.create_mission(bot.db, spec, actor_id=None, now=NOW)
        await writes(twilio, "Hello", "Camille 52100", "MISSIONS")
        [page] = await writes(twilio, "1")
        shown = twilio.on_whatsapp(PHONE)[-1]
        assert ADDRESS in page and shown.buttons == []
        assert shown.persistent_actions == [f"geo:48.6383,4.9497|{ADDRESS}, 52100"]

        phone = "+33698765432"
        await twilio.text(phone, "Hello, Sam 52100")
        await twilio.text(phone, "MISSIONS")
        by_sms = await twilio.text(phone, "1")
        [answer] = by_sms.replies
        assert ADDRESS in answer.body
