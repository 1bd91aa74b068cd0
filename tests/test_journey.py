"""The first journey a commune uses on election week, end to end through the chat: a
resident registers, finds the nearest polling-station mission and applies; the coordinator
approves with one tap in the mairie's admin group; the resident is told. It survives the
bot being killed between the application and the decision."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import pytest
from sqlalchemy import select

from bot.i18n import Translator
from bot.sandbox.telegram_double import SentMessage, TelegramDouble
from bot.services import organisations
from storage import schema
from storage.database import Database
from storage.migrate import upgrade
from tests.conftest import NOW
from tests.factories import commune, polling_station, volunteer
from tests.harness import FakeClock, free_port, running_bot, sqlite_file_url

VOLUNTEER, COORDINATOR, ADMIN_GROUP = 1, 900, -100_200_300
MISSION = "Assesseur — bureau de vote n°3"
APPROVE = Translator("fr")._("✅ Approve")  # the admin group speaks the service's language


async def prepare_commune(db: Database) -> None:
    """The mairie, its coordinator, its linked admin group and the polling station."""
    mairie = await commune(db)
    coordinator = await volunteer(db, COORDINATOR, "Dominique")
    await organisations.join(db, coordinator.id, mairie.invite_code)
    await organisations.link_admin_chat(
        db, person_id=coordinator.id, organisation_id=mairie.id, chat_id=ADMIN_GROUP, title="Mairie"
    )
    await polling_station(db, mairie.id, now=NOW, capacity=2)


class Person:
    """Someone typing and tapping in their chat with the bot, through the double only."""

    def __init__(self, double: TelegramDouble, user_id: int, t: Translator) -> None:
        self.double, self.user_id, self.t = double, user_id, t

    async def say(self, text: str, expect: str = "", button: str = "") -> SentMessage:
        before = len(self.double.messages[self.user_id])
        self.double.send_text(self.user_id, text)
        return await self.double.wait_for(
            self.user_id, expect, after=before, timeout=20, button=button
        )

    async def tap(self, message: SentMessage, label: str, changed_to: str) -> SentMessage:
        """Tap, then wait until the message (edited in place) shows `changed_to`."""
        edits = message.edits
        self.double.tap(self.user_id, message, label)
        for _ in range(1000):
            if message.edits > edits and changed_to.lower() in message.text.lower():
                return message
            await asyncio.sleep(0.02)
        raise TimeoutError(f"{message.text!r} never showed {changed_to!r}")

    async def tap_for_new(self, message: SentMessage, label: str, expect: str) -> SentMessage:
        """Tap, then wait for a new message showing `expect`."""
        before = len(self.double.messages[self.user_id])
        self.double.tap(self.user_id, message, label)
        return await self.double.wait_for(self.user_id, expect, after=before, timeout=20)


async def register_and_apply(resident: Person) -> None:
    """Registration (name kept, postcode typed, one interest), then /missions → apply."""
    t = resident.t
    citizenship = t._("Citizenship and elections")
    welcome = await resident.say("/start", button="Camille")
    await resident.tap_for_new(welcome, "Camille", "")
    interests = await resident.say("52100", button=citizenship)
    await resident.tap(interests, citizenship, "")
    await resident.tap(interests, "✅", "/missions")

    found = await resident.say("/missions", "Assesseur")
    weekday = "dimanche" if t.locale == "fr" else "Sunday"
    await resident.tap(found, "Assesseur", weekday)
    await resident.tap(found, weekday, "")
    await resident.tap(found, "✅", "Mairie de Saint-Dizier")


@pytest.mark.parametrize("language", ["fr", "en"])
async def test_a_resident_applies_and_the_coordinator_approves_in_the_admin_group(
    tmp_path: Path, language: str
) -> None:
    async with running_bot(sqlite_file_url(tmp_path), FakeClock(NOW)) as bot:
        await prepare_commune(bot.db)
        double = bot.double
        double.user(VOLUNTEER, "Camille", language)
        double.user(COORDINATOR, "Dominique", "fr")
        double.group(ADMIN_GROUP, "Mairie de Saint-Dizier — bénévoles", admins=(COORDINATOR,))
        resident = Person(double, VOLUNTEER, Translator(language))

        await register_and_apply(resident)
        assert bot.service.dispatcher is not None
        await bot.service.dispatcher.drain()
        posted = await double.wait_for(ADMIN_GROUP, "Camille", timeout=20)
        assert MISSION in posted.text and "+33" not in posted.text

        before = len(double.messages[VOLUNTEER])
        await bot.settle(double.tap(COORDINATOR, posted, APPROVE))
        assert "Dominique" in posted.text and posted.buttons == []
        told = await double.wait_for(VOLUNTEER, MISSION, after=before, timeout=20)
        expected = "dimanche 13 juin 2027" if language == "fr" else "Sunday 13 June 2027"
        assert expected in told.text


@asynccontextmanager
async def bot_process(
    double: TelegramDouble, database_url: str
) -> AsyncIterator[subprocess.Popen[bytes]]:
    """`python -m bot run` as its own process, talking to the double."""
    env = {
        **os.environ,
        "TELEGRAM_BOT_TOKEN": double.token,
        "TELEGRAM_API_URL": double.base_url,
        "DATABASE_URL": database_url,
        "HTTP_PORT": str(free_port()),
        "TELEGRAM_POLL_TIMEOUT": "1",
        "RENFORT_LOCALE": "fr",
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "bot", "run"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        yield process
    finally:
        if process.poll() is None:
            process.kill()
        process.wait(timeout=20)
        assert process.stderr is not None
        process.stderr.close()


async def wait_until_sent(database_url: str, kind: str) -> None:
    db = Database(database_url)
    outbox = schema.outbox
    try:
        for _ in range(1000):
            async with db.reading("test") as conn:
                status = await conn.scalar(select(outbox.c.status).where(outbox.c.kind == kind))
            if status == "sent":
                return
            await asyncio.sleep(0.02)
    finally:
        await db.close()
    raise TimeoutError(f"{kind} never recorded as sent")


async def test_the_flow_survives_a_kill_9_between_apply_and_approve(tmp_path: Path) -> None:
    database_url = sqlite_file_url(tmp_path)
    await upgrade(database_url)
    db = Database(database_url)
    try:
        await prepare_commune(db)
    finally:
        await db.close()
    double = TelegramDouble()
    await double.start()
    try:
        double.user(VOLUNTEER, "Camille", "fr")
        double.user(COORDINATOR, "Dominique", "fr")
        double.group(ADMIN_GROUP, "Mairie de Saint-Dizier — bénévoles", admins=(COORDINATOR,))
        resident = Person(double, VOLUNTEER, Translator("fr"))

        async with bot_process(double, database_url) as first:
            await register_and_apply(resident)
            posted = await double.wait_for(ADMIN_GROUP, "Camille", timeout=30)
            # The coordinator takes their time: the post is on record when the bot dies.
            # (Killed while sending, the in-flight batch may go out twice: that is the trade.)
            await wait_until_sent(database_url, "application_submitted")
            first.send_signal(signal.SIGKILL)
            first.wait(timeout=20)

        before = len(double.messages[VOLUNTEER])
        async with bot_process(double, database_url):
            double.tap(COORDINATOR, posted, APPROVE)
            told = await double.wait_for(VOLUNTEER, MISSION, after=before, timeout=30)
            for _ in range(500):
                if "Dominique" in posted.text:
                    break
                await asyncio.sleep(0.02)
            await asyncio.sleep(1.5)  # anything sent twice would have arrived by now

        assert "dimanche 13 juin 2027" in told.text
        assert "Dominique" in posted.text and posted.buttons == []
        assert sum(MISSION in t for t in double.texts(VOLUNTEER)[before:]) == 1
        assert sum("Camille" in t for t in double.texts(ADMIN_GROUP)) == 1
        db = Database(database_url)
        try:
            async with db.reading("check") as conn:
                statuses = (await conn.scalars(select(schema.applications.c.status))).all()
        finally:
            await db.close()
        assert statuses == ["approved"]
    finally:
        await double.stop()
