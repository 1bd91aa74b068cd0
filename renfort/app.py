"""Assembly of one Renfort process: database, Telegram, dispatcher, scheduler, HTTP.

A start does first what Telegram's first getUpdates needs (the database, the Bot API
session) and loads the rest (the handlers, the HTTP server, the scheduler, the outbox's
dispatcher) while that long poll is under way: what it brings waits in the updater's queue
until the handlers are in place, a few hundred milliseconds later, before `start` returns."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import socket
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from sqlalchemy import text
from telegram import Update
from telegram.error import InvalidToken, NetworkError, TelegramError
from telegram.ext import Updater

from bot.config import ConfigError, Settings, first_line
from bot.geo import Geocoder
from bot.i18n import check_catalogues
from bot.runtime import Renfort, system_clock
from bot.sockets import listening_socket
from handlers.telegram.bot_api import telegram_bot
from handlers.telegram.command_menu import register_command_menus
from handlers.telegram.transport import AiohttpRequest
from renfort.loading import paused_collector
from storage.database import Database
from storage.migrate import upgrade_if_needed

if TYPE_CHECKING:
    import uvicorn
    from apscheduler.schedulers.asyncio import AsyncIOScheduler

    from bot.messaging.dispatcher import Dispatcher
    from bot.messaging.shared_budget import SharedBudget
    from handlers.sms.sender import SmsChannel
    from handlers.telegram.callout_refresh import CalloutRefresher
    from handlers.telegram.common import RenfortApplication
    from handlers.whatsapp.sender import WhatsAppChannel
    from renfort.poller import PollerElection

log = logging.getLogger(__name__)
OUTBOX_SWEEP_SECONDS = 5
# Sessions a worker keeps open on PostgreSQL for its advisory locks: the dispatcher's
# presence and the poller election.
LOCK_SESSIONS = 2
# SIGTERM to exit: what is left after this is cancelled (a container manager kills at 10 s).
STOP_SECONDS = 8.0
# How long the rest of the start waits for the first getUpdates to leave: its connection is
# being opened (a TLS handshake to Telegram). A Bot API that cannot be reached holds nothing
# back for longer: the poller retries on its own.
FIRST_POLL_WAIT_SECONDS = 2.0


def bind_http(settings: Settings) -> socket.socket:
    """Bind the HTTP port now, so a taken port is one clear line at start-up."""
    return _bind("HTTP_HOST/HTTP_PORT", settings.http_host, settings.http_port, settings)


def bind_metrics(settings: Settings) -> socket.socket | None:
    """The metrics' own address, when METRICS_PORT is set."""
    if settings.metrics_port is None:
        return None
    host = settings.metrics_host or settings.http_host
    return _bind("METRICS_HOST/METRICS_PORT", host, settings.metrics_port, settings)


def _bind(names: str, host: str, port: int, settings: Settings) -> socket.socket:
    try:
        # Workers of `renfort run --workers N` share the port; the kernel spreads requests.
        return listening_socket(host, port, shared=settings.workers > 1)
    except OSError as error:
        raise ConfigError(f"{names}: cannot listen on {host}:{port} ({error.strerror})") from None


async def open_database(settings: Settings) -> Database:
    """Migrate when needed and connect, or one clear line about DATABASE_URL."""
    db: Database | None = None
    try:
        pool_size, max_overflow = settings.pool_share
        if settings.is_postgresql:
            pool_size += LOCK_SESSIONS  # held for good, not part of the working share
        db = Database(settings.database_url, pool_size=pool_size, max_overflow=max_overflow)
        await upgrade_if_needed(db, settings.database_url)
        async with db.reading("startup") as conn:
            await conn.execute(text("SELECT 1"))
    except (OSError, ConnectionError) as error:
        await _close(db)
        raise ConfigError(f"DATABASE_URL: cannot connect ({error})") from None
    except Exception as error:  # drivers raise many kinds; the operator needs one line
        await _close(db)
        raise ConfigError(f"DATABASE_URL: cannot open the database ({first_line(error)})") from None
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
        self.updater: Updater | None = None
        self.dispatcher: Dispatcher | None = None
        self.sms: SmsChannel | None = None
        self.whatsapp: WhatsAppChannel | None = None
        self.scheduler: AsyncIOScheduler | None = None
        self.callout_board: CalloutRefresher | None = None
        self.http: uvicorn.Server | None = None
        self.metrics_http: uvicorn.Server | None = None
        self.poller: PollerElection | None = None
        self.budget: SharedBudget | None = None
        self.command_menus: asyncio.Task[None] | None = None
        self._tasks: list[asyncio.Task[None]] = []

    async def start(self) -> None:
        settings = self.settings
        for warning in settings.startup_warnings():
            log.warning("%s", warning)
        # Before anything answers anyone: without its catalogues Renfort would speak English
        # to every French-speaking person without a word in the log.
        check_catalogues()
        if settings.sms_enabled and not settings.public_url:
            raise ConfigError("PUBLIC_URL: SMS needs the public address Twilio calls back")
        sock = bind_http(settings)
        metrics_sock = bind_metrics(settings)
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
        polling_request = AiohttpRequest(pool_size=1, watch_sent=True) if polling else None
        bot = telegram_bot(settings, polling_request)
        # Polling: an updater of its own, so that it can poll before the application exists.
        self.updater = Updater(bot=bot, update_queue=asyncio.Queue()) if polling else None
        try:
            await bot.initialize()
        except InvalidToken:
            raise ConfigError("TELEGRAM_BOT_TOKEN: Telegram refused this token") from None
        except NetworkError as error:
            raise ConfigError(f"TELEGRAM_API_URL: cannot reach the Bot API ({error})") from None
        if self.updater is not None:
            await self.updater.initialize()  # its bot is ready: nothing more is asked
        if polling and db.is_sqlite:
            await self._start_polling()
            assert polling_request is not None and polling_request.sent is not None
            # Loading the handlers and starting the rest blocks the event loop: let the long
            # poll's connection open and its request leave first. What it brings waits in the
            # updater's queue until the application starts.
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(polling_request.sent.wait(), FIRST_POLL_WAIT_SECONDS)
        with paused_collector():
            from handlers.telegram.wiring import build_application
        telegram = build_application(renfort, bot=bot, updater=self.updater)
        self.telegram = telegram
        await telegram.initialize()
        await telegram.start()
        if polling and not db.is_sqlite:
            from renfort.poller import PollerElection

            # Several workers may share this database: the elected one polls.
            self.poller = PollerElection(db, self._start_polling, self._stop_polling)
            self._tasks.append(asyncio.create_task(self.poller.run(), name="poller"))
        elif not polling:
            if not settings.public_url:
                raise ConfigError("PUBLIC_URL: webhook mode needs the public https address")
            with paused_collector():
                from handlers.web import TELEGRAM_WEBHOOK_PATH

            await telegram.bot.set_webhook(
                settings.public_url + TELEGRAM_WEBHOOK_PATH,
                secret_token=settings.telegram_webhook_secret,
                allowed_updates=Update.ALL_TYPES,
            )
        # Six setMyCommands calls (two scopes, each language and the default) would hold the
        # first getUpdates back by as many round trips; the menu only dresses the text field.
        self.command_menus = asyncio.create_task(
            register_command_menus(telegram.bot, settings.renfort_locale), name="command_menus"
        )
        self._tasks.append(self.command_menus)
        self._start_the_rest(renfort, telegram, sock, metrics_sock)
        log.info(
            "Renfort is running: HTTP on %s:%s, Telegram by %s",
            settings.http_host,
            settings.http_port,
            settings.telegram_mode,
        )

    def _start_the_rest(
        self,
        renfort: Renfort,
        telegram: RenfortApplication,
        sock: socket.socket,
        metrics_sock: socket.socket | None,
    ) -> None:
        """The outbox's dispatcher, the callout boards, the scheduler and the HTTP server,
        with the modules only they use."""
        with paused_collector():
            from apscheduler.schedulers.asyncio import AsyncIOScheduler

            from bot.messaging.channel import Channel
            from bot.messaging.dispatcher import Dispatcher
            from bot.messaging.ratelimit import RateLimiter
            from bot.messaging.shared_budget import shared_budget
            from bot.scheduler.tick import TICK_SECONDS, tick
            from handlers.telegram.callout_refresh import CalloutRefresher
            from handlers.telegram.sender import TelegramChannel
            from handlers.web import build_metrics_app, build_web_app
            from renfort.http_server import http_server
        settings, db = self.settings, renfort.db
        self.budget = shared_budget(settings, db)
        telegram_limiter = RateLimiter(settings.telegram_rate, shared=self.budget, name="telegram")
        telegram_channel = TelegramChannel(telegram.bot, renfort, limiter=telegram_limiter)
        channels: dict[str, Channel] = {"telegram": telegram_channel}
        if settings.sms_enabled:
            # twilio and its HTTP stack load only when SMS is on.
            from handlers.sms.sender import SmsChannel, no_chat_window

            sms_limiter = RateLimiter(
                settings.sms_rate, no_chat_window, shared=self.budget, name="sms"
            )
            self.sms = SmsChannel(renfort, limiter=sms_limiter)
            channels["sms"] = self.sms
            if settings.whatsapp_enabled:
                from handlers.whatsapp.sender import WhatsAppChannel

                whatsapp_limiter = RateLimiter(
                    settings.sms_rate, no_chat_window, shared=self.budget, name="whatsapp"
                )
                self.whatsapp = WhatsAppChannel(renfort, self.sms, limiter=whatsapp_limiter)
                channels["whatsapp"] = self.whatsapp
        self.dispatcher = Dispatcher(renfort, channels)
        self._tasks.append(asyncio.create_task(self.dispatcher.run(), name="dispatcher"))
        # Status messages share the outbox's limiter: edits count in a group's budget too.
        self.callout_board = CalloutRefresher(renfort, telegram.bot, telegram_channel.limiter)
        self._tasks.append(asyncio.create_task(self.callout_board.run(), name="callout_board"))
        self.scheduler = AsyncIOScheduler(timezone=UTC)
        self.scheduler.add_job(
            sweep_outbox,
            "interval",
            args=[renfort],
            seconds=OUTBOX_SWEEP_SECONDS,
            id="outbox_sweep",
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
            from handlers.sms.webhook import twilio_routes

            sms_routes = twilio_routes(renfort, self.sms, self.whatsapp)
        self.http = http_server(build_web_app(renfort, telegram, sms_routes))
        self._tasks.append(asyncio.create_task(self.http.serve(sockets=[sock]), name="http"))
        if metrics_sock is not None:
            self.metrics_http = http_server(build_metrics_app(renfort))
            self._tasks.append(
                asyncio.create_task(
                    self.metrics_http.serve(sockets=[metrics_sock]), name="metrics_http"
                )
            )

    async def _start_polling(self) -> None:
        assert self.updater is not None
        # start_polling deletes any webhook itself before its first getUpdates.
        await self.updater.start_polling(
            allowed_updates=Update.ALL_TYPES, timeout=self.settings.telegram_poll_timeout
        )

    async def _stop_polling(self) -> None:
        if self.updater is not None and self.updater.running:
            await self.updater.stop()

    async def stop(self) -> None:
        """Stop taking updates, finish handling the ones taken and the sends under way,
        then close; whatever is still running after STOP_SECONDS is cancelled (a send cut
        short stays 'sending': the other workers, or this one's next start, send it again,
        so it is never lost)."""
        deadline = time.monotonic() + STOP_SECONDS
        if self.http is not None:
            self.http.should_exit = True  # finishes the requests it is answering
        if self.metrics_http is not None:
            self.metrics_http.should_exit = True
        if self.scheduler is not None and self.scheduler.running:
            self.scheduler.shutdown(wait=False)
        if self.poller is not None:
            for task in self._tasks:
                if task.get_name() == "poller":
                    task.cancel()
        telegram = self.telegram
        with contextlib.suppress(TelegramError, RuntimeError):
            await self._stop_polling()  # it may have polled before `telegram` was built
            if telegram is not None and telegram.running:
                await telegram.stop()  # the updates already taken are handled first
        if self.dispatcher is not None:
            self.dispatcher.stop()  # returns once the batch in flight is recorded
        if self.callout_board is not None:
            self.callout_board.stop()
        if self._tasks:
            _done, late = await asyncio.wait(
                self._tasks, timeout=max(0.1, deadline - time.monotonic())
            )
            for task in late:
                log.warning("%s did not stop in time; cancelled", task.get_name())
                task.cancel()
            for task in self._tasks:
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await task
        with contextlib.suppress(TelegramError, RuntimeError):
            if telegram is not None:
                await telegram.shutdown()
            elif self.updater is not None:
                await self.updater.shutdown()
        if self.sms is not None:
            await self.sms.close()
        if self.budget is not None:
            await self.budget.close()
        if self.renfort is not None:
            await self.renfort.geocoder.close()
            await self.renfort.db.close()


async def sweep_outbox(renfort: Renfort) -> None:
    """Wake the dispatcher for rows another worker queued or a wait let go. A coroutine, so
    the scheduler runs it on the loop: a plain function runs in its thread pool, and an
    asyncio Event set from another thread does not wake the loop that waits on it."""
    renfort.notify_outbox()


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
