"""The next batch is claimed while the current one is being sent, and that changes none of
the outbox's promises: a crash finds at most one batch sent and not recorded, a chat still
gets its messages in order, and a stop leaves no row claimed for nothing."""

from __future__ import annotations

import asyncio
import time

import pytest
from sqlalchemy import func, select

from bot.config import load_settings
from bot.geo import Geocoder
from bot.messaging.channel import Address, RetryLater
from bot.runtime import Renfort
from storage import schema
from storage.database import Database
from tests.conftest import NOW
from tests.harness import FakeClock
from tests.test_dispatcher import notify, scripted
from tests.test_render import snapshot

OUTBOX = schema.outbox
# How long a send waits for the next batch to be claimed before it concludes it never will.
AHEAD_TIMEOUT = 10.0


@pytest.fixture
def renfort(db: Database) -> Renfort:
    return Renfort(load_settings(_env_file=None), db, Geocoder(None), clock=FakeClock(NOW))


async def sending(renfort: Renfort) -> int:
    async with renfort.db.reading("test_sending") as conn:
        return int(await conn.scalar(select(func.count()).where(OUTBOX.c.status == "sending")) or 0)


async def sent_and_unrecorded(renfort: Renfort, chats: list[Address]) -> int:
    """Rows whose message has gone out and that are still marked as being sent."""
    async with renfort.db.reading("test_unrecorded") as conn:
        found = await conn.scalar(
            select(func.count()).where(
                OUTBOX.c.status == "sending", OUTBOX.c.chat_id.in_([int(c) for c in chats])
            )
        )
    return int(found or 0)


async def test_the_next_batch_is_claimed_during_the_sends_yet_one_batch_at_most_is_unrecorded(
    renfort: Renfort,
) -> None:
    renfort.settings.outbox_batch_size = 5
    for chat in range(1, 21):
        await notify(renfort, chat_id=-chat)  # twenty groups, one message each: four batches
    dispatcher, telegram = scripted(renfort)
    unrecorded: list[int] = []
    claimed_meanwhile: list[int] = []

    async def check(address: Address) -> None:
        unrecorded.append(await sent_and_unrecorded(renfort, [a for a, _t, _at in telegram.sent]))
        if address == -6:  # the second batch's first send: is the third claimed already?
            deadline = time.monotonic() + AHEAD_TIMEOUT
            while (claimed := await sending(renfort)) < 10 and time.monotonic() < deadline:
                await asyncio.sleep(0.01)
            claimed_meanwhile.append(claimed)

    telegram.before_send = check
    assert await dispatcher.drain() == 20

    assert claimed_meanwhile == [10]  # the second batch and the third
    assert len(unrecorded) == 20 and max(unrecorded) <= 5
    assert await sending(renfort) == 0


async def test_a_message_claimed_ahead_does_not_overtake_its_chats_message_put_back_meanwhile(
    renfort: Renfort,
) -> None:
    renfort.settings.outbox_batch_size = 2
    group, other = -7, -8
    await notify(renfort, chat_id=group, payload=snapshot(mission_title="First"))
    await notify(renfort, chat_id=other)
    await notify(renfort, chat_id=group, payload=snapshot(mission_title="Second"))
    # "First" gets a 429 for a second; the other send takes two, so by the time the second
    # batch ("Second", claimed meanwhile) goes, the group could receive again.
    dispatcher, telegram = scripted(renfort, latency=2.0)
    telegram.script[group].append(RetryLater(1.0))

    assert await dispatcher.drain() == 3

    texts = [text for address, text, _at in telegram.sent if address == group]
    assert ["First<" in texts[0], "Second<" in texts[1]] == [True, True]


async def test_a_stop_puts_the_batch_claimed_ahead_back_in_the_queue(renfort: Renfort) -> None:
    renfort.settings.outbox_batch_size = 5
    for chat in range(1, 11):
        await notify(renfort, chat_id=-chat)
    dispatcher, telegram = scripted(renfort)

    async def stop_after_this_batch(address: Address) -> None:
        if address == -5:  # the first batch's last send: the second is claimed by now
            deadline = time.monotonic() + AHEAD_TIMEOUT
            while await sending(renfort) < 10 and time.monotonic() < deadline:
                await asyncio.sleep(0.01)
            dispatcher.stop()

    telegram.before_send = stop_after_this_batch
    await asyncio.wait_for(dispatcher.run(), timeout=30)

    assert sorted(address for address, _t, _at in telegram.sent) == list(range(-5, 0))
    async with renfort.db.reading("test") as conn:
        statuses = dict(
            (await conn.execute(select(OUTBOX.c.status, func.count()).group_by(OUTBOX.c.status)))
            .tuples()
            .all()
        )
    assert statuses == {"sent": 5, "pending": 5}
