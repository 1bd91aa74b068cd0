"""The first journey a commune uses on election week, end to end through the chat: a
resident registers, finds the nearest polling-station mission and applies; the coordinator
approves with one tap in the mairie's admin group; the resident is told. It survives the
bot being killed between the application and the decision."""

from __future__ import annotations

import asyncio
import signal
import subprocess
import sys
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import and_, func, or_, select

from bot.i18n import Translator
from bot.services import organisations
from renfort.sandbox.telegram_double import SentMessage, TelegramDouble
from storage import schema
from storage.database import Database
from storage.migrate import upgrade
from tests.conftest import NOW
from tests.factories import commune, polling_station, volunteer
from tests.harness import FakeClock, running_bot, sqlite_file_url
from tests.processes import bot_env

VOLUNTEER, COORDINATOR, ADMIN_GROUP = 1, 900, -100_200_300
MISSION = "Assesseur — bureau de vote n°3"
APPROVE = Translator("fr")._("✅ Approve")
# Per step of a journey: generous, since a loaded machine may take seconds per update.
STEP_TIMEOUT = 60.0  # the admin group speaks the service's language


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
            self.user_id, expect, after=before, timeout=STEP_TIMEOUT, button=button
        )

    async def tap(
        self, message: SentMessage, label: str, changed_to: str, button: str = ""
    ) -> SentMessage:
        """Tap, then wait until the message (edited in place) shows `changed_to` (and a
        button with `button`): the effect of this tap, not whatever edit comes first."""
        edits = message.edits
        self.double.tap(self.user_id, message, label)
        deadline = time.monotonic() + STEP_TIMEOUT
        while time.monotonic() < deadline:
            if (
                message.edits > edits
                and changed_to.lower() in message.text.lower()
                and (not button or any(button in b for b in message.button_texts()))
            ):
                return message
            await asyncio.sleep(0.02)
        raise TimeoutError(
            f"{message.text!r} {message.button_texts()} never showed {changed_to!r} {button!r}"
        )

    async def tap_for_new(self, message: SentMessage, label: str, expect: str) -> SentMessage:
        """Tap, then wait for a new message showing `expect`."""
        before = len(self.double.messages[self.user_id])
        self.double.tap(self.user_id, message, label)
        return await self.double.wait_for(self.user_id, expect, after=before, timeout=STEP_TIMEOUT)


async def register_and_apply(resident: Person) -> None:
    """Registration (name kept, postcode typed, one interest), then /missions → apply."""
    t = resident.t
    citizenship = t._("Citizenship and elections")
    welcome = await resident.say("/start", button="Camille")
    # The question that follows the name, so "52100" answers it and nothing earlier.
    where = t._(
        "Where do you live? Type your postcode or your town, or share your location with "
        "the button below. I only use it to show the missions nearest to you."
    )
    await resident.tap_for_new(welcome, "Camille", where)
    interests = await resident.say("52100", button=citizenship)
    await resident.tap(interests, citizenship, "", button="✓ " + citizenship)
    await resident.tap(interests, "✅", "/missions")

    found = await resident.say("/missions", "Assesseur")
    weekday = "dimanche" if t.locale == "fr" else "Sunday"
    await resident.tap(found, "Assesseur", weekday)
    await resident.tap(found, weekday, t._("You are applying for:"))
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
        await bot.drain()
        posted = await double.wait_for(ADMIN_GROUP, "Camille", timeout=STEP_TIMEOUT)
        assert MISSION in posted.text and "+33" not in posted.text

        before = len(double.messages[VOLUNTEER])
        await bot.settle(double.tap(COORDINATOR, posted, APPROVE))
        assert "Dominique" in posted.text and posted.buttons == []
        told = await double.wait_for(VOLUNTEER, MISSION, after=before, timeout=STEP_TIMEOUT)
        expected = "dimanche 13 juin 2027" if language == "fr" else "Sunday 13 June 2027"
        assert expected in told.text


@asynccontextmanager
async def bot_process(
    double: TelegramDouble, database_url: str
) -> AsyncIterator[subprocess.Popen[bytes]]:
    """`python -m bot run` as its own process, talking to the double."""
    process = subprocess.Popen(
        [sys.executable, "-m", "bot", "run"],
        env=bot_env(double, database_url),
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
        deadline = time.monotonic() + STEP_TIMEOUT
        while time.monotonic() < deadline:
            async with db.reading("test") as conn:
                status = await conn.scalar(select(outbox.c.status).where(outbox.c.kind == kind))
            if status == "sent":
                return
            await asyncio.sleep(0.02)
    finally:
        await db.close()
    raise TimeoutError(f"{kind} never recorded as sent")


async def wait_until_nothing_due(database_url: str) -> None:
    """Until no notification is being sent or due (later reminders may wait their turn)."""
    db = Database(database_url)
    outbox = schema.outbox
    due = or_(
        outbox.c.status == "sending",
        and_(outbox.c.status == "pending", outbox.c.not_before <= datetime.now(UTC)),
    )
    deadline = time.monotonic() + STEP_TIMEOUT
    try:
        while time.monotonic() < deadline:
            async with db.reading("test_nothing_due") as conn:
                if not await conn.scalar(select(func.count()).select_from(outbox).where(due)):
                    return
            await asyncio.sleep(0.05)
    finally:
        await db.close()
    raise TimeoutError("the outbox still had notifications to send")


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
            posted = await double.wait_for(ADMIN_GROUP, "Camille", timeout=STEP_TIMEOUT)
            # The coordinator takes their time: the post is on record when the bot dies.
            # (Killed while sending, the in-flight batch may go out twice: that is the trade.)
            await wait_until_sent(database_url, "application_submitted")
            first.send_signal(signal.SIGKILL)
            first.wait(timeout=20)

        before = len(double.messages[VOLUNTEER])
        async with bot_process(double, database_url):
            double.tap(COORDINATOR, posted, APPROVE)
            told = await double.wait_for(VOLUNTEER, MISSION, after=before, timeout=STEP_TIMEOUT)
            deadline = time.monotonic() + STEP_TIMEOUT
            while "Dominique" not in posted.text and time.monotonic() < deadline:
                await asyncio.sleep(0.02)
            # Anything sent twice has arrived once nothing is left to send.
            await wait_until_nothing_due(database_url)

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
