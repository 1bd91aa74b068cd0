"""Assembly of one Renfort process: database, Telegram, dispatcher, scheduler, HTTP."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import socket
from collections.abc import Callable
from datetime import UTC, datetime
from typing import TYPE_CHECKING

import uvicorn
from apscheduler.schedulers.asyncio import AsyncIOScheduler
from sqlalchemy import text
from telegram import Update
from telegram.error import InvalidToken, NetworkError, TelegramError

from bot.config import ConfigError, Settings
from bot.geo import Geocoder
from bot.messaging.channel import Channel
from bot.messaging.dispatcher import Dispatcher
from bot.messaging.telegram_channel import TelegramChannel
from bot.runtime import Renfort, system_clock
from bot.scheduler.tick import TICK_SECONDS, tick
from bot.sockets import listening_socket
from handlers.telegram.callout_refresh import CalloutRefresher
from handlers.telegram.common import RenfortApplication
from handlers.telegram.wiring import build_application
from handlers.web import TELEGRAM_WEBHOOK_PATH, build_web_app
from storage.database import Database
from storage.migrate import upgrade_if_needed

if TYPE_CHECKING:
    from bot.messaging.sms_channel import SmsChannel

log = logging.getLogger(__name__)
OUTBOX_SWEEP_SECONDS = 5


def bind_http(settings: Settings) -> socket.socket:
    """Bind the HTTP port now, so a taken port is one clear line at start-up."""
    try:
        return listening_socket(settings.http_host, settings.http_port)
    except OSError as error:
        raise ConfigError(
            f"HTTP_HOST/HTTP_PORT: cannot listen on {settings.http_host}:{settings.http_port}"
            f" ({error.strerror})"
        ) from None


async def open_database(settings: Settings) -> Database:
    """Migrate when needed and connect, or one clear line about DATABASE_URL."""
    db: Database | None = None
    try:
        db = Database(settings.database_url)
        await upgrade_if_needed(db, settings.database_url)
        async with db.reading("startup") as conn:
            await conn.execute(text("SELECT 1"))
    except (OSError, ConnectionError) as error:
        await _close(db)
        raise ConfigError(f"DATABASE_URL: cannot connect ({error})") from None
    except Exception as error:  # drivers raise many kinds; the operator needs one line
        await _close(db)
        first_line = (
            str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        )
        raise ConfigError(f"DATABASE_URL: cannot open the database ({first_line})") from None
    return db


async def _close(db: Database | None) -> None:
    if db is not None:
        with contextlib.suppress(Exception):
            await db.close()


class Service:
    """Everything `renfort run` starts, in one process and one event loop."""

    def __init__(
        self,
        settings: Settings,
        *,
        clock: Callable[[], datetime] = system_clock,
        sandbox: bool = False,
    ) -> None:
        self.settings = settings
        self.sandbox = sandbox
        self.clock = clock
        self.renfort: Renfort | None = None
        self.telegram: RenfortApplication | None = None
        self.dispatcher: Dispatcher | None = None
        self.sms: SmsChannel | None = None
        self.scheduler: AsyncIOScheduler | None = None
        self.callout_board: CalloutRefresher | None = None
        self.http: uvicorn.Server | None = None
        self._tasks: list[asyncio.Task[None]] = []

    async def start(self) -> None:
        settings = self.settings
        if settings.sms_enabled and not settings.public_url:
            raise ConfigError("PUBLIC_URL: SMS needs the public address Twilio calls back")
        sock = bind_http(settings)
        db = await open_database(settings)
        renfort = Renfort(
            settings=settings,
            db=db,
            geocoder=Geocoder(settings.geocoder_url),
            clock=self.clock,
            sandbox=self.sandbox,
        )
        self.renfort = renfort
        polling = settings.telegram_mode == "polling"
        telegram = build_application(renfort, with_updater=polling)
        self.telegram = telegram
        try:
            await telegram.initialize()
        except InvalidToken:
            raise ConfigError("TELEGRAM_BOT_TOKEN: Telegram refused this token") from None
        except NetworkError as error:
            raise ConfigError(f"TELEGRAM_API_URL: cannot reach the Bot API ({error})") from None
        await telegram.start()
        if polling:
            assert telegram.updater is not None
            await telegram.bot.delete_webhook()
            await telegram.updater.start_polling(
                allowed_updates=Update.ALL_TYPES, timeout=settings.telegram_poll_timeout
            )
        else:
            if not settings.public_url:
                raise ConfigError("PUBLIC_URL: webhook mode needs the public https address")
            await telegram.bot.set_webhook(
                settings.public_url + TELEGRAM_WEBHOOK_PATH,
                secret_token=settings.telegram_webhook_secret,
                allowed_updates=Update.ALL_TYPES,
            )
        telegram_channel = TelegramChannel(telegram.bot, renfort)
        channels: dict[str, Channel] = {"telegram": telegram_channel}
        if settings.sms_enabled:
            # twilio and its HTTP stack load only when SMS is on.
            from bot.messaging.sms_channel import SmsChannel

            self.sms = SmsChannel(renfort)
            channels["sms"] = self.sms
        self.dispatcher = Dispatcher(renfort, channels)
        self._tasks.append(asyncio.create_task(self.dispatcher.run(), name="dispatcher"))
        # Status messages share the outbox's limiter: edits count in a group's budget too.
        self.callout_board = CalloutRefresher(renfort, telegram.bot, telegram_channel.limiter)
        self._tasks.append(asyncio.create_task(self.callout_board.run(), name="callout_board"))
        self.scheduler = AsyncIOScheduler(timezone=UTC)
        self.scheduler.add_job(
            renfort.notify_outbox, "interval", seconds=OUTBOX_SWEEP_SECONDS, id="outbox_sweep"
        )
        # First tick right away: whatever fell due while we were down is done now, if
        # still useful (each job decides; a reminder never goes after its slot started).
        self.scheduler.add_job(
            tick,
            "interval",
            args=[renfort],
            seconds=TICK_SECONDS,
            id="scan",
            next_run_time=datetime.now(UTC),
            max_instances=1,
            coalesce=True,
        )
        self.scheduler.start()
        sms_routes = None
        if self.sms is not None:
            from handlers.twilio_web import twilio_routes

            sms_routes = twilio_routes(renfort, self.sms)
        web = build_web_app(renfort, telegram, sms_routes)
        config = uvicorn.Config(web, log_level="warning", lifespan="off", access_log=False)
        self.http = uvicorn.Server(config)
        self._tasks.append(asyncio.create_task(self.http.serve(sockets=[sock]), name="http"))
        log.info(
            "Renfort is running: HTTP on %s:%s, Telegram by %s",
            settings.http_host,
            settings.http_port,
            settings.telegram_mode,
        )

    async def stop(self) -> None:
        if self.scheduler is not None and self.scheduler.running:
            self.scheduler.shutdown(wait=False)
        if self.dispatcher is not None:
            self.dispatcher.stop()
        if self.callout_board is not None:
            self.callout_board.stop()
        if self.http is not None:
            self.http.should_exit = True
        telegram = self.telegram
        if telegram is not None:
            with contextlib.suppress(TelegramError, RuntimeError):
                if telegram.updater is not None and telegram.updater.running:
                    await telegram.updater.stop()
                if telegram.running:
                    await telegram.stop()
                await telegram.shutdown()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await asyncio.wait_for(task, timeout=5)
        if self.sms is not None:
            await self.sms.close()
        if self.renfort is not None:
            await self.renfort.db.close()


async def run_until_stopped(service: Service) -> None:
    """Start, wait for SIGINT/SIGTERM, stop cleanly."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(sig, stop.set)
    try:
        await service.start()
        await stop.wait()
    finally:
        await service.stop()
