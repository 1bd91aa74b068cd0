"""Cold start and idle memory: from spawning `renfort run` to its first getUpdates at the
local Bot API double, and its resident memory after a few idle seconds, side by side with a
bare python-telegram-bot echo bot process started the same way against the same double.

The database is migrated once before timing, and Renfort's modules byte-compiled, as pip
does when it installs the wheel (a restart, as after a deploy): a checkout run with
PYTHONDONTWRITEBYTECODE=1 would otherwise compile some 170 modules at every start, a fifth of
a second no deployed Renfort spends. Run: `python -m bench.cold_start [--runs N] [--idle S]`."""

from __future__ import annotations

import argparse
import asyncio
import compileall
import os
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from starlette.responses import JSONResponse

from bench.table import Row
from renfort.sandbox.telegram_double import TelegramDouble

ECHO_BOT = """
import sys
from telegram import Update
from telegram.ext import Application, ContextTypes, MessageHandler, filters

async def echo(update: Update, _context: ContextTypes.DEFAULT_TYPE) -> None:
    if update.effective_message is not None:
        await update.effective_message.reply_text(update.effective_message.text or "?")

token, api = sys.argv[1], sys.argv[2]
application = (
    Application.builder().token(token).base_url(api + "/bot").base_file_url(api + "/file/bot")
    .build()
)
application.add_handler(MessageHandler(filters.ALL, echo))
application.run_polling(timeout=1)
"""


class WatchedDouble(TelegramDouble):
    """Notes when the first getUpdates arrives."""

    def __init__(self) -> None:
        super().__init__()
        self.first_poll: float | None = None

    async def _api_getUpdates(self, params: dict[str, Any]) -> list[dict[str, Any]] | JSONResponse:
        if self.first_poll is None:
            self.first_poll = time.perf_counter()
        return await super()._api_getUpdates(params)


@dataclass(frozen=True)
class Start:
    seconds: float
    rss_mib: float


def rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


async def one_start(command: list[str], env: dict[str, str], idle: float) -> Start:
    double = WatchedDouble()
    await double.start()
    environment = {**os.environ, **env}
    environment["TELEGRAM_API_URL"] = double.base_url
    started = time.perf_counter()
    process = subprocess.Popen(
        [*command, double.token, double.base_url],
        env=environment,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        deadline = started + 30
        while double.first_poll is None:
            if process.poll() is not None or time.perf_counter() > deadline:
                error = process.stderr.read().decode() if process.stderr else ""
                raise RuntimeError(f"{command} never polled: {error[-2000:]}")
            await asyncio.sleep(0.002)
        seconds = double.first_poll - started
        await asyncio.sleep(idle)
        memory = rss_mib(process.pid)
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        await double.stop()
    return Start(seconds, memory)


def renfort_command() -> list[str]:
    # The token and the API address come from the environment; the extra arguments given to
    # every command are ignored by this small wrapper.
    return [
        sys.executable,
        "-c",
        "import sys; del sys.argv[1:]; sys.argv.append('run');"
        " from renfort.launch import main; main()",
    ]


def compile_renfort() -> None:
    root = Path(__file__).resolve().parent.parent
    for package in ("bot", "handlers", "renfort", "storage"):
        compileall.compile_dir(root / package, quiet=1)


async def measure(runs: int, idle: float) -> tuple[list[Start], list[Start]]:
    compile_renfort()
    with tempfile.TemporaryDirectory() as workdir:
        database = f"sqlite:///{Path(workdir) / 'cold.db'}"
        subprocess.run(
            [sys.executable, "-m", "bot", "db", "upgrade"],
            env={**os.environ, "DATABASE_URL": database},
            check=True,
            capture_output=True,
        )
        env = {
            "TELEGRAM_BOT_TOKEN": TelegramDouble().token,
            "DATABASE_URL": database,
            "HTTP_PORT": "0",
            "TELEGRAM_POLL_TIMEOUT": "1",
        }
        echo: list[Start] = []
        renfort: list[Start] = []
        for _ in range(runs):  # alternate, so both see the same machine load
            echo.append(await one_start([sys.executable, "-c", ECHO_BOT], {}, idle))
            renfort.append(await one_start(renfort_command(), env, idle))
    return echo, renfort


def median(starts: list[Start], field: str) -> float:
    return float(statistics.median(float(getattr(s, field)) for s in starts))


def rows(quick: bool) -> list[Row]:
    echo, renfort = asyncio.run(measure(3 if quick else 5, 2.0 if quick else 3.0))
    start, memory = median(renfort, "seconds"), median(renfort, "rss_mib")
    return [
        Row(
            "cold start to first getUpdates",
            start,
            "s",
            "≤ 1.0 s",
            start <= 1.0,
            baseline=median(echo, "seconds"),
        ),
        Row(
            "idle RSS",
            memory,
            "MiB",
            "≤ 100 MiB",
            memory <= 100,
            baseline=median(echo, "rss_mib"),
        ),
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--idle", type=float, default=5.0, help="seconds before reading RSS")
    args = parser.parse_args()
    echo, renfort = asyncio.run(measure(args.runs, args.idle))
    print(f"median of {args.runs} starts (spawn -> first getUpdates; RSS after {args.idle:g} s)")
    for name, starts in (("echo", echo), ("Renfort", renfort)):
        print(
            f"  {name:8} {median(starts, 'seconds'):5.2f} s"
            f" (min {min(s.seconds for s in starts):.2f})"
            f"  RSS {median(starts, 'rss_mib'):6.1f} MiB"
        )
    ratio = median(renfort, "seconds") / median(echo, "seconds")
    print(f"  ratio   {ratio:5.2f}")


if __name__ == "__main__":
    main()
