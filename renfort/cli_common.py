"""What every `renfort` command shares: one-line failures, settings, a database for the
length of a command, and the clock that decides which slots are past (tests pin it).

rich and the service's assembly load when a command first needs them: `renfort run` prints
nothing on a good start, and every module loaded before its first getUpdates delays it."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, NoReturn, TypeVar

from sqlalchemy.engine import make_url

from bot.config import ConfigError, Settings, load_settings
from bot.logs import configure_logging
from bot.runtime import system_clock
from bot.services.errors import ServiceError

if TYPE_CHECKING:
    from rich.console import Console

    from storage.database import Database

T = TypeVar("T")
EXIT_FAILED = 1
EXIT_CONFIG = 2
EXIT_INTERRUPTED = 130
SANDBOX_HINT = (
    "Sandbox mode: no TELEGRAM_BOT_TOKEN. To connect a real bot, put"
    " TELEGRAM_BOT_TOKEN=<token from @BotFather> in .env and run again."
)

# The clock that decides which slots are in the past; tests pin it.
clock: Callable[[], datetime] = system_clock


def out() -> Console:
    from rich.console import Console

    return Console(highlight=False, soft_wrap=True)


def err() -> Console:
    """The console of errors and warnings (stderr)."""
    from rich.console import Console

    return Console(stderr=True, highlight=False, soft_wrap=True)


def escape(text: str) -> str:
    """`text` shown as is by rich, square brackets included."""
    from rich.markup import escape as escape_markup

    return escape_markup(text)


def fail(message: str, code: int = EXIT_FAILED) -> NoReturn:
    """Print one line on stderr and leave with `code`."""
    err().print(f"[bold red]Error:[/] {escape(message)}")
    # Not typer.Exit: `renfort run` alone runs without typer (renfort/run_command.py).
    raise SystemExit(code)


def settings_or_exit() -> Settings:
    try:
        settings = load_settings()
    except ConfigError as error:
        fail(str(error), EXIT_CONFIG)
    configure_logging(settings.log_level, settings.log_format)
    check_sqlite_directory(settings.database_url)
    return settings


def check_sqlite_directory(database_url: str) -> None:
    """A SQLite file in a missing directory: say so, before aiosqlite fails to open it and
    its worker thread prints a traceback on top of our line."""
    url = make_url(database_url)
    if url.get_backend_name() != "sqlite" or not url.database:
        return
    directory = Path(url.database).expanduser().parent
    if not directory.is_dir():
        fail(f"DATABASE_URL: the directory {directory} does not exist", EXIT_CONFIG)


def with_database(settings: Settings, work: Callable[[Database], Awaitable[T]]) -> T:
    """Migrate, connect, run `work`, close; database trouble is one line."""

    from renfort.app import open_database

    async def go() -> T:
        db = await open_database(settings)
        try:
            return await work(db)
        finally:
            await db.close()

    try:
        return asyncio.run(go())
    except ConfigError as error:
        fail(str(error), EXIT_CONFIG)
    except ServiceError as error:
        fail(refusal(error))


def refusal(error: ServiceError) -> str:
    """A service's refusal in an operator's words."""
    details = error.details
    messages = {
        "organisation_exists": f"an organisation named {details.get('name')!r} already exists",
        "postcode": f"postcode {details.get('postcode')!r} must be 5 digits",
        "organisation_name": "the organisation needs a name",
        "organisation_name_length": f"an organisation's name has at most {details.get('most')}"
        " characters",
    }
    return messages.get(error.code, f"refused ({error.code})")
