"""What monitoring scrapes at /metrics, and the command menu registered at start."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from pathlib import Path

import httpx
from prometheus_client.parser import text_string_to_metric_families

from bot.messaging.outbox import enqueue
from bot.metrics import Metrics
from bot.notifications import load
from tests.conftest import NOW
from tests.factories import volunteer
from tests.harness import FakeClock, free_port, running_bot, sqlite_file_url
from tests.test_render import snapshot


def samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


def test_counters_stay_exact_past_a_million() -> None:
    metrics = Metrics()
    metrics.count("outbox_sent_total", 1_234_567, channel="sms")
    metrics.count("outbox_sent_total", 10_000_001, channel="telegram")
    found = samples(metrics.render().decode())
    assert found[("renfort_outbox_sent_total", (("channel", "sms"),))] == 1_234_567
    assert found[("renfort_outbox_sent_total", (("channel", "telegram"),))] == 10_000_001


async def test_metrics_need_the_token_and_tell_traffic_backlog_and_latency(
    tmp_path: Path,
) -> None:
    port = free_port()
    clock = FakeClock(NOW)
    async with running_bot(
        sqlite_file_url(tmp_path), clock, http_port=port, metrics_token="scrape-me"
    ) as bot:
        bot.double.user(1, "Camille")
        await bot.say(1, "/help")
        person = await volunteer(bot.db, 2, "Nadia")
        assert bot.service.dispatcher is not None
        bot.service.dispatcher.stop()  # a backlog: nothing leaves while we look
        await asyncio.sleep(0.2)
        async with bot.db.transaction("test_backlog") as conn:
            for _ in range(2):
                await enqueue(
                    conn,
                    load("offer_expired", snapshot()),
                    person_id=person.id,
                    not_before=NOW - timedelta(minutes=10),
                )
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as client:
            anonymous = await client.get("/metrics")
            wrong = await client.get("/metrics", headers={"Authorization": "Bearer nope"})
            scraped = await client.get("/metrics", headers={"Authorization": "Bearer scrape-me"})
    assert anonymous.status_code == wrong.status_code == 401
    assert scraped.status_code == 200
    found = samples(scraped.text)
    assert found[("renfort_inbound_total", (("channel", "telegram"),))] == 1
    assert found[("renfort_handler_seconds_count", (("channel", "telegram"),))] == 1
    assert found[("renfort_outbox_pending", ())] + found[("renfort_outbox_sending", ())] >= 2
    assert found[("renfort_outbox_oldest_due_seconds", ())] >= 600
    assert found[("process_resident_memory_bytes", ())] > 0


async def test_messages_out_are_counted_by_channel_and_outcome_with_429s(
    tmp_path: Path,
) -> None:
    async with running_bot(sqlite_file_url(tmp_path), FakeClock(NOW)) as bot:
        bot.double.user(1, "Camille")
        person = await volunteer(bot.db, 1, "Camille")
        bot.double.fail_next("sendMessage", 429, retry_after=1)
        async with bot.db.transaction("test_notify") as conn:
            await enqueue(conn, load("offer_expired", snapshot()), person_id=person.id)
        await bot.drain()
        found = samples(bot.renfort.metrics.render().decode())
    out = "renfort_messages_out_total"
    assert found[(out, (("channel", "telegram"), ("outcome", "retry_later")))] == 1
    assert found[(out, (("channel", "telegram"), ("outcome", "sent")))] == 1
    assert found[("renfort_telegram_retry_after_total", ())] == 1


async def test_metrics_can_live_on_their_own_address(tmp_path: Path) -> None:
    port, metrics_port = free_port(), free_port()
    async with (
        running_bot(
            sqlite_file_url(tmp_path), FakeClock(NOW), http_port=port, metrics_port=metrics_port
        ),
        httpx.AsyncClient() as client,
    ):
        public = await client.get(f"http://127.0.0.1:{port}/metrics")
        private = await client.get(f"http://127.0.0.1:{metrics_port}/metrics")
    assert public.status_code == 404
    assert private.status_code == 200 and "renfort_outbox_pending" in private.text


async def test_the_command_menu_is_registered_per_scope_and_language(tmp_path: Path) -> None:
    async with running_bot(sqlite_file_url(tmp_path), FakeClock(NOW)) as bot:
        assert bot.service.command_menus is not None
        await bot.service.command_menus  # registered beside polling, not before it
        menus = dict(bot.double.commands)
    private_fr = dict(menus[("all_private_chats", "fr")])
    private_en = dict(menus[("all_private_chats", "en")])
    admins_fr = dict(menus[("all_chat_administrators", "fr")])
    assert private_fr["missions"] == "Les missions près de chez vous"
    assert private_en["missions"] == "Missions near you"
    assert {"missions", "mymissions", "profile", "help"} <= set(private_fr)
    assert "callout" not in private_fr and "callout" in admins_fr
    assert admins_fr["roster"] == "Qui vient aux prochains créneaux"
    # People whose Telegram speaks neither language get RENFORT_LOCALE's (fr here).
    assert menus[("all_private_chats", "")] == menus[("all_private_chats", "fr")]
