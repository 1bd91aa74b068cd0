"""The sandbox: demo data seeded once, and a terminal chat driving the real bot."""

from __future__ import annotations

import asyncio
import io
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import httpx
from rich.console import Console
from sqlalchemy import func, select
from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from bot.config import Settings
from renfort.sandbox import demo
from renfort.sandbox.console import ChatConsole, telegram_html
from renfort.sandbox.run import run_sandbox
from renfort.sandbox.telegram_double import TelegramDouble
from renfort.sandbox.twilio_double import Sms, TwilioDouble
from storage import schema
from storage.database import Database
from tests.conftest import NOW
from tests.harness import Bot, FakeClock, free_port, running_bot, sqlite_file_url

PARIS = ZoneInfo("Europe/Paris")
COUNTED = ("people", "organisations", "members", "admin_chats", "missions", "slots")


async def row_counts(db: Database) -> dict[str, int]:
    counts = {}
    async with db.reading("test") as conn:
        for name in COUNTED:
            table = schema.metadata.tables[name]
            counts[name] = int(await conn.scalar(select(func.count()).select_from(table)) or 0)
    return counts


def terminal() -> tuple[Console, io.StringIO]:
    buffer = io.StringIO()
    return Console(file=buffer, width=120, highlight=False), buffer


async def test_seeding_twice_creates_everything_once(sqlite_db: Database) -> None:
    first = await demo.seed(sqlite_db, now=NOW, zone=PARIS)
    after_first = await row_counts(sqlite_db)
    second = await demo.seed(sqlite_db, now=NOW, zone=PARIS)

    assert await row_counts(sqlite_db) == after_first
    assert after_first == {
        "people": 1,
        "organisations": 2,
        "members": 1,
        "admin_chats": 1,
        "missions": 6,
        "slots": 10,
    }
    assert (first.missions_created, second.missions_created) == (6, 0)
    assert second.commune == first.commune


async def test_polling_stations_are_next_sunday_in_local_time(sqlite_db: Database) -> None:
    seeded = await demo.seed(sqlite_db, now=NOW, zone=PARIS)  # NOW is Monday 7 June 2027
    m, s = schema.missions, schema.slots
    async with sqlite_db.reading("test") as conn:
        starts = await conn.scalars(
            select(func.min(s.c.starts_at))
            .join(m, m.c.id == s.c.mission_id)
            .where(m.c.organisation_id == seeded.commune.id)
        )
        first = starts.one()
    if isinstance(first, str):  # SQLite aggregates lose the column type
        first = datetime.fromisoformat(first)
    assert first.replace(tzinfo=UTC) == datetime(2027, 6, 13, 6, tzinfo=UTC)  # 08:00 in Paris


async def test_a_week_later_the_demo_gets_fresh_missions(sqlite_db: Database) -> None:
    await demo.seed(sqlite_db, now=NOW, zone=PARIS)
    later = await demo.seed(sqlite_db, now=NOW + timedelta(days=8), zone=PARIS)

    assert later.missions_created == 6
    assert (await row_counts(sqlite_db))["organisations"] == 2


def test_telegram_html_becomes_plain_styled_text() -> None:
    text = telegram_html('<b>Bureau n°1</b> &amp; <i>école</i> <a href="https://x.fr">plan</a>')

    assert text.plain == "Bureau n°1 & école plan (https://x.fr)"


async def seeded_console(bot: Bot) -> tuple[ChatConsole, io.StringIO]:
    await demo.seed(bot.db, now=bot.clock(), zone=PARIS)
    out, buffer = terminal()
    return ChatConsole(bot.double, demo.CAST, out, handled=bot.handled), buffer


async def test_a_scripted_session_the_volunteer_asks_for_help(tmp_path: Path) -> None:
    async with running_bot(sqlite_file_url(tmp_path), FakeClock(NOW)) as bot:
        console, buffer = await seeded_console(bot)

        assert await console.handle("/help")

        transcript = buffer.getvalue()
        assert "Camille (volunteer) › /help" in transcript
        assert "Renfort → Camille" in transcript
        assert "/missions" in transcript
        assert bot.double.texts(demo.CAST.volunteer_id)


async def test_console_commands_switch_person_and_explain_mistakes(tmp_path: Path) -> None:
    async with running_bot(sqlite_file_url(tmp_path), FakeClock(NOW)) as bot:
        console, buffer = await seeded_console(bot)

        for line in ("#1", "/where nowhere", "/as nobody", "/as coord", "/as group", "/where 1 2"):
            assert await console.handle(line)
        assert console.current.key == "group"
        assert not await console.handle("/quit")

        transcript = buffer.getvalue()
        assert "No message with buttons here yet." in transcript
        assert "Usage: /where 48.64 4.95" in transcript
        assert "Who? /as volunteer" in transcript
        assert "Now speaking as Dominique (coordinator)." in transcript
        assert "Locations are shared in a private chat" in transcript


async def test_buttons_are_numbered_and_tapped_by_number(tmp_path: Path) -> None:
    async with running_bot(sqlite_file_url(tmp_path), FakeClock(NOW)) as bot:
        console, buffer = await seeded_console(bot)
        volunteer = demo.CAST.volunteer_id
        assert bot.service.telegram is not None
        await bot.service.telegram.bot.send_message(
            volunteer,
            "Choisissez",
            reply_markup=InlineKeyboardMarkup(
                [[InlineKeyboardButton("Oui", callback_data="yes")],
                 [InlineKeyboardButton("Non", callback_data="no")]]
            ),
        )  # fmt: skip
        console.refresh()
        assert "[1] Oui" in buffer.getvalue() and "[2] Non" in buffer.getvalue()

        assert await console.handle("#2")

        taps = [u["callback_query"] for u in bot.double.delivered if "callback_query" in u]
        assert [(t["from"]["id"], t["data"]) for t in taps] == [(volunteer, "no")]
        assert "tapped “Non”" in buffer.getvalue()
        assert await console.handle("/tap 3")
        assert "Tap a number from 1 to 2" in buffer.getvalue()


async def test_messages_for_someone_else_are_announced_then_shown_on_switching(
    tmp_path: Path,
) -> None:
    async with running_bot(sqlite_file_url(tmp_path), FakeClock(NOW)) as bot:
        console, buffer = await seeded_console(bot)
        assert bot.service.telegram is not None
        await bot.service.telegram.bot.send_message(demo.CAST.group_id, "Nouvelle candidature")

        console.refresh()
        assert "new message for Dominique (coordinator): /as coordinator" in buffer.getvalue()
        assert "Nouvelle candidature" not in buffer.getvalue()

        await console.handle("/as group")
        assert "Nouvelle candidature" in buffer.getvalue()


async def wait_for_text(buffer: io.StringIO, text: str, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while text not in buffer.getvalue():
        assert time.monotonic() < deadline, f"{text!r} never printed: {buffer.getvalue()}"
        await asyncio.sleep(0.05)


async def test_the_sandbox_runs_the_whole_service_until_end_of_input(tmp_path: Path) -> None:
    port = free_port()
    settings = Settings(
        _env_file=None,
        telegram_bot_token=None,
        database_url=sqlite_file_url(tmp_path),
        http_port=port,
        geocoder_url=None,
    )
    out, buffer = terminal()
    lines: asyncio.Queue[str | None] = asyncio.Queue()
    sandbox = asyncio.create_task(run_sandbox(settings, lines=lines, out=out))

    await wait_for_text(buffer, "Renfort sandbox")
    async with httpx.AsyncClient() as client:
        health = await client.get(f"http://127.0.0.1:{port}/healthz")
    assert health.status_code == 200 and health.json()["status"] == "ok"
    assert f"http://127.0.0.1:{port}/healthz" in buffer.getvalue()
    lines.put_nowait("/help")
    await wait_for_text(buffer, "/missions")
    lines.put_nowait(None)
    await asyncio.wait_for(sandbox, 20)

    db = Database(settings.database_url)
    try:
        assert (await row_counts(db))["organisations"] == 2
    finally:
        await db.close()


async def test_the_sandbox_speaks_as_an_sms_and_a_whatsapp_resident(tmp_path: Path) -> None:
    settings = Settings(
        _env_file=None,
        telegram_bot_token=None,
        database_url=sqlite_file_url(tmp_path),
        http_port=free_port(),
        geocoder_url=None,
    )
    out, buffer = terminal()
    lines: asyncio.Queue[str | None] = asyncio.Queue()
    sandbox = asyncio.create_task(run_sandbox(settings, lines=lines, out=out))
    await wait_for_text(buffer, "/as sms | whatsapp")

    for line in ("/as whatsapp", "Bonjour", "Sacha 52100", "MISSIONS"):
        lines.put_nowait(line)
    await wait_for_text(buffer, "Renfort → Sacha (WhatsApp)")
    await wait_for_text(buffer, "vous etes inscrit(e)")  # registered, in French
    await wait_for_text(buffer, "[1] 1.1 ")  # the missions' list as quick replies: mission.slot
    lines.put_nowait("#1")
    await wait_for_text(buffer, "tapped “1.1 ")
    lines.put_nowait("/as sms")
    lines.put_nowait("Bonjour")
    await wait_for_text(buffer, "Renfort → Lou (SMS)")
    lines.put_nowait(None)
    await asyncio.wait_for(sandbox, 20)


def test_a_phone_message_shows_the_file_and_the_location_pin_it_carries() -> None:
    out, buffer = terminal()
    console = ChatConsole(TelegramDouble(), demo.CAST, out, twilio=TwilioDouble())
    reminder = Sms("SM1", "whatsapp:+33612345678", "whatsapp:+15550000000", "Rappel", "api", 1)
    reminder.media_urls = ["https://renfort.example/files/abc"]
    reminder.persistent_actions = ["geo:48.6377,4.9489|12 rue de la Gare, Saint-Dizier"]
    console._show_phone(console.personas["whatsapp"], reminder)
    shown = buffer.getvalue()
    assert "[file: https://renfort.example/files/abc]" in shown
    assert "[location: 12 rue de la Gare, Saint-Dizier (48.6377,4.9489)]" in shown
