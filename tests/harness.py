"""Run the real Renfort (python-telegram-bot, services, dispatcher) against the local Bot
API double, with a clock the test controls."""

from __future__ import annotations

import asyncio
import socket
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from telegram import Update
from telegram.ext import TypeHandler

from bot.config import Settings
from bot.runtime import Renfort
from bot.scheduler.tick import tick
from handlers.telegram.common import RenfortContext
from handlers.telegram.wiring import END_GROUP
from renfort.app import Service
from renfort.sandbox.telegram_double import SentMessage, TelegramDouble
from renfort.sandbox.twilio_double import Exchange, TwilioDouble
from storage.database import Database

DONE_KEY = "test_done_updates"


async def _record_done(update: Update, context: RenfortContext) -> None:
    """Last handler group: the update is completely handled."""
    context.application.bot_data.setdefault(DONE_KEY, set()).add(update.update_id)


class FakeClock:
    """Time that moves only when the test says so."""

    def __init__(self, start: datetime) -> None:
        self.current = start

    def __call__(self) -> datetime:
        return self.current

    def advance(self, **delta: float) -> None:
        self.current += timedelta(**delta)


@dataclass
class Bot:
    """A running Renfort and the Telegram double it talks to."""

    double: TelegramDouble
    service: Service
    clock: FakeClock

    @property
    def renfort(self) -> Renfort:
        assert self.service.renfort is not None
        return self.service.renfort

    @property
    def db(self) -> Database:
        return self.renfort.db

    @property
    def public_url(self) -> str:
        """Where people reach this process over HTTP (links in messages, the board)."""
        url = self.renfort.settings.public_url
        assert url is not None
        return url

    @property
    def done(self) -> set[int]:
        assert self.service.telegram is not None
        done: set[int] = self.service.telegram.bot_data.setdefault(DONE_KEY, set())
        return done

    async def handled(self, update_id: int, timeout: float = 30.0) -> None:
        """Wait until every handler group has run for the update (a service records the
        update id before the reply is sent, so the database alone would say so too early)."""
        deadline = time.monotonic() + timeout
        while update_id not in self.done:
            if time.monotonic() > deadline:
                raise TimeoutError(f"update {update_id} was not handled")
            await asyncio.sleep(0.01)

    async def settle(self, update_id: int) -> None:
        """The update is handled and every notification it caused has been sent."""
        await self.handled(update_id)
        await self.drain()

    async def drain(self) -> None:
        """Every notification queued so far has been sent."""
        assert self.service.dispatcher is not None
        await self.service.dispatcher.drain()

    async def tick_and_send(self) -> None:
        """The scheduler's tick runs once and what it queued has been sent."""
        await tick(self.renfort)
        await self.drain()

    async def say(self, user_id: int, text: str, chat_id: int | None = None) -> list[SentMessage]:
        """The user writes; returns what the bot sent into that chat in answer."""
        chat = chat_id if chat_id is not None else user_id
        before = len(self.double.messages[chat])
        await self.settle(self.double.send_text(user_id, text, chat_id))
        return self.double.messages[chat][before:]

    async def tap(self, user_id: int, message: SentMessage, label: str) -> list[SentMessage]:
        """The user taps a button; returns messages sent into that chat since (edits show on
        `message` itself)."""
        before = len(self.double.messages[message.chat_id])
        await self.settle(self.double.tap(user_id, message, label))
        return self.double.messages[message.chat_id][before:]

    async def share_location(
        self, user_id: int, latitude: float, longitude: float
    ) -> list[SentMessage]:
        before = len(self.double.messages[user_id])
        await self.settle(self.double.share_location(user_id, latitude, longitude))
        return self.double.messages[user_id][before:]


def test_settings(database_url: str, double: TelegramDouble, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "telegram_bot_token": double.token,
        "telegram_api_url": double.base_url,
        "telegram_mode": "polling",
        "database_url": database_url,
        "http_host": "127.0.0.1",
        "http_port": 0,
        "renfort_timezone": "Europe/Paris",
        "renfort_locale": "fr",
        "telegram_poll_timeout": 1,
        "_env_file": None,
    }
    values.update(overrides)
    return Settings(**values)


@asynccontextmanager
async def running_bot(
    database_url: str, clock: FakeClock, double: TelegramDouble | None = None, **overrides: Any
) -> AsyncIterator[Bot]:
    """Start the double (unless given one already running) and a whole Renfort process."""
    own_double = double is None
    if double is None:
        double = TelegramDouble()
        await double.start()
    service = Service(test_settings(database_url, double, **overrides), clock=clock)
    try:
        await service.start()
        assert service.telegram is not None
        service.telegram.add_handler(TypeHandler(Update, _record_done), group=END_GROUP + 1)
        yield Bot(double, service, clock)
    finally:
        await service.stop()
        if own_double:
            await double.stop()


@asynccontextmanager
async def running_in_public(
    tmp_path: Path, clock: FakeClock, *args: Any, **overrides: Any
) -> AsyncIterator[Bot]:
    """A whole Renfort process serving HTTP on a free local port, which is its public URL
    too, so that the links it sends (board, calendar feed) open in a test."""
    port = free_port()
    async with running_bot(
        sqlite_file_url(tmp_path),
        clock,
        *args,
        http_port=port,
        public_url=f"http://127.0.0.1:{port}",
        **overrides,
    ) as bot:
        yield bot


@asynccontextmanager
async def running_with_twilio(
    tmp_path: Path, twilio: TwilioDouble, clock: FakeClock, *, whatsapp: bool
) -> AsyncIterator[Bot]:
    """A whole Renfort process in English with SMS (and WhatsApp when asked) through the
    Twilio double, which posts its webhooks to Renfort's public URL; the double is started
    here and stopped after."""
    await twilio.start()
    try:
        settings = twilio.renfort_settings(free_port(), whatsapp=whatsapp)
        async with running_bot(
            sqlite_file_url(tmp_path), clock, renfort_locale="en", **settings
        ) as bot:
            yield bot
    finally:
        await twilio.stop()


async def one_answer_each(
    send: Callable[[str, str], Awaitable[Exchange]], phone: str, *bodies: str
) -> list[str]:
    """The resident sends each message in turn through `send` (an SMS or a WhatsApp message
    to the double); each must get exactly one answer, returned in order."""
    answers = []
    for body in bodies:
        exchange = await send(phone, body)
        assert exchange.status_code == 200 and len(exchange.replies) == 1, exchange
        answers.append(exchange.text)
    return answers


def free_port() -> int:
    """A TCP port nobody listens on right now, for a server whose address a test must know."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def sqlite_file_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'renfort.db'}"
