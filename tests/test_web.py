"""The HTTP side: health, metrics, and Telegram's webhook guarded by its secret token."""

from __future__ import annotations

from pathlib import Path

import httpx

from renfort.sandbox.telegram_double import TelegramDouble
from storage.database import is_processed
from tests.conftest import NOW
from tests.harness import FakeClock, free_port, running_bot, running_in_public, sqlite_file_url


async def test_health_and_metrics_answer_for_monitoring(tmp_path: Path) -> None:
    port = free_port()
    async with running_bot(sqlite_file_url(tmp_path), FakeClock(NOW), http_port=port) as bot:
        bot.double.user(1, "Camille")
        await bot.say(1, "/help")
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as client:
            health = await client.get("/healthz")
            metrics = await client.get("/metrics")
    assert health.status_code == 200 and health.json()["database"] == "ok"
    assert 'renfort_inbound_total{channel="telegram"} 1.0' in metrics.text


async def test_in_webhook_mode_updates_arrive_by_post_and_forgeries_are_refused(
    tmp_path: Path,
) -> None:
    double = TelegramDouble()
    await double.start()
    try:
        async with running_in_public(
            tmp_path,
            FakeClock(NOW),
            double,
            telegram_mode="webhook",
            telegram_webhook_secret="s3cret-token",
        ) as bot:
            assert double.webhook_url == f"{bot.public_url}/telegram/webhook"
            double.user(1, "Camille")
            answer = await bot.say(1, "/help")
            assert answer and "/missions" in answer[-1].text

            forged = {
                "update_id": 999,
                "message": {
                    "message_id": 1,
                    "date": 0,
                    "chat": {"id": 1, "type": "private"},
                    "text": "/help",
                },
            }
            async with httpx.AsyncClient() as client:
                refused = await client.post(
                    double.webhook_url,
                    json=forged,
                    headers={"X-Telegram-Bot-Api-Secret-Token": "wrong"},
                )
            assert refused.status_code == 403
            assert not await is_processed(bot.db, "telegram", "999")
            assert double.messages[1][-1] is answer[-1]
    finally:
        await double.stop()
