"""`renfort run` in child processes, against doubles running in the test's own loop."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import httpx

from renfort.sandbox.telegram_double import TelegramDouble
from tests.harness import free_port

ROOT = Path(__file__).resolve().parent.parent


def bot_env(double: TelegramDouble, database_url: str, **extra: str) -> dict[str, str]:
    """The environment of one `python -m bot run` talking to the double, in French, its
    web server on a free port."""
    return {
        **os.environ,
        "TELEGRAM_BOT_TOKEN": double.token,
        "TELEGRAM_API_URL": double.base_url,
        "DATABASE_URL": database_url,
        "HTTP_PORT": str(free_port()),
        "TELEGRAM_POLL_TIMEOUT": "1",
        "RENFORT_LOCALE": "fr",
        **extra,
    }


@dataclass
class Worker:
    process: asyncio.subprocess.Process
    port: int
    log: Path

    def output(self) -> str:
        return self.log.read_text(errors="replace")


async def start_worker(
    double: TelegramDouble,
    database_url: str,
    port: int,
    workdir: Path,
    *args: str,
    **env: str,
) -> Worker:
    """One `renfort run` process (`args` added to the command line); returns once its
    /healthz answers."""
    values = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("TELEGRAM_", "TWILIO_", "DATABASE_", "REDIS_", "METRICS_"))
    }
    values.update(
        {
            "TELEGRAM_BOT_TOKEN": double.token,
            "TELEGRAM_API_URL": double.base_url,
            "TELEGRAM_POLL_TIMEOUT": "1",
            "DATABASE_URL": database_url,
            "HTTP_HOST": "127.0.0.1",
            "HTTP_PORT": str(port),
            "RENFORT_TIMEZONE": "Europe/Paris",
            "PYTHONPATH": str(ROOT),
            **env,
        }
    )
    log = workdir / f"worker-{port}.log"
    with log.open("wb") as sink:
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "bot",
            "run",
            *args,
            cwd=workdir,
            env=values,
            stdout=sink,
            stderr=sink,
        )
    worker = Worker(process, port, log)
    deadline = time.monotonic() + 60
    async with httpx.AsyncClient() as client:
        while time.monotonic() < deadline:
            if process.returncode is not None:
                raise RuntimeError(f"renfort run exited: {worker.output()}")
            try:
                if (await client.get(f"http://127.0.0.1:{port}/healthz")).status_code == 200:
                    return worker
            except httpx.HTTPError:
                pass
            await asyncio.sleep(0.2)
    process.kill()
    raise TimeoutError(f"renfort run did not start: {worker.output()}")


async def stop_worker(worker: Worker, timeout: float = 15.0) -> int | None:
    """SIGTERM, then SIGKILL if it does not go; its exit code (None if killed)."""
    if worker.process.returncode is not None:
        return worker.process.returncode
    worker.process.send_signal(signal.SIGTERM)
    try:
        return await asyncio.wait_for(worker.process.wait(), timeout)
    except TimeoutError:
        worker.process.kill()
        await worker.process.wait()
        return None
