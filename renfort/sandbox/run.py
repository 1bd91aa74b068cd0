"""`renfort run` without a bot token: the whole service against a local Telegram double,
seeded with demo data, driven from the terminal."""

from __future__ import annotations

import asyncio
import contextlib
import signal
import socket
import sys
import threading
from collections.abc import Callable
from datetime import datetime

from rich.console import Console

from bot.config import Settings
from bot.runtime import system_clock
from handlers.telegram.common import RenfortApplication, handled_updates
from handlers.whatsapp.templates import sync_templates
from renfort.app import Service
from renfort.sandbox import demo
from renfort.sandbox.console import ChatConsole, Handled
from renfort.sandbox.telegram_double import TelegramDouble
from renfort.sandbox.twilio_double import TwilioDouble

HTTP_START_SECONDS = 5.0

Lines = asyncio.Queue[str | None]


def sandbox_settings(
    settings: Settings, double: TelegramDouble, twilio: TwilioDouble | None = None
) -> Settings:
    """The configured settings, pointed at the doubles; a short poll keeps Ctrl-C snappy.
    With the Twilio double, SMS and WhatsApp are on too (never the real Twilio)."""
    update: dict[str, object] = {
        "telegram_bot_token": double.token,
        "telegram_api_url": double.base_url,
        "telegram_mode": "polling",
        "telegram_poll_timeout": 1,
    }
    if twilio is not None:
        update.update(twilio.renfort_settings(settings.http_port or _free_port()))
    return settings.replaced(**update)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def read_stdin(lines: Lines) -> None:
    """Feed stdin into `lines` from a daemon thread (None at end of input); a blocked read
    must not keep the process alive after /quit or Ctrl-C."""
    loop = asyncio.get_running_loop()

    def pump() -> None:
        for line in iter(sys.stdin.readline, ""):
            if not _put(loop, lines, line.rstrip("\r\n")):
                return
        _put(loop, lines, None)

    threading.Thread(target=pump, name="sandbox-stdin", daemon=True).start()


def _put(loop: asyncio.AbstractEventLoop, lines: Lines, line: str | None) -> bool:
    try:
        loop.call_soon_threadsafe(lines.put_nowait, line)
    except RuntimeError:  # the loop has closed: the sandbox is over
        return False
    return True


def handled_by(application: RenfortApplication) -> Handled:
    """Waits until the bot has finished an update (a turn that changed nothing leaves no
    row in the database to wait for)."""
    done = handled_updates(application.bot_data)

    async def wait(update_id: int) -> None:
        while update_id not in done:
            await asyncio.sleep(0.02)

    return wait


async def http_url(service: Service) -> str | None:
    """Where the service's HTTP server listens (the port may have been chosen by the OS)."""
    server = service.http
    if server is None:
        return None
    deadline = asyncio.get_running_loop().time() + HTTP_START_SECONDS
    while not server.started and asyncio.get_running_loop().time() < deadline:
        await asyncio.sleep(0.02)
    for listener in getattr(server, "servers", []):
        for sock in listener.sockets:
            host, port = sock.getsockname()[:2]
            return f"http://{host}:{port}"
    return None


async def run_sandbox(
    settings: Settings,
    *,
    lines: Lines | None = None,
    out: Console | None = None,
    clock: Callable[[], datetime] = system_clock,
) -> None:
    """Run until /quit, end of input or SIGINT/SIGTERM; `lines` replaces stdin (tests)."""
    out = out or Console(highlight=False)
    stop = asyncio.Event()
    double = TelegramDouble()
    await double.start()
    twilio = TwilioDouble()
    await twilio.start()
    twilio.clock = clock
    local = sandbox_settings(settings, double, twilio)
    service = Service(local, clock=clock, sandbox=True)
    signals = _on_signals(stop) if lines is None else []
    try:
        await service.start()
        assert service.renfort is not None and service.telegram is not None
        db = service.renfort.db
        await demo.seed(db, now=service.renfort.now(), zone=settings.timezone)
        # Made, then listed once the double has approved them, as an operator would.
        for _ in range(2):
            await sync_templates(local, db)
        chat = ChatConsole(
            double,
            demo.CAST,
            out,
            handled=handled_by(service.telegram),
            interactive=lines is None and sys.stdin.isatty(),
            http_url=await http_url(service),
            twilio=twilio,
        )
        if lines is None:
            lines = asyncio.Queue()
            read_stdin(lines)
        await chat.run(lines, stop)
    finally:
        loop = asyncio.get_running_loop()
        for sig in signals:
            loop.remove_signal_handler(sig)
        await service.stop()
        await twilio.stop()
        await double.stop()


def _on_signals(stop: asyncio.Event) -> list[signal.Signals]:
    loop = asyncio.get_running_loop()
    installed = []
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(sig, stop.set)
            installed.append(sig)
    return installed
