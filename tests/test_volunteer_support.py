"""What the volunteer tests share (no tests here): a running bot whose every update is
awaited until completely handled, one person's chat with it, and mission builders."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

from bot.domain import DOMAINS, GeoPoint
from bot.i18n import Translator
from bot.services import missions, people
from bot.services.missions import MissionSpec, SlotSpec
from renfort.sandbox.telegram_double import SentMessage, TelegramDouble
from storage.database import Database
from tests.conftest import NOW
from tests.factories import ELECTION_MORNING, SAINT_DIZIER
from tests.harness import Bot, FakeClock, running_bot

BAR_LE_DUC = GeoPoint(48.7727, 5.1600)  # about 21 km from Saint-Dizier
CHAUMONT = GeoPoint(48.1113, 5.1392)  # about 60 km from Saint-Dizier


@asynccontextmanager
async def volunteer_bot(
    database_url: str, clock: FakeClock, double: TelegramDouble | None = None
) -> AsyncIterator[Bot]:
    """The harness's running bot (every update awaited until completely handled)."""
    async with running_bot(database_url, clock, double) as bot:
        yield bot


def database_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'renfort.db'}"


@dataclass
class Chat:
    """One person's private chat with the bot."""

    bot: Bot
    user_id: int
    first_name: str = "Camille"
    language: str = "fr"
    t: Translator = field(init=False)

    def __post_init__(self) -> None:
        self.bot.double.user(self.user_id, self.first_name, self.language)
        self.t = Translator(self.language)

    async def _finish(self, update_id: int) -> None:
        await self.bot.settle(update_id)

    async def say(self, text: str) -> list[SentMessage]:
        """Write; returns the messages the bot sent in answer."""
        return await self._exchange(lambda: self.bot.double.send_text(self.user_id, text))

    async def tap(self, message: SentMessage, label: str) -> list[SentMessage]:
        """Tap the button of `message` whose text contains `label`; edits show on `message`."""
        return await self._exchange(lambda: self.bot.double.tap(self.user_id, message, label))

    async def share_location(self, point: GeoPoint) -> list[SentMessage]:
        return await self._exchange(
            lambda: self.bot.double.share_location(self.user_id, point.latitude, point.longitude)
        )

    async def share_contact(self, phone_number: str) -> list[SentMessage]:
        """Their own number, with Telegram's share button."""
        return await self._exchange(
            lambda: self.bot.double.share_contact(self.user_id, phone_number)
        )

    async def _exchange(self, act: Callable[[], int]) -> list[SentMessage]:
        before = len(self.bot.double.messages[self.user_id])
        update_id = act()
        await self._finish(update_id)
        return self.bot.double.messages[self.user_id][before:]

    @property
    def last(self) -> SentMessage:
        return self.bot.double.last(self.user_id)

    async def person(self) -> people.Person:
        found = await people.find_by_telegram(self.bot.db, self.user_id)
        assert found is not None
        return found

    def domain(self, key: str) -> str:
        """A domain's label as this person reads it."""
        return self.t._(DOMAINS[key])


async def register(chat: Chat, place: str = "52100", interests: tuple[str, ...] = ()) -> None:
    """Go through registration in the chat, keeping the Telegram first name."""
    await chat.say("/start")
    await chat.tap(chat.last, chat.first_name)
    await chat.say(place)
    keyboard = chat.last
    for key in interests:
        await chat.tap(keyboard, chat.domain(key))
    await chat.tap(keyboard, "✅")
    assert (await chat.person()).registered


async def mission(
    db: Database,
    organisation_id: int,
    title: str,
    *,
    point: GeoPoint | None = SAINT_DIZIER,
    domain: str = "citizenship",
    starts_at: datetime = ELECTION_MORNING,
    capacity: int = 2,
) -> int:
    """A published mission with one five-hour slot; no point means a remote one."""
    spec = MissionSpec(
        organisation_id=organisation_id,
        title=title,
        domain=domain,
        description="Une matinée utile, dans la bonne humeur.",
        address="" if point is None else "Place de la mairie",
        postcode=None if point is None else "52100",
        point=point,
        remote=point is None,
        slots=(SlotSpec(starts_at, starts_at + timedelta(hours=5), capacity),),
    )
    return await missions.create_mission(db, spec, actor_id=None, now=NOW)


def button_index(message: SentMessage, label: str) -> int:
    """Position of the first button whose text contains `label` (-1 when absent)."""
    texts = message.button_texts()
    return next((i for i, text in enumerate(texts) if label in text), -1)
