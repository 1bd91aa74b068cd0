"""What the organiser tests do over and over: people in the double, a coordinator with a
linked group, tapping a button by the action it carries rather than by its label."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any

from bot.buttons import resolve
from bot.geo import lookup_offline
from bot.services import callouts, organisations, people
from bot.services.callouts import CalloutView, Targeting
from bot.services.organisations import Organisation
from renfort.sandbox.telegram_double import SentMessage
from tests.factories import commune, first_slot
from tests.harness import Bot

COORDINATOR = 10
VOLUNTEER = 20
STRANGER = 30
SECOND_COORDINATOR = 40
SENTINEL = 99
GROUP = -100_123_456


def meet_everyone(bot: Bot) -> None:
    """The Telegram users of the tests; English, so assertions read the msgids."""
    bot.double.user(COORDINATOR, "Alex", language_code="en")
    bot.double.user(VOLUNTEER, "Camille", language_code="en")
    bot.double.user(STRANGER, "Dominique", language_code="en")
    bot.double.user(SECOND_COORDINATOR, "Sacha", language_code="en")
    bot.double.user(SENTINEL, "Sentinel", language_code="en")
    bot.double.group(GROUP, "Mairie — coordination bénévoles")


async def finished(bot: Bot) -> None:
    """Wait until the bot has finished every update sent so far.

    A service records an update as handled in its own transaction, before the handler
    replies; updates are handled one at a time, so once a silent one sent now is recorded,
    every earlier one is complete."""
    await bot.handled(bot.double.send_text(SENTINEL, "…", chat_id=GROUP))


async def say(bot: Bot, user_id: int, text: str, chat_id: int | None = None) -> list[SentMessage]:
    """The user writes; returns everything the bot sent into that chat in answer."""
    chat = chat_id if chat_id is not None else user_id
    before = len(bot.double.messages[chat])
    await bot.settle(bot.double.send_text(user_id, text, chat_id))
    await finished(bot)
    return bot.double.messages[chat][before:]


async def tap(bot: Bot, user_id: int, message: SentMessage, data: str) -> list[SentMessage]:
    """The user taps the button with this callback data; returns what the chat got since."""
    before = len(bot.double.messages[message.chat_id])
    await bot.settle(bot.double.tap_data(user_id, message, data))
    await finished(bot)
    return bot.double.messages[message.chat_id][before:]


async def coordinator_with_group(bot: Bot) -> Organisation:
    """A commune whose coordinator joined with the invite code and linked the group."""
    meet_everyone(bot)
    organisation = await commune(bot.db)
    await say(bot, COORDINATOR, f"/join {organisation.invite_code}")
    await say(bot, COORDINATOR, "/link", chat_id=GROUP)
    linked = await organisations.organisation_of_chat(bot.db, GROUP)
    assert linked is not None and linked.id == organisation.id
    return organisation


async def telegram_volunteer(bot: Bot, user_id: int, name: str) -> int:
    """A registered volunteer in Saint-Dizier reached on Telegram, reading English."""
    bot.double.user(user_id, name, language_code="en")
    person = await people.ensure_telegram_person(
        bot.db, telegram_user_id=user_id, chat_id=user_id, first_name=name, language_code="en"
    )
    await people.update_profile(
        bot.db, person.id, home=lookup_offline("52100"), complete_registration=True
    )
    return person.id


async def person_of(bot: Bot, telegram_user_id: int) -> people.Person:
    person = await people.find_by_telegram(bot.db, telegram_user_id)
    assert person is not None
    return person


async def call_for_one(
    bot: Bot, mission_id: int, targeting: Targeting, now: datetime
) -> CalloutView:
    """The coordinator calls for one volunteer on the mission's first slot."""
    coordinator = await person_of(bot, COORDINATOR)
    return await callouts.launch(
        bot.db,
        actor_id=coordinator.id,
        slot_id=await first_slot(bot.db, mission_id),
        needed=1,
        targeting=targeting,
        now=now,
    )


async def callback_data(bot: Bot, message: SentMessage, action: str, **data: Any) -> str:
    """The callback data of the button under `message` that runs `action` with `data`."""
    for row in message.buttons:
        for button in row:
            token = button.get("callback_data")
            payload = await resolve(bot.db, str(token)) if token else None
            if payload and payload.action == action and data.items() <= payload.data.items():
                return str(token)
    raise KeyError(f"no {action} {data} button in {message.button_texts()}")


async def tap_action(
    bot: Bot, user_id: int, message: SentMessage, action: str, **data: Any
) -> list[SentMessage]:
    """The user taps the button running `action`; returns messages sent in that chat since."""
    return await tap(bot, user_id, message, await callback_data(bot, message, action, **data))


def alerts(bot: Bot) -> list[str]:
    """Texts of the popups shown to people who tapped a button."""
    return [str(a["text"]) for a in bot.double.callback_answers if a.get("show_alert")]


async def eventually(check: Callable[[], Awaitable[bool]], timeout: float = 30.0) -> None:
    """Wait for an effect of an update the double pushed without telling us its id."""
    deadline = time.monotonic() + timeout
    while not await check():
        if time.monotonic() > deadline:
            raise TimeoutError("the expected change never happened")
        await asyncio.sleep(0.02)
