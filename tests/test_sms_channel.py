"""Sending SMS with the real twilio client against the local Twilio double, and what each
of Twilio's answers means for the notification and for the number."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest

from bot.i18n import Translator
from bot.messaging.channel import Rejected, Sent, Transient, Unreachable
from bot.messaging.dispatcher import Dispatcher
from bot.messaging.message import Message
from bot.messaging.outbox import enqueue
from bot.messaging.ratelimit import RateLimiter
from bot.notifications import load
from bot.runtime import Renfort
from bot.services import phones
from handlers.sms.gsm7 import segments
from handlers.sms.sender import SmsChannel, no_chat_window, sms_text
from handlers.telegram.render import UnknownNotification
from renfort.sandbox.twilio_double import TwilioDouble
from storage.database import Database, Inbound
from tests.conftest import NOW
from tests.harness import FakeClock
from tests.sms_steps import ACCOUNT_SID, AUTH_TOKEN, OUR_NUMBER, sms_renfort
from tests.test_render import snapshot

PHONE = "+33612345678"
# Nothing listens there: the double's delivery reports fail fast, which is not under test.
NOWHERE = "http://127.0.0.1:9"


@pytest.fixture
async def twilio() -> AsyncIterator[TwilioDouble]:
    double = TwilioDouble(ACCOUNT_SID, AUTH_TOKEN, OUR_NUMBER)
    await double.start()
    try:
        yield double
    finally:
        await double.stop()


def channel_for(
    db: Database, twilio: TwilioDouble, *, still_time: bool = False, **overrides: Any
) -> SmsChannel:
    """`still_time`: the limiter's clock stands still, so what it counted cannot expire
    before the test looks, however slow the machine (its timing is test_ratelimit.py's)."""
    renfort = sms_renfort(
        db, FakeClock(NOW), twilio_api_url=twilio.base_url, public_url=NOWHERE, **overrides
    )
    if not still_time:
        return SmsChannel(renfort)
    limiter = RateLimiter(renfort.settings.sms_rate, no_chat_window, clock=lambda: 0.0)
    return SmsChannel(renfort, limiter=limiter)


@pytest.fixture
async def channel(sqlite_db: Database, twilio: TwilioDouble) -> AsyncIterator[SmsChannel]:
    sms = channel_for(sqlite_db, twilio)
    try:
        yield sms
    finally:
        await sms.close()


async def test_an_sms_goes_through_twilios_rest_api_with_a_status_callback(
    channel: SmsChannel, twilio: TwilioDouble
) -> None:
    outcome = await channel.send(PHONE, Message("Renfort: votre place est confirmée."))
    assert isinstance(outcome, Sent) and outcome.provider_id.startswith("SM")
    [sms] = twilio.messages
    assert (sms.sid, sms.to, sms.from_) == (outcome.provider_id, PHONE, OUR_NUMBER)
    assert sms.body == "Renfort: votre place est confirmée." and sms.segments == 1


async def test_a_number_that_sent_stop_to_the_operator_is_marked_and_skipped(
    channel: SmsChannel, twilio: TwilioDouble
) -> None:
    contact = await phones.opt_in(channel.renfort.db, PHONE)
    twilio.fail_next(21610)
    outcome = await channel.send(PHONE, Message("Bonjour"))
    assert isinstance(outcome, Unreachable) and "21610" in outcome.reason
    assert await phones.sms_address(channel.renfort.db, contact.person.id) is None


async def test_an_invalid_number_is_marked_and_skipped(
    channel: SmsChannel, twilio: TwilioDouble
) -> None:
    contact = await phones.opt_in(channel.renfort.db, PHONE)
    twilio.fail_next(21211)
    assert isinstance(await channel.send(PHONE, Message("Bonjour")), Unreachable)
    assert await phones.sms_address(channel.renfort.db, contact.person.id) is None


async def test_twilio_busy_is_tried_again_later(channel: SmsChannel, twilio: TwilioDouble) -> None:
    twilio.fail_next(20429)
    outcome = await channel.send(PHONE, Message("Bonjour"))
    assert isinstance(outcome, Transient) and "20429" in outcome.error
    assert isinstance(await channel.send(PHONE, Message("Bonjour")), Sent)


async def test_a_message_twilio_refuses_is_not_sent_again(
    channel: SmsChannel, twilio: TwilioDouble
) -> None:
    assert isinstance(await channel.send(PHONE, Message("x" * 1601)), Rejected)


async def test_a_network_failure_is_tried_again_later(
    sqlite_db: Database, twilio: TwilioDouble
) -> None:
    sms = channel_for(sqlite_db, twilio)
    await twilio.stop()
    try:
        assert isinstance(await sms.send(PHONE, Message("Bonjour")), Transient)
    finally:
        await sms.close()


async def test_wrong_credentials_wait_for_the_operator(
    sqlite_db: Database, twilio: TwilioDouble
) -> None:
    sms = channel_for(sqlite_db, twilio, twilio_auth_token="wrong-token")
    try:
        outcome = await sms.send(PHONE, Message("Bonjour"))
    finally:
        await sms.close()
    assert isinstance(outcome, Transient) and "20003" in outcome.error
    assert twilio.messages == []


async def test_the_rate_counts_every_part_of_a_long_sms(
    sqlite_db: Database, twilio: TwilioDouble
) -> None:
    sms = channel_for(sqlite_db, twilio, still_time=True, sms_rate=3.0)
    try:
        sms.limiter.consume(PHONE).finish()  # the part the dispatcher counts for every send
        await sms.send(PHONE, Message("a" * 400))
        assert sms.limiter.overall_delay() > 0  # its 3 parts are the 3 a second allows
    finally:
        await sms.close()


async def test_replies_sent_in_twiml_use_the_same_rate(
    sqlite_db: Database, twilio: TwilioDouble
) -> None:
    channel = channel_for(sqlite_db, twilio, still_time=True)
    try:
        for _ in range(10):
            channel.count_reply(PHONE, "Bonjour")
        assert channel.limiter.overall_delay() > 0
    finally:
        await channel.close()


def test_notifications_render_as_one_sms_in_the_persons_language(channel: SmsChannel) -> None:
    payload = snapshot(status="approved", reason=None)
    text = channel.render("application_decided", payload, Translator("en")).text
    assert "Sun 13 Jun 8am-1pm" in text and segments(text) == 1 and "<b>" not in text
    with pytest.raises(UnknownNotification):
        channel.render("no_such_kind", payload, Translator("en"))


def test_a_text_rendered_for_telegram_loses_its_markup_in_an_sms() -> None:
    html = "✅ <b>You're in!</b>\nMairie &amp; CCAS approved <b>Assesseur</b>.\n\n/mymissions"
    assert sms_text(Message(html)) == "You're in!\nMairie & CCAS approved Assesseur.\n/mymissions"


def test_an_sms_channel_needs_the_public_url_for_its_reports(sqlite_db: Database) -> None:
    renfort: Renfort = sms_renfort(sqlite_db, FakeClock(NOW), public_url=None)
    with pytest.raises(ValueError):
        SmsChannel(renfort)


async def test_the_dispatcher_sends_sms_no_faster_than_sms_rate(
    sqlite_db: Database, twilio: TwilioDouble
) -> None:
    sms = channel_for(sqlite_db, twilio, sms_rate=2.0)
    renfort = sms.renfort
    payload = {
        "application_id": 17,
        "mission_id": 3,
        "mission_title": "Assesseur",
        "organisation_name": "Mairie",
        "timezone": "Europe/Paris",
        "starts_at": "2027-06-13T06:00:00+00:00",
        "ends_at": "2027-06-13T11:00:00+00:00",
    }
    residents = [
        await phones.start_contact(
            sqlite_db, f"+3361234560{number}", inbound=Inbound("sms", f"SM{number}")
        )
        for number in range(6)
    ]
    async with sqlite_db.transaction("test") as conn:
        for resident in residents:
            await enqueue(conn, load("offer_expired", payload), person_id=resident.person.id)
    try:
        sent = await Dispatcher(renfort, {"sms": sms}).drain()
    finally:
        await sms.close()
    assert sent == 6
    times = [at for at, _sms in twilio.api_calls]
    assert all(later - earlier >= 0.99 for earlier, later in zip(times, times[2:], strict=False))
