"""`renfort run --workers N`: N processes of `renfort run` on one PostgreSQL database and
one HTTP port (SO_REUSEPORT: the kernel spreads webhook calls among them).

The parent migrates once, gives every worker the same webhook secret and a directory for
the metrics they share, forwards SIGTERM/SIGINT, and starts again a worker that died (a
crash must not halve the bot until someone notices)."""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence

from bot.config import ConfigError, Settings, first_line
from bot.metrics import MULTIPROCESS_ENV
from storage.migrate import upgrade_sync

log = logging.getLogger(__name__)
RESTART_DELAY_SECONDS = 2.0
# A worker stops within 8 s of SIGTERM (renfort.app.STOP_SECONDS); after this it is killed.
STOP_GRACE_SECONDS = 9.5


def check_workers(settings: Settings, workers: int) -> None:
    """Several workers need a database they can all share."""
    if workers > 1 and not settings.is_postgresql:
        raise ConfigError(
            "--workers: several workers need DATABASE_URL=postgresql://… (SQLite has one writer)"
        )
    if workers > 1 and settings.sandbox:
        raise ConfigError("--workers: the sandbox runs in one process; set TELEGRAM_BOT_TOKEN")


def worker_environment(settings: Settings, workers: int, metrics_dir: str) -> dict[str, str]:
    """What every worker inherits: the shares, the shared secret and metrics directory."""
    env = dict(os.environ)
    env["WORKERS"] = str(workers)
    # A random secret per process would make every worker but the last refuse the webhook.
    env["TELEGRAM_WEBHOOK_SECRET"] = settings.telegram_webhook_secret
    env[MULTIPROCESS_ENV] = metrics_dir
    return env


def spawn(index: int, env: dict[str, str], command: Sequence[str]) -> subprocess.Popen[bytes]:
    return subprocess.Popen([*command], env={**env, "WORKER_INDEX": str(index)})


def run_workers(settings: Settings, workers: int) -> int:
    """Supervise the workers until SIGTERM/SIGINT; returns the exit code."""
    check_workers(settings, workers)
    try:
        upgrade_sync(settings.database_url)
    except Exception as error:  # drivers raise many kinds; the operator needs one line
        raise ConfigError(f"DATABASE_URL: cannot open the database ({first_line(error)})") from None
    stopping = False

    def on_signal(signum: int, _frame: object) -> None:
        nonlocal stopping
        stopping = True
        for process in processes.values():
            if process.poll() is None:
                process.send_signal(signum)

    command = [sys.executable, "-m", "bot", "run"]
    with tempfile.TemporaryDirectory(prefix="renfort-metrics-") as metrics_dir:
        env = worker_environment(settings, workers, metrics_dir)
        processes = {i: spawn(i, env, command) for i in range(workers)}
        signal.signal(signal.SIGTERM, on_signal)
        signal.signal(signal.SIGINT, on_signal)
        log.info("%d workers started", workers)
        failed = False
        while processes:
            time.sleep(0.2)
            for index, process in list(processes.items()):
                code = process.poll()
                if code is None:
                    continue
                if stopping:
                    del processes[index]
                    failed = failed or code not in (0, -signal.SIGTERM, -signal.SIGINT)
                    continue
                if code == 2:  # configuration: restarting would fail the same way
                    on_signal(signal.SIGTERM, None)
                    failed = True
                    del processes[index]
                    continue
                log.warning("worker %d exited with %d; starting it again", index, code)
                time.sleep(RESTART_DELAY_SECONDS)
                if stopping:  # SIGTERM came meanwhile
                    del processes[index]
                    continue
                processes[index] = spawn(index, env, command)
            if stopping:
                _kill_late(processes)
    return 1 if failed else 0


def _kill_late(processes: dict[int, subprocess.Popen[bytes]]) -> None:
    """Wait for the workers' own graceful stop, then kill the ones still there."""
    deadline = time.monotonic() + STOP_GRACE_SECONDS
    for process in processes.values():
        try:
            process.wait(timeout=max(0.0, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
