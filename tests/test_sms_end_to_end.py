"""A resident without a smartphone, end to end: the real Renfort process, the real twilio
client sending to the local Twilio double, signed webhooks from the double, and the
coordinator approving in Telegram through the Telegram double."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from bot.domain import ApplicationStatus
from bot.services import applications, phones
from handlers.sms.gsm7 import segments
from renfort.sandbox.telegram_double import SentMessage
from renfort.sandbox.twilio_double import TwilioDouble
from storage import schema
from tests.conftest import NOW
from tests.factories import ELECTION_MORNING, polling_station
from tests.harness import Bot, FakeClock, one_answer_each, running_with_twilio
from tests.organiser_steps import COORDINATOR, GROUP, coordinator_with_group, tap_action

PHONE = "+33612345678"


@asynccontextmanager
async def renfort_with_sms(tmp_path: Path) -> AsyncIterator[tuple[Bot, TwilioDouble]]:
    """Renfort with both channels, Twilio's double pointed at our public URL."""
    twilio = TwilioDouble()
    async with running_with_twilio(tmp_path, twilio, FakeClock(NOW), whatsapp=False) as bot:
        yield bot, twilio


async def texts(twilio: TwilioDouble, *bodies: str) -> list[str]:
    """The resident sends each SMS in turn; returns our answers."""
    return await one_answer_each(twilio.text, PHONE, *bodies)


async def approved_by_sms(bot: Bot, twilio: TwilioDouble, name: str, coordinator_id: int) -> None:
    """The resident registers by SMS in English, applies to the first mission listed and the
    coordinator approves them."""
    await texts(twilio, f"Hello, {name} 52100")
    await texts(twilio, "MISSIONS", "1.1")
    [mine] = await applications.applications_of(bot.db, await person_id(bot), now=NOW)
    await applications.decide(bot.db, application_id=mine.id, actor_id=coordinator_id, approve=True)


async def applications_in_group(bot: Bot, before: int) -> SentMessage:
    await bot.drain()
    return await bot.double.wait_for(GROUP, "Camille", after=before)


async def approve(bot: Bot, posted: SentMessage) -> None:
    application_id = int(
        (await applications.applications_of(bot.db, await person_id(bot), now=NOW))[-1].id
    )
    await tap_action(bot, COORDINATOR, posted, "approve", application_id=application_id)
    await bot.drain()


async def person_id(bot: Bot) -> int:
    contact = await phones.find_by_phone(bot.db, PHONE)
    assert contact is not None
    return contact.person.id


async def delivery_of(bot: Bot, provider_id: str) -> str | None:
    o = schema.outbox
    async with bot.db.reading("test") as conn:
        status = await conn.scalar(
            select(o.c.delivery_status).where(o.c.provider_id == provider_id)
        )
    return None if status is None else str(status)


@pytest.mark.parametrize(
    "registering",
    [("Hello", "camille 52100"), ("hi I'm Camille 52100",)],
    ids=["greeting-first", "all-at-once"],
)
async def test_a_resident_registers_applies_and_hears_the_coordinators_answer_in_six_sms(
    tmp_path: Path, registering: tuple[str, ...]
) -> None:
    async with renfort_with_sms(tmp_path) as (bot, twilio):
        organisation = await coordinator_with_group(bot)
        await polling_station(bot.db, organisation.id, now=NOW)

        *_, registered = await texts(twilio, *registering)
        assert "registered near Saint-Dizier" in registered and "INTERESTS" in registered
        [listing] = await texts(twilio, "MISSIONS")
        assert "1.1 Assesseur" in listing and "Sun 13 Jun 8am" in listing
        before = len(bot.double.messages[GROUP])
        [applied] = await texts(twilio, "1.1")
        assert "Applied" in applied and "Sun 13 Jun 8am-1pm" in applied

        posted = await applications_in_group(bot, before)
        assert "Camille (via SMS)" in posted.text
        assert "612345678" not in posted.text and "+33" not in posted.text

        await approve(bot, posted)

        answer = twilio.inbox[PHONE][-1]
        assert answer.via == "api" and answer.segments == 1
        assert "accepted you" in answer.body and "Sun 13 Jun 8am-1pm" in answer.body
        await twilio.settle()
        assert await delivery_of(bot, answer.sid) == "delivered"
        [mine] = await applications.applications_of(bot.db, await person_id(bot), now=NOW)
        assert mine.status == ApplicationStatus.APPROVED
        # Register, discover, apply and the decision: every SMS the resident received,
        # counted in the parts the operator bills.
        received = [segments(sms.body) for sms in twilio.inbox[PHONE]]
        assert received == [1] * (len(registering) + 3) and sum(received) <= 6


async def test_stop_silences_every_feature_and_start_brings_the_resident_back(
    tmp_path: Path,
) -> None:
    async with renfort_with_sms(tmp_path) as (bot, twilio):
        organisation = await coordinator_with_group(bot)
        for hours in (0, 6, 12):
            await polling_station(
                bot.db,
                organisation.id,
                now=NOW,
                title=f"Assesseur, tour {hours}",
                starts_at=ELECTION_MORNING + timedelta(hours=hours),
            )
        await texts(twilio, "Hello, Camille 52100")

        before = len(bot.double.messages[GROUP])
        await texts(twilio, "MISSIONS", "2", "1")
        first = await applications_in_group(bot, before)
        [stopped] = await texts(twilio, "STOP")
        assert "no more messages" in stopped and "START" in stopped
        received = len(twilio.inbox[PHONE])

        await approve(bot, first)
        silent = await twilio.text(PHONE, "MISSIONS")
        assert silent.status_code == 200 and silent.replies == []
        assert len(twilio.inbox[PHONE]) == received  # neither the decision nor an answer

        [back] = await texts(twilio, "START")
        assert "Welcome back" in back
        before = len(bot.double.messages[GROUP])
        *_, listed, applied = await texts(twilio, "MISSIONS", "MORE", "3", "1")
        assert "tour 12" in listed and "Applied" in applied
        second = await applications_in_group(bot, before)
        await approve(bot, second)
        assert "accepted you" in twilio.inbox[PHONE][-1].body


async def test_forged_and_replayed_webhooks_change_nothing(tmp_path: Path) -> None:
    async with renfort_with_sms(tmp_path) as (bot, twilio):
        forged = await twilio.text(PHONE, "STOP", signature="bm90IGEgc2lnbmF0dXJl")
        assert forged.status_code == 403 and forged.replies == []
        assert await phones.find_by_phone(bot.db, PHONE) is None

        first = await twilio.text(PHONE, "Bonjour", sid="SM" + "a" * 32)
        replayed = await twilio.text(PHONE, "Bonjour", sid="SM" + "a" * 32)
        assert replayed.text == first.text and "Camille 52100" in first.text
        assert (await twilio.text(PHONE, "ENGLISH")).status_code == 200
        assert "first name" in (await twilio.text(PHONE, "")).text
