"""Approving and refusing from the admin group: the application arrives with two buttons,
one tap decides, the volunteer hears about it, and nobody else can decide in their place."""

from __future__ import annotations

from contextlib import AbstractAsyncContextManager
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy import func, select

from bot.domain import ApplicationStatus
from bot.i18n import Translator
from bot.services import applications, people
from renfort.sandbox.telegram_double import SentMessage
from storage import schema
from tests.conftest import NOW
from tests.factories import commune, first_slot, polling_station, volunteer
from tests.harness import Bot, FakeClock, running_bot, sqlite_file_url
from tests.organiser_steps import (
    COORDINATOR,
    GROUP,
    SECOND_COORDINATOR,
    STRANGER,
    VOLUNTEER,
    alerts,
    callback_data,
    coordinator_with_group,
    meet_everyone,
    say,
    tap,
    tap_action,
)

TITLE = "Assesseur — bureau de vote n°3"


def english_bot(tmp_path: Path) -> AbstractAsyncContextManager[Bot]:
    """Group messages speak the service's language; English keeps assertions on msgids."""
    return running_bot(sqlite_file_url(tmp_path), FakeClock(NOW), renfort_locale="en")


async def applied(bot: Bot, capacity: int = 2) -> tuple[int, SentMessage]:
    """Camille applies; returns the application and its message in the admin group."""
    organisation = await coordinator_with_group(bot)
    mission_id = await polling_station(bot.db, organisation.id, now=NOW, capacity=capacity)
    camille = await volunteer(bot.db, VOLUNTEER, "Camille")
    await people.update_profile(bot.db, camille.id, locale="en")
    before = len(bot.double.messages[GROUP])
    application = await applications.apply(
        bot.db, person_id=camille.id, slot_id=await first_slot(bot.db, mission_id), now=NOW
    )
    await bot.drain()
    posted = await bot.double.wait_for(GROUP, "Camille", after=before)
    return application.id, posted


async def decisions_sent(bot: Bot) -> int:
    o = schema.outbox
    async with bot.db.reading("test_decisions_sent") as conn:
        count = await conn.scalar(
            select(func.count()).select_from(o).where(o.c.kind == "application_decided")
        )
    return int(count or 0)


async def test_one_tap_approves_and_the_volunteer_hears_the_good_news(tmp_path: Path) -> None:
    async with english_bot(tmp_path) as bot:
        application_id, posted = await applied(bot)
        await callback_data(bot, posted, "refuse", application_id=application_id)
        before = len(bot.double.messages[VOLUNTEER])

        await tap_action(bot, COORDINATOR, posted, "approve", application_id=application_id)

        decided = await applications.get_application(bot.db, application_id)
        assert decided.status == ApplicationStatus.APPROVED
        assert decided.decided_by_name == "Alex" and decided.decided_at is not None
        t = Translator("en")
        local = decided.decided_at.astimezone(ZoneInfo("Europe/Paris"))
        assert "Approved by Alex" in posted.text
        assert t.clock(local) in posted.text and t.short_date(local) in posted.text
        assert posted.buttons == []
        news = await bot.double.wait_for(VOLUNTEER, TITLE, after=before)
        assert "approved" in news.text.lower()


async def test_a_refusal_asks_why_and_the_volunteer_is_told_the_reason(tmp_path: Path) -> None:
    async with english_bot(tmp_path) as bot:
        application_id, posted = await applied(bot)
        before = len(bot.double.messages[VOLUNTEER])

        shown = posted.text
        await tap_action(bot, COORDINATOR, posted, "refuse", application_id=application_id)
        assert posted.text == shown
        assert posted.button_texts() == [
            "The slot is already filled",
            "Requirements not met",
            "Other reason",
            "✍️ Write the reason",
            "« Back",
        ]
        await tap_action(bot, COORDINATOR, posted, "refuse_back")
        assert posted.button_texts() == ["✅ Approve", "❌ Refuse"]
        assert (await applications.get_application(bot.db, application_id)).status == "pending"
        await tap_action(bot, COORDINATOR, posted, "refuse", application_id=application_id)
        await tap_action(bot, COORDINATOR, posted, "refuse_reason", reason="slot_filled")

        decided = await applications.get_application(bot.db, application_id)
        assert (decided.status, decided.reason) == (ApplicationStatus.REFUSED, "slot_filled")
        assert "Refused by Alex" in posted.text and "already filled" in posted.text
        assert posted.buttons == []
        news = await bot.double.wait_for(VOLUNTEER, TITLE, after=before)
        assert "The slot is already filled" in news.text


async def test_a_second_tap_changes_nothing_and_says_who_decided(tmp_path: Path) -> None:
    async with english_bot(tmp_path) as bot:
        application_id, posted = await applied(bot)
        approve = await callback_data(bot, posted, "approve", application_id=application_id)
        refuse = await callback_data(bot, posted, "refuse", application_id=application_id)
        await tap(bot, COORDINATOR, posted, approve)
        shown = posted.text

        await tap(bot, COORDINATOR, posted, approve)
        await tap(bot, COORDINATOR, posted, refuse)

        assert all("Already decided" in a and "Alex" in a for a in alerts(bot)[-2:])
        assert posted.text == shown and posted.buttons == []
        decided = await applications.get_application(bot.db, application_id)
        assert decided.status == ApplicationStatus.APPROVED
        assert await decisions_sent(bot) == 1


async def test_someone_outside_the_organisation_cannot_decide(tmp_path: Path) -> None:
    async with english_bot(tmp_path) as bot:
        application_id, posted = await applied(bot)
        shown, buttons = posted.text, posted.buttons

        await tap_action(bot, STRANGER, posted, "approve", application_id=application_id)
        await tap_action(bot, STRANGER, posted, "refuse", application_id=application_id)

        assert all("Only coordinators" in a for a in alerts(bot)[-2:])
        assert (posted.text, posted.buttons) == (shown, buttons)
        pending = await applications.get_application(bot.db, application_id)
        assert pending.status == ApplicationStatus.PENDING
        assert await decisions_sent(bot) == 0


async def test_the_decision_never_shows_the_volunteers_phone(tmp_path: Path) -> None:
    async with english_bot(tmp_path) as bot:
        application_id, posted = await applied(bot)
        camille = await people.find_by_telegram(bot.db, VOLUNTEER)
        assert camille is not None
        async with bot.db.transaction("test_phone") as conn:
            await conn.execute(
                schema.people.update()
                .where(schema.people.c.id == camille.id)
                .values(phone="+33612345678")
            )

        await tap_action(bot, COORDINATOR, posted, "refuse", application_id=application_id)
        await tap_action(bot, COORDINATOR, posted, "refuse_reason", reason="requirements")

        for text in (posted.text, *bot.double.texts(GROUP)):
            assert "612345678" not in text.replace(" ", "")


async def test_without_a_group_every_coordinator_sees_who_decided(tmp_path: Path) -> None:
    async with english_bot(tmp_path) as bot:
        meet_everyone(bot)
        organisation = await commune(bot.db)
        for coordinator in (COORDINATOR, SECOND_COORDINATOR):
            await say(bot, coordinator, f"/join {organisation.invite_code}")
        mission_id = await polling_station(bot.db, organisation.id, now=NOW)
        camille = await volunteer(bot.db, VOLUNTEER, "Camille")
        application = await applications.apply(
            bot.db, person_id=camille.id, slot_id=await first_slot(bot.db, mission_id), now=NOW
        )
        await bot.drain()
        alex_copy = await bot.double.wait_for(COORDINATOR, "Camille")
        sacha_copy = await bot.double.wait_for(SECOND_COORDINATOR, "Camille")

        await tap_action(bot, COORDINATOR, alex_copy, "approve", application_id=application.id)

        for copy in (alex_copy, sacha_copy):
            assert "Approved by Alex" in copy.text and copy.buttons == []


async def test_an_application_withdrawn_meanwhile_cannot_be_approved(tmp_path: Path) -> None:
    async with english_bot(tmp_path) as bot:
        application_id, posted = await applied(bot)
        camille = await people.find_by_telegram(bot.db, VOLUNTEER)
        assert camille is not None
        await applications.cancel(
            bot.db, person_id=camille.id, application_id=application_id, now=NOW
        )

        await tap_action(bot, COORDINATOR, posted, "approve", application_id=application_id)

        assert "Nothing to decide" in alerts(bot)[-1]
        assert "Withdrawn by the volunteer" in posted.text and posted.buttons == []
        withdrawn = await applications.get_application(bot.db, application_id)
        assert withdrawn.status == ApplicationStatus.CANCELLED
        assert await decisions_sent(bot) == 0
