"""A coordinator's tools through the chat: the applications export, the calendar feed over
HTTP, the poster; numbers stay private."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import httpx

from bot.services import applications
from tests.conftest import NOW
from tests.factories import first_slot, polling_station, volunteer
from tests.harness import FakeClock, running_in_public
from tests.organiser_steps import COORDINATOR, GROUP, VOLUNTEER, coordinator_with_group
from tests.qr import qr_text


async def test_export_poster_and_calendar_feed_from_the_admin_group(tmp_path: Path) -> None:
    async with running_in_public(tmp_path, FakeClock(NOW)) as bot:
        public = bot.public_url
        mairie = await coordinator_with_group(bot)
        mission_id = await polling_station(bot.db, mairie.id, now=NOW)
        camille = await volunteer(bot.db, VOLUNTEER, "Camille")
        slot_id = await first_slot(bot.db, mission_id)
        await applications.apply(bot.db, person_id=camille.id, slot_id=slot_id, now=NOW)

        await bot.drain()
        before = len(bot.double.messages[GROUP])
        await bot.say(COORDINATOR, "/export", chat_id=GROUP)
        picker = await bot.double.wait_for(GROUP, after=before, button="Assesseur")
        await bot.tap(COORDINATOR, picker, "Assesseur")
        export = await bot.double.wait_for(GROUP, "", after=0, timeout=30, document=".csv")
        assert export.document_data is not None
        rows = list(csv.reader(io.StringIO(export.document_data.decode("utf-8-sig"))))
        assert any("Camille" in row for row in rows[1:])
        assert "+33" not in export.document_data.decode("utf-8-sig")

        feed = (await bot.say(COORDINATOR, "/ics", chat_id=GROUP))[-1]
        assert public in feed.text
        url = next(w for w in feed.text.split() if w.startswith(public))
        async with httpx.AsyncClient() as client:
            calendar = await client.get(url)
            unknown = await client.get(f"{public}/ics/not-a-token.ics")
        assert calendar.status_code == 200 and "BEGIN:VEVENT" in calendar.text
        assert "DTSTART:20270613T060000Z" in calendar.text  # 08:00 in Paris
        assert unknown.status_code == 404

        before = len(bot.double.messages[GROUP])
        await bot.say(COORDINATOR, "/poster", chat_id=GROUP)
        picker = await bot.double.wait_for(GROUP, after=before, button="Assesseur")
        await bot.tap(COORDINATOR, picker, "Assesseur")
        png = await bot.double.wait_for(GROUP, "", after=0, timeout=60, document=".png")
        assert png.document_data is not None
        assert qr_text(png.document_data) == f"https://t.me/renfort_bot?start=m{mission_id}"
