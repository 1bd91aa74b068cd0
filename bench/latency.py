"""Update → answer latency under load, side by side with a bare python-telegram-bot echo bot.

Both bots poll the same kind of local Bot API double and get the same offered load: a fixed
rate of mixed traffic (plain texts, /missions, /mymissions, button taps) from many people, each
waiting for the answer to their last update before sending the next. We time from the moment
the double has an update until the first answer in that chat (a message, an edit, or the
answer to a tap). Run: `python -m bench.latency [--rate N] [--seconds S] [--people N]`."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import itertools
import multiprocessing
import tempfile
import time
from collections import deque
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.ext import Application, CallbackQueryHandler, ContextTypes, MessageHandler, filters

from bench.table import Row
from bot.config import Settings
from bot.geo import lookup_offline
from bot.runtime import Renfort
from bot.services import people
from renfort import event_loop
from renfort.app import Service
from renfort.sandbox import demo
from renfort.sandbox.telegram_double import SentMessage, TelegramDouble
from storage.database import Database

FIRST_PERSON = 50_000
KINDS = ("text", "/missions", "tap", "text", "/mymissions", "tap", "text", "/missions")
SETTLE_SECONDS = 0.3  # a person waits a little after an answer before writing again
DRAIN_SECONDS = 15.0


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(fraction * (len(ordered) - 1))))
    return ordered[index]


class TimedDouble(TelegramDouble):
    """The Bot API double, noting when each chat's pending update got its first answer."""

    def __init__(self) -> None:
        super().__init__()
        self.sent_at: dict[int, float] = {}  # chat -> when its pending update was pushed
        self.answered_at: dict[int, float] = {}
        self.samples: list[float] = []
        self._tap_chats: dict[str, int] = {}
        self._query_ids = itertools.count(1)

    def _answered(self, chat_id: int) -> None:
        sent = self.sent_at.pop(chat_id, None)
        if sent is not None:
            now = time.perf_counter()
            self.samples.append((now - sent) * 1000)
            self.answered_at[chat_id] = now

    def tap_first(self, user_id: int, message: SentMessage) -> int | None:
        """The person taps the first button under the message, if it has one."""
        data = next(
            (b["callback_data"] for row in message.buttons for b in row if "callback_data" in b),
            None,
        )
        if data is None:
            return None
        query_id = f"q{next(self._query_ids)}"
        self._tap_chats[query_id] = message.chat_id
        query = {
            "id": query_id,
            "from": self.users[user_id],
            "chat_instance": str(message.chat_id),
            "data": data,
            "message": self._message_json(message),
        }
        return self._push({"callback_query": query})

    def _api_sendMessage(self, params: dict[str, Any]) -> Any:
        result = super()._api_sendMessage(params)
        self._answered(int(params["chat_id"]))
        return result

    def _api_editMessageText(self, params: dict[str, Any]) -> Any:
        result = super()._api_editMessageText(params)
        self._answered(int(params["chat_id"]))
        return result

    def _api_answerCallbackQuery(self, params: dict[str, Any]) -> bool:
        chat_id = self._tap_chats.pop(str(params.get("callback_query_id")), None)
        if chat_id is not None:
            self._answered(chat_id)
        return super()._api_answerCallbackQuery(params)


@dataclass
class Figures:
    offered: int
    samples: list[float]
    unanswered: int
    seconds: float
    not_idle: int = 0  # offers skipped because every person was still waiting
    notes: list[str] = field(default_factory=list)

    @property
    def answered(self) -> int:
        return len(self.samples)

    @property
    def rate(self) -> float:
        return self.answered / self.seconds if self.seconds else 0.0

    def p(self, fraction: float) -> float:
        return percentile(self.samples, fraction) if self.samples else float("nan")


async def offer_load(
    double: TimedDouble,
    people_ids: list[int],
    rate: float,
    seconds: float,
    kinds: tuple[str, ...] = KINDS,
    once: bool = False,
) -> Figures:
    """Push `rate` updates a second for `seconds`, from whoever is not waiting for an answer
    (`once`: each person sends one update only)."""
    idle = deque(people_ids)
    resting: deque[int] = deque()
    total = int(rate * seconds)
    figures = Figures(offered=0, samples=double.samples, unanswered=0, seconds=seconds)
    started = time.perf_counter()
    for i in range(total):
        delay = started + i / rate - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        now = time.perf_counter()
        # People answered a while ago may write again.
        for _ in range(len(resting)):
            person = resting.popleft()
            answered = double.answered_at.get(person)
            if person in double.sent_at or answered is None or now - answered < SETTLE_SECONDS:
                resting.append(person)
            else:
                idle.append(person)
        if not idle:
            figures.not_idle += 1
            continue
        person = idle.popleft()
        kind = kinds[i % len(kinds)]
        update_id = None
        if kind == "tap" and double.messages[person]:
            last = double.messages[person][-1]
            double.sent_at[person] = time.perf_counter()
            update_id = double.tap_first(person, last)
            if update_id is None:
                del double.sent_at[person]
        if update_id is None:
            text = "bonjour" if kind == "tap" else kind
            double.sent_at[person] = time.perf_counter()
            double.send_text(person, text)
        figures.offered += 1
        if not once:
            resting.append(person)
    load_seconds = time.perf_counter() - started
    deadline = time.perf_counter() + DRAIN_SECONDS
    while double.sent_at and time.perf_counter() < deadline:
        await asyncio.sleep(0.05)
    figures.unanswered = len(double.sent_at)
    figures.seconds = load_seconds
    return figures


def echo_application(token: str, base_url: str) -> Application[Any, Any, Any, Any, Any, Any]:
    """The floor: python-telegram-bot answering every message and tap at once."""
    application = (
        Application.builder()
        .token(token)
        .base_url(f"{base_url}/bot")
        .base_file_url(f"{base_url}/file/bot")
        .build()
    )
    again = InlineKeyboardMarkup([[InlineKeyboardButton("Encore", callback_data="again")]])

    async def echo(update: Update, _context: ContextTypes.DEFAULT_TYPE) -> None:
        message = update.effective_message
        if message is not None:
            await message.reply_text(message.text or "?", reply_markup=again)

    async def tapped(update: Update, _context: ContextTypes.DEFAULT_TYPE) -> None:
        query = update.callback_query
        if query is not None:
            await query.answer()
            await query.edit_message_text(f"Encore {query.id}", reply_markup=again)

    application.add_handler(CallbackQueryHandler(tapped))
    application.add_handler(MessageHandler(filters.ALL, echo))
    return application


def meet(double: TelegramDouble, count: int) -> list[int]:
    ids = list(range(FIRST_PERSON, FIRST_PERSON + count))
    for user_id in ids:
        double.user(user_id, f"V{user_id}")
    return ids


def drive(
    pipe: Connection,
    rate: float,
    seconds: float,
    count: int,
    taps: bool,
    kinds: tuple[str, ...] = KINDS,
) -> None:
    """In a process of its own (so the bot measured has its core to itself): run the double,
    say where it listens, offer the load when told, send the figures back. With `taps`, the
    go message carries a button's callback data: each person taps it once, under a message
    of the bot in their chat."""

    async def run() -> Figures:
        double = TimedDouble()
        await double.start()
        try:
            ids = meet(double, count)
            loop = asyncio.get_running_loop()
            pipe.send(double.base_url)
            go = await loop.run_in_executor(None, pipe.recv)
            if taps:
                for user_id in ids:
                    buttons = [[{"text": "Disponible", "callback_data": go}]]
                    double.messages[user_id].append(
                        SentMessage(next(double._message_ids), user_id, "Alerte", buttons)
                    )
                figures = await offer_load(double, ids, rate, seconds, ("tap",), once=True)
            else:
                figures = await offer_load(double, ids, rate, seconds, kinds)
            pipe.send(figures)
            await loop.run_in_executor(None, pipe.recv)  # the bot has stopped
            return figures
        finally:
            await double.stop()

    asyncio.run(run())


class Driver:
    """The process holding the Bot API double and offering the load."""

    def __init__(
        self,
        rate: float,
        seconds: float,
        count: int,
        *,
        taps: bool = False,
        kinds: tuple[str, ...] = KINDS,
    ) -> None:
        context = multiprocessing.get_context("spawn")
        self.pipe, child = context.Pipe()
        self.process = context.Process(
            target=drive, args=(child, rate, seconds, count, taps, kinds)
        )
        self.process.start()
        self.base_url: str = self.pipe.recv()
        self.token = TelegramDouble().token
        self.ids = list(range(FIRST_PERSON, FIRST_PERSON + count))

    async def offer(self, go: str = "go") -> Figures:
        self.pipe.send(go)
        figures = await asyncio.get_running_loop().run_in_executor(None, self.pipe.recv)
        assert isinstance(figures, Figures)
        return figures

    def close(self) -> None:
        with contextlib.suppress(OSError):
            self.pipe.send("stop")
        self.process.join(timeout=10)
        if self.process.is_alive():
            self.process.terminate()


async def measure_echo(rate: float, seconds: float, count: int) -> Figures:
    driver = Driver(rate, seconds, count)
    application = echo_application(driver.token, driver.base_url)
    try:
        await application.initialize()
        await application.start()
        assert application.updater is not None
        await application.updater.start_polling(timeout=1)
        return await driver.offer()
    finally:
        if application.updater is not None and application.updater.running:
            await application.updater.stop()
        if application.running:
            await application.stop()
        await application.shutdown()
        driver.close()


async def register(db: Database, ids: list[int]) -> None:
    """Registered volunteers living near the demo missions."""
    home = lookup_offline("52100")
    for user_id in ids:
        person = await people.ensure_telegram_person(
            db,
            telegram_user_id=user_id,
            chat_id=user_id,
            first_name=f"V{user_id}",
            language_code="fr",
        )
        await people.update_profile(
            db,
            person.id,
            home=home,
            interests=["citizenship", "solidarity"],
            complete_registration=True,
        )


def driver_settings(driver: Driver, database: Path) -> Settings:
    """Renfort on the driver's Bot API double, with a SQLite file of its own."""
    return Settings(
        telegram_bot_token=driver.token,
        telegram_api_url=driver.base_url,
        database_url=f"sqlite:///{database}",
        http_port=0,
        telegram_poll_timeout=1,
        _env_file=None,
    )


@contextlib.asynccontextmanager
async def renfort_driven(driver: Driver, database: Path) -> AsyncIterator[Renfort]:
    """Renfort running on the driver's double for one measure, with a SQLite file of its
    own; stopped, and the driver closed, when the measure ends."""
    service = Service(driver_settings(driver, database))
    try:
        await service.start()
        assert service.renfort is not None
        yield service.renfort
    finally:
        await service.stop()
        driver.close()


async def measure_renfort(rate: float, seconds: float, count: int, workdir: Path) -> Figures:
    driver = Driver(rate, seconds, count)
    async with renfort_driven(driver, workdir / "latency.db") as renfort:
        zone = ZoneInfo(renfort.settings.renfort_timezone)
        await demo.seed(renfort.db, now=renfort.now(), zone=zone)
        await register(renfort.db, driver.ids)
        return await driver.offer()


def report(name: str, figures: Figures) -> None:
    print(
        f"  {name:8} offered {figures.offered:5d}  answered {figures.answered:5d}"
        f"  unanswered {figures.unanswered:4d}  {figures.rate:6.1f}/s"
        f"  p50 {figures.p(0.5):7.1f} ms  p99 {figures.p(0.99):7.1f} ms"
        f"  max {max(figures.samples, default=float('nan')):7.1f} ms"
    )


def compare(rate: float, seconds: float, count: int) -> tuple[Figures, Figures]:
    """The echo bot on asyncio's loop as python-telegram-bot runs by default; Renfort on the
    loop `renfort run` uses."""
    echo = asyncio.run(measure_echo(rate, seconds, count))
    with tempfile.TemporaryDirectory() as workdir:
        renfort = event_loop.run(measure_renfort(rate, seconds, count, Path(workdir)))
    return echo, renfort


def goal_p99(echo: Figures) -> float:
    return 2 * echo.p(0.99) + 30


def rows(quick: bool) -> list[Row]:
    seconds = 10.0 if quick else 60.0
    echo, renfort = compare(100.0, seconds, 300)
    goal = goal_p99(echo)
    everyone = renfort.unanswered == 0 and renfort.not_idle == 0
    return [
        Row(
            f"inbound p99, 100 updates/s mixed, {seconds:g} s",
            renfort.p(0.99),
            "ms",
            f"≤ 2×echo+30 = {goal:.0f} ms, all answered",
            renfort.p(0.99) <= goal and everyone,
            baseline=echo.p(0.99),
        ),
        Row(
            "inbound p50",
            renfort.p(0.5),
            "ms",
            "",
            True,
            baseline=echo.p(0.5),
        ),
        Row(
            "inbound answers/s",
            renfort.rate,
            "/s",
            "= offered",
            everyone,
            baseline=echo.rate,
        ),
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rate", type=float, default=100.0, help="updates per second")
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--people", type=int, default=300)
    args = parser.parse_args()
    echo, renfort = compare(args.rate, args.seconds, args.people)
    print(f"{args.rate:g} updates/s of mixed traffic for {args.seconds:g} s, {args.people} people")
    report("echo", echo)
    report("Renfort", renfort)
    print(
        f"  p99 ratio {renfort.p(0.99) / echo.p(0.99):.2f};"
        f" goal p99 ≤ {goal_p99(echo):.0f} ms; skipped (everyone waiting)"
        f" echo {echo.not_idle}, Renfort {renfort.not_idle}"
    )


if __name__ == "__main__":
    main()
