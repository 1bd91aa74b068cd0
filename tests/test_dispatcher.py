"""Notifications reach people through the outbox, under Telegram's limits, once.

Most tests send through python-telegram-bot to the Bot API double; those about minutes of
rate limits or a crash use a scripted channel on a clock the test moves."""

from __future__ import annotations

import asyncio
import math
from collections import defaultdict, deque
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select, update
from telegram import Bot

from bot.buttons import Button, resolve
from bot.config import Settings, load_settings
from bot.geo import Geocoder
from bot.i18n import Translator
from bot.messaging.channel import Address, Moved, Notice, Outcome, Sent, Transient
from bot.messaging.dispatcher import BACKOFF_SECONDS, LEASE, MAX_ATTEMPTS, Dispatcher
from bot.messaging.message import Choice, Message
from bot.messaging.outbox import enqueue
from bot.messaging.ratelimit import RateLimiter, Window, telegram_chat_window
from bot.notifications import load
from bot.runtime import Renfort
from bot.services import applications, organisations
from handlers.telegram.render import render
from handlers.telegram.sender import TelegramChannel
from renfort.sandbox.telegram_double import TelegramDouble
from storage import schema
from storage.database import Database, TransactionCounts, turn_costs
from tests.conftest import NOW
from tests.factories import commune, first_slot, polling_station, volunteer
from tests.harness import FakeClock, running_bot, sqlite_file_url
from tests.test_render import snapshot

GROUP = -1001000000001
# python-telegram-bot warns about its own RetryAfter while building it; nothing to act on.
pytestmark = pytest.mark.filterwarnings("ignore::telegram.warnings.PTBDeprecationWarning")

FR = Translator("fr")  # the service default and the test people's language


# ---- fixtures -----------------------------------------------------------------------------


def settings(**overrides: Any) -> Settings:
    return load_settings(_env_file=None, **overrides)


@pytest.fixture
def renfort(db: Database) -> Renfort:
    return Renfort(settings(), db, Geocoder(None), clock=FakeClock(NOW))


@pytest.fixture
async def dispatcher(renfort: Renfort, double: TelegramDouble) -> AsyncIterator[Dispatcher]:
    async with Bot(double.token, base_url=f"{double.base_url}/bot") as bot:
        yield Dispatcher(renfort, {"telegram": TelegramChannel(bot, renfort)})


async def notify(renfort: Renfort, kind: str = "offer_expired", **to: Any) -> int:
    """Enqueue one notification, as a service would."""
    payload = to.pop("payload", snapshot())
    async with renfort.db.transaction("test_enqueue") as conn:
        return await enqueue(conn, load(kind, payload), **to)


async def outbox(db: Database, row_id: int) -> Any:
    async with db.reading("test") as conn:
        return (await conn.execute(select(schema.outbox).where(schema.outbox.c.id == row_id))).one()


async def people_on_telegram(renfort: Renfort, double: TelegramDouble, n: int) -> list[int]:
    """n registered volunteers with a private chat with the bot; returns their person ids."""
    ids = []
    for user_id in range(1, n + 1):
        double.user(user_id, f"Volontaire {user_id}")
        ids.append((await volunteer(renfort.db, user_id, f"Volontaire {user_id}")).id)
    return ids


async def coordinated_from_group(
    db: Database, double: TelegramDouble, org: organisations.Organisation
) -> None:
    """Nadia coordinates the organisation and linked its group, where applications go."""
    double.user(1, "Nadia")
    double.group(GROUP, "Mairie — coordination", admins=(1,))
    nadia = await volunteer(db, 1, "Nadia")
    await organisations.join(db, nadia.id, org.invite_code)
    await organisations.link_admin_chat(
        db, person_id=nadia.id, organisation_id=org.id, chat_id=GROUP, title="coordination"
    )


# ---- with the Bot API double -------------------------------------------------------------


async def test_a_coordinators_group_receives_the_new_application_with_approve_and_refuse(
    renfort: Renfort, double: TelegramDouble, dispatcher: Dispatcher
) -> None:
    db = renfort.db
    org = await commune(db)
    slot_id = await first_slot(db, await polling_station(db, org.id, now=NOW))
    await coordinated_from_group(db, double, org)
    camille = await volunteer(db, 2, "Camille")
    applied = await applications.apply(db, person_id=camille.id, slot_id=slot_id, now=NOW)

    assert await dispatcher.drain() == 1

    [message] = double.messages[GROUP]
    assert "Camille" in message.text and "Assesseur" in message.text
    assert message.button_texts() == [FR._("✅ Approve"), FR._("❌ Refuse")]
    payload = await resolve(db, message.callback_data(FR._("✅ Approve")))
    assert payload is not None
    assert (payload.action, payload.data) == ("approve", {"application_id": applied.id})
    async with db.reading("test") as conn:
        posted = (await conn.execute(select(schema.posted_messages))).one()
    assert (posted.subject_type, posted.subject_id) == ("application", applied.id)
    assert (posted.chat_id, posted.message_id) == (GROUP, message.message_id)
    assert renfort.metrics.value("outbox_sent_total", channel="telegram") == 1


async def test_a_batch_of_applications_costs_the_group_no_more_writes_than_one(
    renfort: Renfort, double: TelegramDouble, dispatcher: Dispatcher
) -> None:
    """Every message's buttons work, and a batch stores them all in one transaction."""
    db = renfort.db
    org = await commune(db)
    mission_id = await polling_station(db, org.id, now=NOW, capacity=10)
    slot_id = await first_slot(db, mission_id)
    await coordinated_from_group(db, double, org)
    applied = []
    writes = []
    for batch in ((2,), (3, 4, 5)):
        for user_id in batch:
            person = await volunteer(db, user_id, f"Volontaire {user_id}")
            applied.append(
                await applications.apply(db, person_id=person.id, slot_id=slot_id, now=NOW)
            )
        costs = TransactionCounts()
        token = turn_costs.set(costs)
        try:
            assert await dispatcher.drain() == len(batch)
        finally:
            turn_costs.reset(token)
        writes.append(costs.writes)

    assert writes[1] == writes[0]
    messages = double.messages[GROUP]
    assert len(messages) == 4
    for message, view in zip(messages, applied, strict=True):
        payload = await resolve(db, message.callback_data(FR._("✅ Approve")))
        assert payload is not None
        assert (payload.action, payload.data) == ("approve", {"application_id": view.id})


async def test_the_volunteer_hears_the_decision_in_a_private_chat(
    renfort: Renfort, double: TelegramDouble, dispatcher: Dispatcher
) -> None:
    [camille] = await people_on_telegram(renfort, double, 1)
    row_id = await notify(
        renfort, "application_decided", person_id=camille, payload=snapshot(status="approved")
    )

    await dispatcher.drain()

    assert FR._("<b>You're in!</b>") in double.last(1).text
    row = await outbox(renfort.db, row_id)
    assert (row.status, row.channel, row.sent_at) == ("sent", "telegram", NOW)
    assert row.provider_id == str(double.last(1).message_id)


async def test_telegram_shows_the_choices_a_tap_can_make_in_their_rows_and_no_other(
    renfort: Renfort, double: TelegramDouble
) -> None:
    double.user(1, "Camille")
    coming = {"application_id": 7}
    asked = Message(
        "Coming on Sunday?",
        (
            Choice("Yes", "YES", Button("Yes", "attendance.yes", coming)),
            Choice("No", "NO", Button("No", "attendance.no", coming)),
            Choice("Where?", action=Button("Where?", "", url="https://example.org/map"), row=1),
            Choice("Later", "LATER"),
        ),
    )

    async with Bot(double.token, base_url=f"{double.base_url}/bot") as bot:
        channel = TelegramChannel(bot, renfort)
        await channel.send(1, asked)
        [prepared] = await channel.prepare([asked])
        await channel.send(1, prepared)

    alone, batched = double.messages[1]
    for shown in (alone, batched):
        assert [[b["text"] for b in row] for row in shown.buttons] == [["Yes", "No"], ["Where?"]]
        assert shown.buttons[1][0]["url"] == "https://example.org/map"
        payload = await resolve(renfort.db, shown.callback_data("No"))
        assert payload is not None and (payload.action, payload.data) == ("attendance.no", coming)


async def test_a_429_delays_only_that_chat_and_the_message_still_arrives_once(
    renfort: Renfort, double: TelegramDouble, dispatcher: Dispatcher
) -> None:
    people = await people_on_telegram(renfort, double, 3)
    for person_id in people:
        await notify(renfort, person_id=person_id)
    double.fail_next("sendMessage", 429, retry_after=1)

    assert await dispatcher.drain() == 3

    assert [len(double.messages[user]) for user in (1, 2, 3)] == [1, 1, 1]
    # The chat that got the 429 came last; the others did not wait for it.
    refused = next(int(p["chat_id"]) for method, p in double.calls if method == "sendMessage")
    others = [double.last(user).message_id for user in (1, 2, 3) if user != refused]
    assert double.last(refused).message_id > max(others)
    assert renfort.metrics.value("telegram_retry_after_total") == 1


async def test_a_volunteer_who_blocked_the_bot_is_marked_unreachable_and_not_tried_again(
    renfort: Renfort, double: TelegramDouble, dispatcher: Dispatcher
) -> None:
    [camille] = await people_on_telegram(renfort, double, 1)
    double.block(1)
    first = await notify(renfort, person_id=camille)
    await dispatcher.drain()
    second = await notify(renfort, person_id=camille)
    await dispatcher.drain()

    sends = [params for method, params in double.calls if method == "sendMessage"]
    assert len(sends) == 1
    for row_id in (first, second):
        row = await outbox(renfort.db, row_id)
        assert (row.status, row.last_error) == ("failed", "unreachable")
    async with renfort.db.reading("test") as conn:
        marked = await conn.scalar(select(schema.people.c.telegram_unreachable_at))
    assert marked == NOW
    assert renfort.metrics.value("outbox_failed_total") == 2


async def test_a_blocked_volunteer_with_a_phone_gets_it_by_sms_instead(
    renfort: Renfort, double: TelegramDouble
) -> None:
    [camille] = await people_on_telegram(renfort, double, 1)
    async with renfort.db.transaction("test") as conn:
        await conn.execute(update(schema.people).values(phone="+33612345678"))
    double.block(1)
    row_id = await notify(renfort, person_id=camille)
    sms = ScriptedChannel(Seconds())
    async with Bot(double.token, base_url=f"{double.base_url}/bot") as bot:
        dispatcher = Dispatcher(renfort, {"telegram": TelegramChannel(bot, renfort), "sms": sms})
        assert await dispatcher.drain() == 1

    assert [address for address, _text, _at in sms.sent] == ["+33612345678"]
    row = await outbox(renfort.db, row_id)
    assert (row.status, row.channel) == ("sent", "sms")


async def test_a_notification_restricted_to_sms_skips_a_reachable_telegram(
    renfort: Renfort, double: TelegramDouble
) -> None:
    [camille] = await people_on_telegram(renfort, double, 1)
    async with renfort.db.transaction("test") as conn:
        await conn.execute(update(schema.people).values(phone="+33612345678"))
    # Only a callout carries channels; the dispatcher keeps to them.
    restricted = snapshot(callout_id=1, needed=1, channels=["sms"])
    row_id = await notify(renfort, "callout", person_id=camille, payload=restricted)
    sms = ScriptedChannel(Seconds())
    async with Bot(double.token, base_url=f"{double.base_url}/bot") as bot:
        dispatcher = Dispatcher(renfort, {"telegram": TelegramChannel(bot, renfort), "sms": sms})
        assert await dispatcher.drain() == 1

    assert [address for address, _text, _at in sms.sent] == ["+33612345678"]
    assert double.messages[1] == []
    assert (await outbox(renfort.db, row_id)).channel == "sms"


async def test_a_server_error_is_retried_after_a_pause_and_delivered_once(
    renfort: Renfort, double: TelegramDouble, dispatcher: Dispatcher
) -> None:
    [camille] = await people_on_telegram(renfort, double, 1)
    row_id = await notify(renfort, person_id=camille)
    double.fail_next("sendMessage", 500, description="Internal Server Error")

    assert await dispatcher.drain() == 0
    row = await outbox(renfort.db, row_id)
    assert (row.status, row.attempts, row.not_before) == ("pending", 1, NOW + timedelta(seconds=5))

    assert isinstance(renfort.clock, FakeClock)
    renfort.clock.advance(seconds=5)
    assert await dispatcher.drain() == 1
    assert len(double.messages[1]) == 1
    assert renfort.metrics.value("outbox_retry_total") == 1


async def test_twenty_notifications_to_one_group_in_a_minute_never_trip_a_429(
    renfort: Renfort, double: TelegramDouble, dispatcher: Dispatcher
) -> None:
    """With the double enforcing Telegram's limits, and people's chats busy meanwhile."""
    double.limits.enforce = True
    double.group(GROUP, "Mairie — coordination")
    people = await people_on_telegram(renfort, double, 25)
    for i in range(20):
        payload = snapshot(application_id=i) | {"volunteer_name": f"V{i}"}
        await notify(renfort, "application_submitted", chat_id=GROUP, payload=payload)
        await notify(renfort, person_id=people[i % len(people)])
        await notify(renfort, person_id=people[-1 - i % len(people)])

    assert await dispatcher.drain() == 60

    assert double.too_many_requests == 0
    assert len(double.messages[GROUP]) == 20
    assert sum(len(double.messages[user]) for user in range(1, 26)) == 40


async def test_a_notification_that_cannot_be_rendered_fails_alone(
    renfort: Renfort, double: TelegramDouble, dispatcher: Dispatcher
) -> None:
    [camille] = await people_on_telegram(renfort, double, 1)
    # A row of a kind this release does not know (queued by a newer one): enqueue() only
    # takes known notifications, so the row goes in as that release would have written it.
    async with renfort.db.transaction("test_enqueue") as conn:
        broken = await enqueue(conn, load("offer_expired", snapshot()), person_id=camille)
        await conn.execute(
            update(schema.outbox).where(schema.outbox.c.id == broken).values(kind="no_such_kind")
        )
    await notify(renfort, person_id=camille)

    assert await dispatcher.drain() == 1

    row = await outbox(renfort.db, broken)
    assert row.status == "failed" and "no_such_kind" in row.last_error


async def test_someone_without_telegram_or_sms_cannot_be_reached(
    renfort: Renfort, dispatcher: Dispatcher
) -> None:
    async with renfort.db.transaction("test") as conn:
        result = await conn.execute(
            schema.people.insert()
            .values(first_name="Josette", phone="+33325000000", interests=[], availability={})
            .returning(schema.people.c.id)
        )
        person_id = int(result.scalar_one())
    row_id = await notify(renfort, person_id=person_id)

    assert await dispatcher.drain() == 0

    row = await outbox(renfort.db, row_id)
    assert (row.status, row.last_error) == ("failed", "unreachable")


async def test_the_running_service_sends_as_soon_as_a_service_enqueues(tmp_path: Any) -> None:
    async with running_bot(sqlite_file_url(tmp_path), FakeClock(NOW)) as bot:
        bot.double.user(1, "Camille")
        camille = await volunteer(bot.db, 1)
        await notify(bot.renfort, person_id=camille.id)
        bot.renfort.notify_outbox()

        message = await bot.double.wait_for(
            1, FR._("Other missions need you: /missions"), timeout=30
        )

    assert "Assesseur" in message.text


# ---- on a clock the test moves ------------------------------------------------------------


class Seconds:
    """A monotonic clock that moves only when someone sleeps on it."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        # At least to the next float: a wait of a rounding error's length must end too.
        later = self.now + max(0.0, seconds)
        self.now = later if seconds <= 0 else max(later, math.nextafter(self.now, math.inf))
        await asyncio.sleep(0)


class ScriptedChannel:
    """A channel that behaves like Telegram's limits on a fake clock and can be scripted
    to fail or to hang (a crash mid-send)."""

    def __init__(self, clock: Seconds, latency: float = 0.0) -> None:
        self.clock = clock
        self.latency = latency
        self.limiter = RateLimiter(30, clock=clock)
        self.sent: list[tuple[Address, str, float]] = []
        self.script: dict[Address, deque[Outcome]] = defaultdict(deque)
        self.hang: set[Address] = set()
        self.before_send: Callable[[Address], Awaitable[None]] | None = None
        self.too_many: int = 0
        self._seen: dict[Address, deque[float]] = defaultdict(deque)

    def render(self, kind: str, payload: dict[str, Any], t: Translator) -> Message:
        return render(kind, payload, t)

    async def send(self, address: Address, message: Message, notice: Notice) -> Outcome:
        if self.before_send is not None:
            await self.before_send(address)
        if address in self.hang:
            await asyncio.Event().wait()
        if self.script[address]:
            return self.script[address].popleft()
        window = telegram_chat_window(address) or Window(1, 1.0)
        seen = self._seen[address]
        while seen and self.clock() - seen[0] >= window.seconds:
            seen.popleft()
        if len(seen) >= window.count:
            self.too_many += 1
        seen.append(self.clock())
        self.sent.append((address, message.text, self.clock()))
        self.clock.now += self.latency
        return Sent(str(len(self.sent)))


def scripted(renfort: Renfort, **channel: Any) -> tuple[Dispatcher, ScriptedChannel]:
    clock = Seconds()
    fake = ScriptedChannel(clock, **channel)
    return Dispatcher(renfort, {"telegram": fake}, clock=clock, sleep=clock.sleep), fake


async def test_twenty_five_notifications_to_a_group_wait_a_minute_for_the_last_five(
    renfort: Renfort,
) -> None:
    dispatcher, telegram = scripted(renfort, latency=0.01)
    for i in range(25):
        await notify(renfort, chat_id=GROUP, payload=snapshot(mission_title=f"Mission {i}"))

    assert await dispatcher.drain() == 25

    times = [at for _chat, _text, at in telegram.sent]
    assert times[19] < 1 and times[20] >= 60
    assert all(f"Mission {i}<" in text for i, (_c, text, _a) in enumerate(telegram.sent))
    assert telegram.too_many == 0


async def test_one_persons_notifications_arrive_in_order_a_second_apart(
    renfort: Renfort, double: TelegramDouble
) -> None:
    [camille] = await people_on_telegram(renfort, double, 1)
    dispatcher, telegram = scripted(renfort)
    for i in range(3):
        await notify(renfort, person_id=camille, payload=snapshot(mission_title=f"Mission {i}"))

    assert await dispatcher.drain() == 3

    assert all(f"Mission {i}<" in text for i, (_c, text, _a) in enumerate(telegram.sent))
    times = [at for _chat, _text, at in telegram.sent]
    assert times[1] - times[0] >= 1 and times[2] - times[1] >= 1


async def test_transient_errors_back_off_then_give_up_after_five_attempts(
    renfort: Renfort, double: TelegramDouble
) -> None:
    [camille] = await people_on_telegram(renfort, double, 1)
    dispatcher, telegram = scripted(renfort)
    telegram.script[1].extend(Transient("TimedOut") for _ in range(MAX_ATTEMPTS))
    row_id = await notify(renfort, person_id=camille)
    assert isinstance(renfort.clock, FakeClock)

    for pause in BACKOFF_SECONDS:
        await dispatcher.drain()
        assert (await outbox(renfort.db, row_id)).status == "pending"
        renfort.clock.advance(seconds=pause)
    await dispatcher.drain()

    row = await outbox(renfort.db, row_id)
    assert (row.status, row.attempts) == ("failed", MAX_ATTEMPTS)
    assert "TimedOut" in row.last_error
    assert renfort.metrics.value("outbox_retry_total") == MAX_ATTEMPTS - 1
    assert not telegram.sent


async def test_a_crash_mid_batch_sends_again_only_the_batch_in_flight(renfort: Renfort) -> None:
    renfort.settings.outbox_batch_size = 10
    for chat in range(1, 31):
        await notify(renfort, chat_id=-chat)  # thirty groups, one message each
    dispatcher, telegram = scripted(renfort)
    telegram.hang = {-16, -17, -18, -19, -20}  # the second batch stalls half-way…
    crashed = asyncio.create_task(dispatcher.run())
    while len(telegram.sent) < 15:
        await asyncio.sleep(0.01)
    crashed.cancel()  # …and the process dies
    with pytest.raises(asyncio.CancelledError):
        await crashed

    assert isinstance(renfort.clock, FakeClock)
    renfort.clock.advance(seconds=LEASE.total_seconds())
    restarted, after = scripted(renfort)
    running = asyncio.create_task(restarted.run())
    while len(after.sent) < 20:
        await asyncio.sleep(0.01)
    restarted.stop()
    await running

    first = [chat for chat, _text, _at in telegram.sent]
    again = [chat for chat, _text, _at in after.sent]
    assert sorted(first) == list(range(-15, 0))
    assert sorted(set(first) & set(again)) == list(range(-15, -10))  # only batch two
    assert sorted(set(first) | set(again)) == list(range(-30, 0))
    async with renfort.db.reading("test") as conn:
        statuses = set(await conn.scalars(select(schema.outbox.c.status)))
    assert statuses == {"sent"}


async def test_what_was_sent_is_recorded_while_the_batch_waits_for_the_overall_rate(
    renfort: Renfort,
) -> None:
    """So an SMS delivery report finds its notification by SID moments after the send."""
    renfort.settings.outbox_batch_size = 40
    first = await notify(renfort, chat_id=-1)
    for chat in range(2, 41):
        await notify(renfort, chat_id=-chat)
    dispatcher, telegram = scripted(renfort)
    status_of_first: list[str] = []

    async def check(address: Address) -> None:
        if address == -31:  # the first message that had to wait for the 30/s rate
            status_of_first.append((await outbox(renfort.db, first)).status)

    telegram.before_send = check
    assert await dispatcher.drain() == 40

    assert status_of_first == ["sent"]


async def test_a_group_that_became_a_supergroup_gets_it_under_its_new_id(
    renfort: Renfort,
) -> None:
    org = await commune(renfort.db)
    async with renfort.db.transaction("test") as conn:
        await conn.execute(
            schema.admin_chats.insert().values(
                organisation_id=org.id, telegram_chat_id=-4000, created_at=NOW
            )
        )
    row_id = await notify(renfort, chat_id=-4000)
    dispatcher, telegram = scripted(renfort)
    telegram.script[-4000].append(Moved(GROUP))

    assert await dispatcher.drain() == 1

    assert [chat for chat, _text, _at in telegram.sent] == [GROUP]
    assert (await outbox(renfort.db, row_id)).chat_id == GROUP
    async with renfort.db.reading("test") as conn:
        linked = await conn.scalar(select(schema.admin_chats.c.telegram_chat_id))
    assert linked == GROUP
