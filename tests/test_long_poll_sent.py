"""The Bot API transport tells when a long poll has left, so that the start can load the
rest of the service while Telegram holds that poll."""

from __future__ import annotations

import asyncio

from telegram.request import RequestData
from telegram.request._requestparameter import RequestParameter

from handlers.telegram.transport import AiohttpRequest
from renfort.sandbox.telegram_double import TelegramDouble


async def test_a_watched_session_says_when_its_long_poll_left() -> None:
    double = TelegramDouble()
    await double.start()
    request = AiohttpRequest(pool_size=1, watch_sent=True)
    await request.initialize()
    try:
        assert request.sent is not None and not request.sent.is_set()
        poll = asyncio.create_task(
            request.do_request(
                f"{double.base_url}/bot{double.token}/getUpdates",
                "POST",
                RequestData([RequestParameter("timeout", 2, None)]),
            )
        )
        await asyncio.wait_for(request.sent.wait(), 5)
        assert not poll.done()  # Telegram still holds it: nothing to hand over yet
        await asyncio.sleep(0.2)
        assert [method for method, _ in double.calls] == ["getUpdates"]
        poll.cancel()
    finally:
        await request.shutdown()
        await double.stop()


def test_other_sessions_are_not_watched() -> None:
    assert AiohttpRequest().sent is None
