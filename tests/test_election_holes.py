"""Election week's privacy and permission holes, closed: a number reaches an organisation's
export only when the volunteer allowed that organisation; the admin group's figures, names
and titles are for its coordinators; a blocked organisation's callouts skip the person."""

from __future__ import annotations

import csv
import io
from pathlib import Path

from sqlalchemy import select

from bot.services import applications, callouts, organisations, people, relay
from bot.services.callouts import Targeting
from handlers.telegram import phone_consent
from handlers.telegram.applying import CONFIRM_APPLY
from handlers.telegram.flow import PICK_SLOT
from renfort.sandbox.telegram_double import SentMessage
from storage import schema
from storage.database import Database
from tests.conftest import NOW
from tests.factories import commune, first_slot, polling_station, volunteer
from tests.harness import Bot, FakeClock, running_bot, sqlite_file_url
from tests.organiser_steps import (
    COORDINATOR,
    GROUP,
    STRANGER,
    VOLUNTEER,
    coordinator_with_group,
    say,
    tap_action,
)

PHONE = "+33612345678"


async def exported(bot: Bot) -> str:
    """The coordinator's /export of the only mission, as text."""
    before = len(bot.double.messages[GROUP])
    await say(bot, COORDINATOR, "/export", chat_id=GROUP)
    picker = await bot.double.wait_for(GROUP, after=before, button="Assesseur")
    await bot.tap(COORDINATOR, picker, "Assesseur")
    document = await bot.double.wait_for(GROUP, "", after=before, timeout=10, document=".csv")
    assert document.document_data is not None
    return document.document_data.decode("utf-8-sig")


def consent_question(bot: Bot) -> SentMessage:
    return next(m for m in reversed(bot.double.messages[VOLUNTEER]) if "phone number?" in m.text)


async def test_the_export_shows_a_number_only_to_an_organisation_the_volunteer_allowed(
    tmp_path: Path,
) -> None:
    async with running_bot(sqlite_file_url(tmp_path), FakeClock(NOW)) as bot:
        mairie = await coordinator_with_group(bot)
        mission_id = await polling_station(bot.db, mairie.id, now=NOW)
        slot_id = await first_slot(bot.db, mission_id)
        camille = await volunteer(bot.db, VOLUNTEER, "Camille")
        await people.update_profile(bot.db, camille.id, locale="en")
        await bot.settle(bot.double.share_contact(VOLUNTEER, PHONE))

        detail = (await say(bot, VOLUNTEER, f"/start m{mission_id}"))[-1]
        await tap_action(bot, VOLUNTEER, detail, PICK_SLOT, slot=slot_id)
        await tap_action(bot, VOLUNTEER, bot.double.last(VOLUNTEER), CONFIRM_APPLY, slot=slot_id)
        question = consent_question(bot)
        assert "Mairie de Saint-Dizier" in question.text
        await tap_action(bot, VOLUNTEER, question, phone_consent.DECIDE, ok=False)
        assert "will not see your phone number" in bot.double.last(VOLUNTEER).text

        export = await exported(bot)
        rows = list(csv.reader(io.StringIO(export)))
        assert any("Camille" in row for row in rows[1:])
        assert PHONE not in export

        shown = (await say(bot, VOLUNTEER, "/profile"))[-1]
        await tap_action(bot, VOLUNTEER, shown, phone_consent.MENU)
        listing = bot.double.last(VOLUNTEER)
        assert "Mairie de Saint-Dizier does not see it" in listing.text
        await tap_action(bot, VOLUNTEER, listing, phone_consent.DECIDE, ok=True)
        assert "can see your phone number" in bot.double.last(VOLUNTEER).text
        assert PHONE in await exported(bot)

        # Asked once per organisation: a second application does not ask again.
        second = await polling_station(bot.db, mairie.id, now=NOW, title="Secrétaire")
        asked_before = sum("phone number?" in m.text for m in bot.double.messages[VOLUNTEER])
        detail = (await say(bot, VOLUNTEER, f"/start m{second}"))[-1]
        other_slot = await first_slot(bot.db, second)
        await tap_action(bot, VOLUNTEER, detail, PICK_SLOT, slot=other_slot)
        await tap_action(bot, VOLUNTEER, detail, CONFIRM_APPLY, slot=other_slot)
        asked_after = sum("phone number?" in m.text for m in bot.double.messages[VOLUNTEER])
        assert asked_after == asked_before


async def test_roster_stats_export_and_poster_are_refused_to_a_non_coordinator_in_the_group(
    tmp_path: Path,
) -> None:
    async with running_bot(sqlite_file_url(tmp_path), FakeClock(NOW)) as bot:
        mairie = await coordinator_with_group(bot)
        mission_id = await polling_station(bot.db, mairie.id, now=NOW)
        camille = await volunteer(bot.db, VOLUNTEER, "Camille")
        slot_id = await first_slot(bot.db, mission_id)
        await applications.apply(bot.db, person_id=camille.id, slot_id=slot_id, now=NOW)
        await bot.drain()  # the new application's card is in the group
        await bot.double.wait_for(GROUP, "Camille")

        for command in ("/roster", "/stats", "/export", "/poster"):
            answers = await say(bot, STRANGER, command, chat_id=GROUP)
            assert answers, command
            for answer in answers:
                assert "Assesseur" not in answer.text and "Camille" not in answer.text
                assert not answer.buttons and answer.document_data is None
            assert "Only coordinators" in answers[-1].text

        roster = await say(bot, COORDINATOR, "/roster", chat_id=GROUP)
        assert "Assesseur" in roster[-1].text and "Camille" in roster[-1].text


async def test_a_callout_never_asks_someone_who_blocked_its_organisation(db: Database) -> None:
    mairie = await commune(db)
    coordinator = await volunteer(db, 1, "Nadia")
    await organisations.join(db, coordinator.id, mairie.invite_code)
    slot_id = await first_slot(db, await polling_station(db, mairie.id, now=NOW, capacity=5))
    blocking = await volunteer(db, 2, "Bea")
    willing = await volunteer(db, 3, "Chris")
    targeting = Targeting(radius_km=10, domains=("citizenship",))

    async def matched() -> int:
        return await callouts.preview(
            db, organisation_id=mairie.id, slot_id=slot_id, targeting=targeting, now=NOW
        )

    before = await matched()
    await relay.set_blocked(db, person_id=blocking.id, organisation_id=mairie.id, blocked=True)
    assert await matched() == before - 1
    view = await callouts.launch(
        db, actor_id=coordinator.id, slot_id=slot_id, needed=2, targeting=targeting, now=NOW
    )
    async with db.reading("test") as conn:
        asked = set(
            await conn.scalars(
                select(schema.callout_recipients.c.person_id).where(
                    schema.callout_recipients.c.callout_id == view.id
                )
            )
        )
    assert willing.id in asked and blocking.id not in asked
