"""The same journey on each of the three channels, where the behaviour is the same: a
resident registers and applies (Telegram with its buttons, SMS and WhatsApp with typed
keywords and numbers), the coordinator approves in the admin group, the resident is told on
the channel they used, and only there."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path

import pytest

from bot.i18n import Translator
from bot.services import applications, people, phones
from renfort.sandbox.twilio_double import TwilioDouble
from tests.conftest import NOW
from tests.factories import polling_station
from tests.harness import Bot
from tests.organiser_steps import COORDINATOR, GROUP, VOLUNTEER, coordinator_with_group, tap_action
from tests.test_journey import STEP_TIMEOUT, Person, register_and_apply
from tests.test_whatsapp import PHONE, renfort_with_whatsapp

MISSION = "Assesseur"
TYPED = ("Hello", "Camille 52100", "MISSIONS", "1.1")


async def on_telegram(bot: Bot, twilio: TwilioDouble) -> int:
    await register_and_apply(Person(bot.double, VOLUNTEER, Translator("en")))
    person = await people.find_by_telegram(bot.db, VOLUNTEER)
    assert person is not None
    return person.id


async def by_sms(bot: Bot, twilio: TwilioDouble) -> int:
    for body in TYPED:
        assert len((await twilio.text(PHONE, body)).replies) == 1
    return await phone_person(bot)


async def on_whatsapp(bot: Bot, twilio: TwilioDouble) -> int:
    # Typed numbers work as taps do: the quick replies only save typing.
    for body in TYPED:
        assert len((await twilio.whatsapp(PHONE, body)).replies) == 1
    return await phone_person(bot)


async def phone_person(bot: Bot) -> int:
    contact = await phones.find_by_phone(bot.db, PHONE)
    assert contact is not None
    return contact.person.id


async def told_on_telegram(bot: Bot, twilio: TwilioDouble, before: int) -> list[str]:
    told = await bot.double.wait_for(VOLUNTEER, MISSION, after=before, timeout=STEP_TIMEOUT)
    return [told.text]


def screens(bot: Bot, twilio: TwilioDouble) -> dict[str, int]:
    return {
        "telegram": len(bot.double.messages[VOLUNTEER]),
        "sms": len(twilio.received(PHONE)),
        "whatsapp": len(twilio.on_whatsapp(PHONE)),
    }


def news(bot: Bot, twilio: TwilioDouble, before: dict[str, int]) -> dict[str, list[str]]:
    return {
        "telegram": [m.text for m in bot.double.messages[VOLUNTEER][before["telegram"] :]],
        "sms": twilio.received(PHONE)[before["sms"] :],
        "whatsapp": [m.body for m in twilio.on_whatsapp(PHONE)[before["whatsapp"] :]],
    }


Journey = Callable[[Bot, TwilioDouble], Awaitable[int]]


@pytest.mark.parametrize(
    ("channel", "journey"),
    [("telegram", on_telegram), ("sms", by_sms), ("whatsapp", on_whatsapp)],
)
async def test_register_apply_and_hear_the_decision_on_ones_own_channel(
    tmp_path: Path, channel: str, journey: Journey
) -> None:
    async with renfort_with_whatsapp(tmp_path) as (bot, twilio):
        organisation = await coordinator_with_group(bot)
        await polling_station(bot.db, organisation.id, now=NOW)
        before_group = len(bot.double.messages[GROUP])

        person_id = await journey(bot, twilio)
        [application] = await applications.applications_of(bot.db, person_id, now=NOW)
        await bot.drain()
        posted = await bot.double.wait_for(GROUP, "Camille", after=before_group)
        assert MISSION in posted.text and "+33" not in posted.text

        before = screens(bot, twilio)
        await tap_action(bot, COORDINATOR, posted, "approve", application_id=application.id)
        await bot.drain()
        if channel == "telegram":
            await told_on_telegram(bot, twilio, before["telegram"])
        arrived = news(bot, twilio, before)
        told = [text for text in arrived[channel] if MISSION in text]
        assert len(told) == 1 and "13" in told[0] and "Jun" in told[0]
        others = {name: texts for name, texts in arrived.items() if name != channel}
        assert all(texts == [] for texts in others.values()), others
