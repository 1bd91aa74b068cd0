"""Update → reply latency of the whole bot against the local Bot API double.

A volunteer's message goes through getUpdates polling, python-telegram-bot, the turn's
database work and the reply; we time from the moment the double has the update until the
reply arrives. Run: `python -m bench.latency [--updates N]`."""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
from pathlib import Path

from bot.app import Service
from bot.config import Settings
from bot.sandbox.telegram_double import TelegramDouble


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(fraction * (len(ordered) - 1))))
    return ordered[index]


async def measure(updates: int, workdir: Path) -> list[float]:
    double = TelegramDouble()
    await double.start()
    settings = Settings(
        telegram_bot_token=double.token,
        telegram_api_url=double.base_url,
        database_url=f"sqlite:///{workdir / 'bench.db'}",
        http_port=0,
        telegram_poll_timeout=1,
        _env_file=None,  # type: ignore[call-arg]
    )
    service = Service(settings)
    await service.start()
    samples: list[float] = []
    try:
        users = 20
        for user_id in range(1, users + 1):
            double.user(user_id, f"Volontaire {user_id}")
        for i in range(updates):
            user_id = i % users + 1
            before = len(double.messages[user_id])
            started = time.perf_counter()
            double.send_text(user_id, "/help")
            await double.wait_for(user_id, "", after=before, timeout=10)
            samples.append((time.perf_counter() - started) * 1000)
    finally:
        await service.stop()
        await double.stop()
    return samples


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--updates", type=int, default=300)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as workdir:
        samples = asyncio.run(measure(args.updates, Path(workdir)))
    warm = samples[10:] or samples
    print(f"update -> reply latency over {len(warm)} updates (SQLite, polling, local double)")
    print(f"  p50  {statistics.median(warm):7.1f} ms")
    print(f"  p99  {percentile(warm, 0.99):7.1f} ms")
    print(f"  max  {max(warm):7.1f} ms")


if __name__ == "__main__":
    main()
