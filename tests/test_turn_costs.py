"""What one update costs the database: a turn that changes nothing writes nothing, a tap on
Approve is one write transaction, and the turn's reads are done once."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

from telegram import Update
from telegram.ext import TypeHandler

from bot.domain import ApplicationStatus
from bot.services import applications, people
from handlers.telegram.common import RenfortContext
from handlers.telegram.wiring import END_GROUP
from storage.database import TransactionCounts, turn_costs
from tests.conftest import NOW
from tests.factories import commune, polling_station, volunteer
from tests.harness import Bot, FakeClock, running_bot, sqlite_file_url
from tests.organiser_steps import COORDINATOR, callback_data
from tests.test_organiser_decisions import applied

CAMILLE = 7


class Costs:
    """Each update's transaction counts, taken after its turn ended."""

    def __init__(self, bot: Bot) -> None:
        self.by_update: dict[int, TransactionCounts] = {}
        assert bot.service.telegram is not None
        bot.service.telegram.add_handler(TypeHandler(Update, self._keep), group=END_GROUP + 2)

    async def _keep(self, update: Update, _context: RenfortContext) -> None:
        costs = turn_costs.get()
        assert costs is not None
        self.by_update[update.update_id] = costs

    async def of(self, update_id: int) -> TransactionCounts:
        deadline = time.monotonic() + 10
        while update_id not in self.by_update:
            assert time.monotonic() < deadline, f"update {update_id} never ended"
            await asyncio.sleep(0.01)
        return self.by_update[update_id]


async def test_a_registered_volunteers_chatter_writes_nothing(tmp_path: Path) -> None:
    async with running_bot(sqlite_file_url(tmp_path), FakeClock(NOW)) as bot:
        costs = Costs(bot)
        bot.double.user(CAMILLE, "Camille")
        await volunteer(bot.db, CAMILLE, "Camille")
        for text in ("bonjour", "merci !", "/help"):
            before = len(bot.double.messages[CAMILLE])
            update_id = bot.double.send_text(CAMILLE, text)
            await bot.handled(update_id)
            assert len(bot.double.messages[CAMILLE]) > before, f"no answer to {text!r}"
            spent = await costs.of(update_id)
            assert spent.writes == 0, f"{text!r} wrote {spent.writes} times"
            assert spent.reads == 1, f"{text!r} read {spent.reads} times"


async def test_a_first_message_records_the_newcomer_in_one_write(tmp_path: Path) -> None:
    async with running_bot(sqlite_file_url(tmp_path), FakeClock(NOW)) as bot:
        costs = Costs(bot)
        bot.double.user(CAMILLE, "Camille")
        update_id = bot.double.send_text(CAMILLE, "bonjour")
        await bot.handled(update_id)
        assert (await costs.of(update_id)).writes == 1
        assert await people.find_by_telegram(bot.db, CAMILLE) is not None


async def test_a_tap_on_approve_is_one_write_transaction(tmp_path: Path) -> None:
    async with running_bot(sqlite_file_url(tmp_path), FakeClock(NOW), renfort_locale="en") as bot:
        costs = Costs(bot)
        application_id, posted = await applied(bot)
        data = await callback_data(bot, posted, "approve", application_id=application_id)
        update_id = bot.double.tap_data(COORDINATOR, posted, data)
        await bot.settle(update_id)
        spent = await costs.of(update_id)
        decided = await applications.get_application(bot.db, application_id)
        assert decided.status == ApplicationStatus.APPROVED
        assert spent.writes == 1


async def test_a_repeated_update_that_changed_nothing_is_not_answered_twice(
    tmp_path: Path,
) -> None:
    async with running_bot(sqlite_file_url(tmp_path), FakeClock(NOW)) as bot:
        bot.double.user(CAMILLE, "Camille")
        await volunteer(bot.db, CAMILLE, "Camille")
        update_id = bot.double.send_text(CAMILLE, "/help")
        await bot.handled(update_id)
        answers = len(bot.double.messages[CAMILLE])
        [raw] = [u for u in bot.double.delivered if u["update_id"] == update_id]
        application = bot.service.telegram
        assert application is not None
        # Telegram retries an update it did not see acknowledged (a webhook timeout).
        await application.process_update(Update.de_json(raw, application.bot))
        assert len(bot.double.messages[CAMILLE]) == answers
        renfort = bot.service.renfort
        assert renfort is not None
        assert renfort.metrics.value("inbound_duplicates_total", channel="telegram") == 1


async def test_a_new_app_language_is_stored_by_the_turns_own_write(tmp_path: Path) -> None:
    """Telegram says the sender's app now speaks another language: a turn that changes
    nothing else stores it in one write, a turn that changes something in that same write."""
    async with running_bot(sqlite_file_url(tmp_path), FakeClock(NOW), renfort_locale="en") as bot:
        costs = Costs(bot)
        bot.double.user(CAMILLE, "Camille", language_code="en")
        await volunteer(bot.db, CAMILLE, "Camille")  # registered while the app spoke French
        update_id = bot.double.send_text(CAMILLE, "hello")
        await bot.handled(update_id)
        assert (await costs.of(update_id)).writes == 1
        camille = await people.find_by_telegram(bot.db, CAMILLE)
        assert camille is not None and camille.telegram_language == "en"
        update_id = bot.double.send_text(CAMILLE, "thanks")
        await bot.handled(update_id)
        assert (await costs.of(update_id)).writes == 0

        application_id, posted = await applied(bot)
        bot.double.users[COORDINATOR]["language_code"] = "de"
        data = await callback_data(bot, posted, "approve", application_id=application_id)
        update_id = bot.double.tap_data(COORDINATOR, posted, data)
        await bot.settle(update_id)
        assert (await costs.of(update_id)).writes == 1
        decided = await applications.get_application(bot.db, application_id)
        assert decided.status == ApplicationStatus.APPROVED
        coordinator = await people.find_by_telegram(bot.db, COORDINATOR)
        assert coordinator is not None and coordinator.telegram_language == "de"


async def test_a_mission_list_seen_before_writes_nothing_and_its_buttons_work(
    tmp_path: Path,
) -> None:
    """The first /missions stores its buttons; the same list for a neighbour writes nothing,
    and a tap on it still opens the mission."""
    async with running_bot(sqlite_file_url(tmp_path), FakeClock(NOW)) as bot:
        costs = Costs(bot)
        org = await commune(bot.db)
        await polling_station(bot.db, org.id, now=NOW)
        for user_id, name in ((CAMILLE, "Camille"), (CAMILLE + 1, "Lou")):
            bot.double.user(user_id, name)
            await volunteer(bot.db, user_id, name)
        first = bot.double.send_text(CAMILLE, "/missions")
        await bot.handled(first)
        assert (await costs.of(first)).writes == 1
        second = bot.double.send_text(CAMILLE + 1, "/missions")
        await bot.handled(second)
        assert (await costs.of(second)).writes == 0
        listing = bot.double.last(CAMILLE + 1)
        assert listing.buttons == bot.double.last(CAMILLE).buttons
        tapped = bot.double.tap(CAMILLE + 1, listing, "1.")
        await bot.settle(tapped)
        assert "2 places restantes" in bot.double.last(CAMILLE + 1).text
