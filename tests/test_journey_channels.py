"""The same journeys on each of the three channels, where the behaviour is the same: a
resident registers and applies (Telegram with its buttons, SMS and WhatsApp with typed
keywords and numbers), the coordinator approves in the admin group, the resident is told on
the channel they used, and only there. Then, the place being the only one, a resident who
lets it go from their own missions frees it for the person waiting for it."""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from bot.i18n import Translator
from bot.services import applications, people, phones
from renfort.sandbox.twilio_double import TwilioDouble
from tests.conftest import NOW
from tests.factories import polling_station
from tests.harness import Bot
from tests.organiser_steps import (
    COORDINATOR,
    GROUP,
    STRANGER,
    VOLUNTEER,
    coordinator_with_group,
    tap_action,
    telegram_volunteer,
)
from tests.test_journey import STEP_TIMEOUT, Person, register_and_apply
from tests.test_whatsapp import PHONE, renfort_with_whatsapp, writes

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


async def approved(
    bot: Bot, twilio: TwilioDouble, channel: str, journey: Journey
) -> dict[str, list[str]]:
    """The resident applies on their channel, the group sees it (their name, never their
    number) and the coordinator approves; returns what each channel showed them since."""
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
    return news(bot, twilio, before)


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

        arrived = await approved(bot, twilio, channel, journey)
        told = [text for text in arrived[channel] if MISSION in text]
        assert len(told) == 1 and "13" in told[0] and "Jun" in told[0]
        others = {name: texts for name, texts in arrived.items() if name != channel}
        assert all(texts == [] for texts in others.values()), others


def words(text: str) -> str:
    """The text as read, without Telegram's markup."""
    return re.sub(r"<[^>]+>", "", text)


@dataclass(frozen=True)
class Cancelled:
    """What the resident read while cancelling (their missions, the question, the
    confirmation), and the same cancel sent once more, returning what they read then."""

    read: tuple[str, str, str]
    again: Callable[[], Awaitable[list[str]]]


async def cancel_on_telegram(bot: Bot, twilio: TwilioDouble) -> Cancelled:
    resident = Person(bot.double, VOLUNTEER, Translator("en"))
    listed = await resident.say("/mymissions", MISSION, button="Cancel 1")
    shown = listed.text
    cancel = listed.callback_data("Cancel 1")
    asked = await resident.tap(listed, "Cancel 1", "Cancel your place", button="Yes, cancel")
    question = asked.text
    confirmed = await resident.tap(listed, "Yes, cancel", "Cancelled")

    async def again() -> list[str]:
        # The Cancel button tapped once more, as a second tap sent before the edit showed.
        before, edits = len(bot.double.messages[VOLUNTEER]), listed.edits
        await bot.settle(bot.double.tap_data(VOLUNTEER, listed, cancel))
        answers = [m.text for m in bot.double.messages[VOLUNTEER][before:]]
        return answers + ([listed.text] if listed.edits > edits else [])

    return Cancelled((shown, question, confirmed.text), again)


async def texts(twilio: TwilioDouble, *bodies: str) -> list[str]:
    """The resident texts each message; returns our answers, one SMS each."""
    answers = []
    for body in bodies:
        exchange = await twilio.text(PHONE, body)
        assert len(exchange.replies) == 1, exchange
        answers.append(exchange.text)
    return answers


async def cancel_by_sms(bot: Bot, twilio: TwilioDouble) -> Cancelled:
    # The French keywords, to an English reader: either language's are understood.
    shown, question, confirmed = await texts(twilio, "MES MISSIONS", "ANNULER 1", "OUI")

    async def again() -> list[str]:
        return await texts(twilio, "ANNULER 1", "OUI")

    return Cancelled((shown, question, confirmed), again)


async def cancel_on_whatsapp(bot: Bot, twilio: TwilioDouble) -> Cancelled:
    shown, question = await writes(twilio, "MY MISSIONS", "CANCEL 1")
    confirmed = await twilio.tap(PHONE, "Yes")

    async def again() -> list[str]:
        [refused] = await writes(twilio, "CANCEL 1")
        # The Yes under the first question is still on their screen.
        return [refused, (await twilio.tap(PHONE, "Yes")).text]

    return Cancelled((shown, question, confirmed.text), again)


async def waits_for_the_place(bot: Bot, mission_id: int) -> None:
    """Someone else, on Telegram, finds the place taken and joins the waiting list."""
    await telegram_volunteer(bot, STRANGER, "Dominique")
    waiting = Person(bot.double, STRANGER, Translator("en"))
    found = await waiting.say(f"/start m{mission_id}", "waiting list")
    await waiting.tap(found, "Sunday", "", button="Confirm")
    await waiting.tap(found, "Confirm", "number 1 on the waiting list")


Cancelling = Callable[[Bot, TwilioDouble], Awaitable[Cancelled]]


@pytest.mark.parametrize(
    ("channel", "journey", "cancelling"),
    [
        ("telegram", on_telegram, cancel_on_telegram),
        ("sms", by_sms, cancel_by_sms),
        ("whatsapp", on_whatsapp, cancel_on_whatsapp),
    ],
)
async def test_cancelling_on_ones_own_channel_offers_the_place_to_the_one_waiting(
    tmp_path: Path, channel: str, journey: Journey, cancelling: Cancelling
) -> None:
    async with renfort_with_whatsapp(tmp_path) as (bot, twilio):
        organisation = await coordinator_with_group(bot)
        mission_id = await polling_station(bot.db, organisation.id, now=NOW, capacity=1)
        await approved(bot, twilio, channel, journey)
        await waits_for_the_place(bot, mission_id)
        before, before_group = screens(bot, twilio), len(bot.double.messages[GROUP])

        cancelled = await cancelling(bot, twilio)
        shown, question, confirmed = map(words, cancelled.read)
        assert MISSION in shown and "13" in shown and "Jun" in shown
        assert "accepted" in shown.lower()  # the place they held, approved
        assert question.startswith(f"Cancel your place for {MISSION}"), question
        assert confirmed.startswith(f"Cancelled: {MISSION}"), confirmed
        await bot.drain()
        told = await bot.double.wait_for(GROUP, "cancelled their place", after=before_group)
        assert "Camille" in told.text and MISSION in told.text
        offer = await bot.double.wait_for(STRANGER, "A place freed up", timeout=STEP_TIMEOUT)
        assert MISSION in offer.text and "waiting list" in offer.text
        others = {name: t for name, t in news(bot, twilio, before).items() if name != channel}
        assert all(t == [] for t in others.values()), others

        after_group = len(bot.double.messages[GROUP])
        again = [words(text) for text in await cancelled.again()]
        assert "no longer active" in again[0], again
        assert not any("Cancel your place" in t or "Cancelled" in t for t in again), again
        await bot.drain()
        assert bot.double.messages[GROUP][after_group:] == []
        assert sum("A place freed up" in t for t in bot.double.texts(STRANGER)) == 1
