"""Outbox throughput: the dispatcher sending to many private chats through the Bot API
double, once with Telegram's limits enforced (30 msg/s, 1 msg/s per chat) and once
without (how fast the outbox itself goes, on SQLite).

Run: `python -m bench.dispatch [--messages N] [--raw-messages N] [--batch-size N]
[--latency MS]`; with a latency the Bot API double takes that long to answer each message
(a real server is tens of milliseconds away), for the outbox and the floor alike."""

from __future__ import annotations

import argparse
import asyncio
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import insert, select
from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup
from telegram.constants import ParseMode
from telegram.request import BaseRequest, HTTPXRequest

from bench.table import Row
from bot.config import MAX_RATE, load_settings
from bot.geo import Geocoder
from bot.i18n import Translator
from bot.messaging.dispatcher import Dispatcher
from bot.notifications.applications import ApplicationDecided
from bot.runtime import Renfort
from handlers.telegram.render import render
from handlers.telegram.sender import TelegramChannel
from handlers.telegram.transport import AiohttpRequest
from renfort.sandbox.telegram_double import TelegramDouble
from storage import schema
from storage.database import Database
from storage.migrate import upgrade

TELEGRAM_RATE = 30.0
UNLIMITED = MAX_RATE  # the highest rate the settings accept, far above what is reached
FIRST_CHAT = 10_000


@dataclass(frozen=True)
class Figures:
    messages: int
    seconds: float
    too_many_requests: int

    @property
    def rate(self) -> float:
        return self.messages / self.seconds


# The message a volunteer most often gets: their application approved.
KIND = ApplicationDecided.kind


def payload(i: int) -> dict[str, object]:
    return {
        "application_id": i,
        "mission_id": 1,
        "mission_title": f"Distribution alimentaire n°{i % 7}",
        "organisation_name": "Banque alimentaire de la Haute-Marne",
        "address": "3 rue du Marché, 52100 Saint-Dizier",
        "remote": False,
        "timezone": "Europe/Paris",
        "starts_at": "2027-06-13T07:00:00+00:00",
        "ends_at": "2027-06-13T10:00:00+00:00",
        "status": "approved",
    }


async def fill(db: Database, double: TelegramDouble, messages: int) -> None:
    """One volunteer and one notification per private chat."""
    people = [
        {
            "first_name": f"V{i}",
            "telegram_user_id": FIRST_CHAT + i,
            "telegram_chat_id": FIRST_CHAT + i,
            "interests": [],
            "availability": {},
        }
        for i in range(messages)
    ]
    async with db.transaction("bench_fill") as conn:
        await conn.execute(insert(schema.people), people)
        ids = list(await conn.scalars(select(schema.people.c.id).order_by(schema.people.c.id)))
        rows = [
            {
                "kind": KIND,
                "person_id": person_id,
                "payload": payload(i),
                "priority": 5,
                "status": "pending",
                "not_before": schema.now(),
                "created_at": schema.now(),
            }
            for i, person_id in enumerate(ids)
        ]
        await conn.execute(insert(schema.outbox), rows)
    for i in range(messages):
        double.user(FIRST_CHAT + i, f"V{i}")


async def measure(
    workdir: Path, messages: int, *, enforce: bool, batch_size: int, latency: float = 0.0
) -> Figures:
    url = f"sqlite:///{workdir / ('limited.db' if enforce else 'raw.db')}"
    await upgrade(url)
    db = Database(url)
    double = TelegramDouble()
    await double.start()
    double.limits.enforce = enforce
    double.send_delay = latency
    try:
        await fill(db, double, messages)
        settings = load_settings(
            _env_file=None,
            database_url=url,
            telegram_rate=TELEGRAM_RATE if enforce else UNLIMITED,
            outbox_batch_size=batch_size,
        )
        renfort = Renfort(settings, db, Geocoder(None))
        # The product's Bot API transport, as the running service's dispatcher sends with.
        request = AiohttpRequest()
        async with Bot(double.token, base_url=f"{double.base_url}/bot", request=request) as bot:
            dispatcher = Dispatcher(renfort, {"telegram": TelegramChannel(bot, renfort)})
            started = time.perf_counter()
            sent = 0
            while sent < messages:
                done = await dispatcher.drain()
                if done == 0:
                    raise RuntimeError(f"stalled after {sent} of {messages} messages")
                sent += done
            seconds = time.perf_counter() - started
    finally:
        await double.stop()
        await db.close()
    return Figures(sent, seconds, double.too_many_requests)


async def direct(
    messages: int, concurrency: int, latency: float = 0.0, *, over_aiohttp: bool = False
) -> Figures:
    """The floor: python-telegram-bot sending the same rendered messages (text and buttons)
    straight to the double, `concurrency` at a time, with no outbox and no database; over
    its default httpx transport, or (`over_aiohttp`) over the product's, to see what the
    outbox itself costs."""
    double = TelegramDouble()
    await double.start()
    double.send_delay = latency
    try:
        for i in range(messages):
            double.user(FIRST_CHAT + i, f"V{i}")
        t = Translator("fr")
        rendered = [render(KIND, payload(i), t) for i in range(messages)]
        request: BaseRequest = (
            AiohttpRequest(pool_size=64) if over_aiohttp else HTTPXRequest(connection_pool_size=64)
        )
        gate = asyncio.Semaphore(concurrency)
        async with Bot(double.token, base_url=f"{double.base_url}/bot", request=request) as bot:

            async def send(i: int) -> None:
                message = rendered[i]
                markup = InlineKeyboardMarkup(
                    [
                        [
                            InlineKeyboardButton(b.label, callback_data=f"t{i}-{n}")
                            for n, b in enumerate(row)
                        ]
                        for row in message.rows
                    ]
                )
                async with gate:
                    await bot.send_message(
                        FIRST_CHAT + i, message.text, parse_mode=ParseMode.HTML, reply_markup=markup
                    )

            started = time.perf_counter()
            await asyncio.gather(*(send(i) for i in range(messages)))
            seconds = time.perf_counter() - started
    finally:
        await double.stop()
    return Figures(messages, seconds, double.too_many_requests)


def rows(quick: bool) -> list[Row]:
    """The outbox with limits off beside python-telegram-bot sending the same messages."""
    messages = 1000 if quick else 3000
    batch_size = load_settings(_env_file=None).outbox_batch_size

    async def all_three() -> tuple[Figures, Figures, Figures]:
        floor = await direct(messages, batch_size)
        same = await direct(messages, batch_size, over_aiohttp=True)
        with tempfile.TemporaryDirectory() as workdir:
            outbox = await measure(Path(workdir), messages, enforce=False, batch_size=batch_size)
        return outbox, floor, same

    outbox, floor, same = asyncio.run(all_three())
    return [
        Row(
            f"outbox, limits off, {messages} messages",
            outbox.rate,
            "msg/s",
            "≥ python-telegram-bot direct",
            outbox.rate >= floor.rate,
            baseline=floor.rate,
        ),
        Row(
            "outbox beside direct sends over the same transport",
            outbox.rate,
            "msg/s",
            "",
            True,
            baseline=same.rate,
        ),
    ]


async def main_async(messages: int, raw_messages: int, batch_size: int, latency: float) -> None:
    if latency:
        print(f"the Bot API answers each message in {latency * 1000:g} ms")
    with tempfile.TemporaryDirectory() as workdir:
        limited = await measure(
            Path(workdir), messages, enforce=True, batch_size=batch_size, latency=latency
        )
        print(
            f"limits enforced: {limited.messages} messages to {limited.messages} private chats"
            f" in {limited.seconds:.1f} s"
        )
        # A sliding window lets the first second's worth go at once; without it:
        steady = (limited.messages - TELEGRAM_RATE) / limited.seconds
        print(f"  achieved  {limited.rate:6.2f} msg/s")
        print(
            f"  steady    {steady:6.2f} msg/s, {steady / TELEGRAM_RATE:.1%} of {TELEGRAM_RATE:g}/s"
        )
        print(f"  429s      {limited.too_many_requests:6d}")
        raw = await measure(
            Path(workdir), raw_messages, enforce=False, batch_size=batch_size, latency=latency
        )
        print(
            f"limits off: {raw.messages} messages in {raw.seconds:.1f} s"
            f" (SQLite outbox, batches of {batch_size})"
        )
        print(f"  raw       {raw.rate:6.1f} msg/s")
        floor = await direct(raw_messages, batch_size, latency)
        print(
            f"python-telegram-bot sending the same {floor.messages} directly,"
            f" {batch_size} at a time: {floor.rate:6.1f} msg/s"
            f" (outbox/direct {raw.rate / floor.rate:.2f})"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--messages", type=int, default=3000, help="with limits enforced")
    parser.add_argument("--raw-messages", type=int, default=3000, help="with limits off")
    parser.add_argument("--batch-size", type=int, default=20, help="OUTBOX_BATCH_SIZE")
    parser.add_argument("--latency", type=float, default=0.0, help="Bot API answer time, ms")
    args = parser.parse_args()
    asyncio.run(main_async(args.messages, args.raw_messages, args.batch_size, args.latency / 1000))


if __name__ == "__main__":
    main()
