"""A volunteer finds missions near them, applies, follows and cancels their applications."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select, update

from bot.domain import ApplicationStatus, GeoPoint
from bot.services import applications, missions
from bot.services.errors import Conflict
from handlers.telegram import organiser
from handlers.telegram.common import RenfortContext, refusal_text
from renfort.sandbox.telegram_double import TelegramDouble
from storage import schema
from storage.database import Database
from tests.conftest import NOW
from tests.factories import ELECTION_MORNING, SAINT_DIZIER, commune, first_slot, volunteer
from tests.harness import FakeClock
from tests.test_volunteer_support import (
    BAR_LE_DUC,
    CHAUMONT,
    Chat,
    button_index,
    database_url,
    mission,
    register,
    volunteer_bot,
)

JUNE_30 = datetime.fromisoformat("2027-06-30T14:00:00+02:00")  # a Wednesday


async def statuses(db: Database, person_id: int) -> list[str]:
    a = schema.applications
    async with db.reading("test") as conn:
        rows = await conn.execute(select(a.c.status).where(a.c.person_id == person_id))
        return [r.status for r in rows]


async def test_a_volunteer_finds_the_nearest_mission_applies_and_cancels(tmp_path: Path) -> None:
    async with volunteer_bot(database_url(tmp_path), FakeClock(NOW)) as bot:
        org = await commune(bot.db)
        await mission(bot.db, org.id, "Tri à la banque alimentaire", point=BAR_LE_DUC)
        near = await mission(bot.db, org.id, "Assesseur au bureau n°3", point=SAINT_DIZIER)
        await mission(bot.db, org.id, "Fête de la musique", point=CHAUMONT)
        chat = Chat(bot, 1, "Camille", "fr")
        await register(chat, "52100", ("citizenship",))

        found = (await chat.say("/missions"))[-1]
        assert found.text.index("Assesseur") < found.text.index("Tri à la banque")
        assert "Fête de la musique" not in found.text  # 60 km away, beyond the 30 km default
        assert "Mairie de Saint-Dizier" in found.text
        assert button_index(found, "Assesseur") < button_index(found, "Tri à la banque")

        await chat.tap(found, "Assesseur")
        assert "dimanche 13 juin 2027" in found.text
        await chat.tap(found, "dimanche")
        assert "Assesseur" in found.text and "dimanche 13 juin 2027" in found.text
        await chat.tap(found, "✅")
        assert "Mairie de Saint-Dizier" in found.text and "7" in found.text
        me = await chat.person()
        assert await statuses(bot.db, me.id) == ["pending"]
        again = (await chat.say(f"/start m{near}"))[-1]
        refused = await chat.tap(again, "dimanche")
        assert refused[-1].text == refusal_text(chat.t, Conflict("already_applied"))

        mine = (await chat.say("/mymissions"))[-1]
        assert "Assesseur" in mine.text and "dimanche 13 juin 2027" in mine.text
        await chat.tap(mine, "✖")
        assert "Assesseur" in mine.text
        await chat.tap(mine, "✅")
        assert await statuses(bot.db, me.id) == ["cancelled"]
        detail = await missions.mission_detail(bot.db, near)
        assert detail.slots[0].free == 2

        nothing = (await chat.say("/mymissions"))[-1]
        assert "Assesseur" not in nothing.text and "/missions" in nothing.text


async def test_a_cancel_button_on_a_place_already_let_go_is_refused_at_once(
    tmp_path: Path,
) -> None:
    async with volunteer_bot(database_url(tmp_path), FakeClock(NOW)) as bot:
        org = await commune(bot.db)
        slot_id = await first_slot(bot.db, await mission(bot.db, org.id, "Assesseur"))
        camille = await volunteer(bot.db, 5, "Camille")
        await applications.apply(bot.db, person_id=camille.id, slot_id=slot_id, now=NOW)
        chat = Chat(bot, 5, "Camille", "fr")
        stale = (await chat.say("/mymissions"))[-1]
        mine = (await chat.say("/mymissions"))[-1]
        await chat.tap(mine, "✖")
        await chat.tap(mine, "✅")
        assert await statuses(bot.db, camille.id) == ["cancelled"]

        # No "Cancel your place?" first: the older list's button is told at once.
        answer = await chat.tap(stale, "✖")
        assert answer[-1].text == refusal_text(chat.t, Conflict("not_active"))
        assert stale.edits == 0


async def test_an_english_volunteer_reads_missions_and_dates_in_english(tmp_path: Path) -> None:
    async with volunteer_bot(database_url(tmp_path), FakeClock(NOW)) as bot:
        org = await commune(bot.db)
        await mission(bot.db, org.id, "Polling station assessor")
        chat = Chat(bot, 2, "Sam", "en")
        await register(chat, "Saint-Dizier")

        found = (await chat.say("/missions"))[-1]
        assert "Missions near Saint-Dizier" in found.text and "Sun 13 Jun" in found.text
        await chat.tap(found, "Polling station")
        assert "Sunday 13 June 2027" in found.text and "2 places left" in found.text
        await chat.tap(found, "Sunday")
        await chat.tap(found, "Confirm")
        assert "sent to Mairie de Saint-Dizier" in found.text and "7 days" in found.text


async def test_a_third_volunteer_on_a_two_place_slot_is_waitlisted_at_position_1(
    tmp_path: Path,
) -> None:
    async with volunteer_bot(database_url(tmp_path), FakeClock(NOW)) as bot:
        org = await commune(bot.db)
        mission_id = await mission(bot.db, org.id, "Assesseur", capacity=2)
        slot_id = await first_slot(bot.db, mission_id)
        for user_id in (101, 102):
            person = await volunteer(bot.db, user_id, f"Volontaire {user_id}")
            await applications.apply(bot.db, person_id=person.id, slot_id=slot_id, now=NOW)
        await volunteer(bot.db, 3, "Camille")
        chat = Chat(bot, 3, "Camille", "en")

        # A full mission is still listed, to join its waiting list; a shared link opens it too.
        listing = (await chat.say("/missions"))[-1]
        assert "Assesseur" in listing.text and "Full · join the waiting list" in listing.text
        found = (await chat.say(f"/start m{mission_id}"))[-1]
        assert "waiting list" in found.text
        await chat.tap(found, "Sunday")
        await chat.tap(found, "Confirm")
        assert "number 1 on the waiting list" in found.text and "Assesseur" in found.text

        mine = (await chat.say("/mymissions"))[-1]
        assert "position 1" in mine.text
        views = await applications.applications_of(bot.db, (await chat.person()).id, now=NOW)
        assert [v.status for v in views] == [ApplicationStatus.WAITLISTED]


async def test_old_buttons_for_a_closed_mission_or_a_started_slot_answer_politely(
    tmp_path: Path,
) -> None:
    clock = FakeClock(NOW)
    async with volunteer_bot(database_url(tmp_path), clock) as bot:
        org = await commune(bot.db)
        closing = await mission(bot.db, org.id, "Assesseur")
        await mission(bot.db, org.id, "Secrétaire", starts_at=JUNE_30)
        await volunteer(bot.db, 4, "Camille")
        chat = Chat(bot, 4, "Camille", "fr")
        listing = (await chat.say("/missions"))[-1]
        await chat.tap(listing, "Assesseur")
        detail = listing

        async with bot.db.transaction("test_close") as conn:
            await conn.execute(
                update(schema.missions)
                .where(schema.missions.c.id == closing)
                .values(status="closed")
            )
        answer = await chat.tap(detail, "dimanche")
        assert answer[-1].text == refusal_text(chat.t, Conflict("mission_closed"))

        second = (await chat.say("/missions"))[-1]
        await chat.tap(second, "Secrétaire")
        clock.current = JUNE_30
        answer = await chat.tap(second, "mercredi")
        assert answer[-1].text == refusal_text(chat.t, Conflict("slot_started"))
        assert await statuses(bot.db, (await chat.person()).id) == []


async def test_a_mission_button_tapped_after_a_restart_still_works(tmp_path: Path) -> None:
    url, clock, double = database_url(tmp_path), FakeClock(NOW), TelegramDouble()
    await double.start()
    try:
        async with volunteer_bot(url, clock, double) as bot:
            org = await commune(bot.db)
            await mission(bot.db, org.id, "Assesseur")
            await volunteer(bot.db, 5, "Camille")
            chat = Chat(bot, 5, "Camille", "fr")
            listing = (await chat.say("/missions"))[-1]

        async with volunteer_bot(url, clock, double) as bot:
            chat.bot = bot
            await chat.tap(listing, "Assesseur")
            assert "dimanche 13 juin 2027" in listing.text
    finally:
        await double.stop()


async def test_radius_buttons_narrow_the_list_and_the_choice_is_remembered(
    tmp_path: Path,
) -> None:
    async with volunteer_bot(database_url(tmp_path), FakeClock(NOW)) as bot:
        org = await commune(bot.db)
        await mission(bot.db, org.id, "Ici", point=SAINT_DIZIER)
        await mission(bot.db, org.id, "Bar-le-Duc", point=BAR_LE_DUC)
        await mission(bot.db, org.id, "Chaumont", point=CHAUMONT)
        chat = Chat(bot, 6, "Camille", "en")
        await register(chat)

        listing = (await chat.say("/missions"))[-1]
        assert "✓ 30 km" in listing.button_texts() and "Chaumont" not in listing.text

        await chat.tap(listing, "5 km")
        assert "Ici" in listing.text and "Bar-le-Duc" not in listing.text
        assert (await chat.person()).search_radius_km == 5

        await chat.tap(listing, "everywhere")
        assert all(name in listing.text for name in ("Ici", "Bar-le-Duc", "Chaumont"))
        assert (await chat.person()).search_radius_km is None
        again = (await chat.say("/missions"))[-1]
        assert "Chaumont" in again.text


async def test_the_list_filters_by_date_and_by_domain(tmp_path: Path) -> None:
    async with volunteer_bot(database_url(tmp_path), FakeClock(NOW)) as bot:
        org = await commune(bot.db)
        await mission(bot.db, org.id, "Bureau de vote", starts_at=ELECTION_MORNING)
        await mission(
            bot.db, org.id, "Nettoyage des berges", domain="environment", starts_at=JUNE_30
        )
        await volunteer(bot.db, 7, "Camille")
        chat = Chat(bot, 7, "Camille", "en")
        listing = (await chat.say("/missions"))[-1]
        assert "Bureau de vote" in listing.text and "Nettoyage" in listing.text

        await chat.tap(listing, "Next 7 days")
        assert "Bureau de vote" in listing.text and "Nettoyage" not in listing.text
        await chat.tap(listing, "This weekend")
        assert "Bureau de vote" in listing.text and "Nettoyage" not in listing.text
        await chat.tap(listing, "Next 30 days")
        assert "Bureau de vote" in listing.text and "Nettoyage" in listing.text

        await chat.tap(listing, "🏷")
        await chat.tap(listing, "Environment")
        assert "Nettoyage" in listing.text and "Bureau de vote" not in listing.text


async def test_remote_missions_come_after_local_ones_and_say_so(tmp_path: Path) -> None:
    async with volunteer_bot(database_url(tmp_path), FakeClock(NOW)) as bot:
        org = await commune(bot.db)
        await mission(bot.db, org.id, "Soutien scolaire en visio", point=None, domain="education")
        await mission(bot.db, org.id, "Bar-le-Duc", point=BAR_LE_DUC)
        await volunteer(bot.db, 8, "Camille")
        chat = Chat(bot, 8, "Camille", "en")
        listing = (await chat.say("/missions"))[-1]
        remote_part = listing.text[listing.text.index("Soutien scolaire") :]
        assert listing.text.index("Bar-le-Duc") < listing.text.index("Soutien scolaire")
        assert "Remote" in remote_part


async def test_the_list_pages_with_next_and_previous(tmp_path: Path) -> None:
    async with volunteer_bot(database_url(tmp_path), FakeClock(NOW)) as bot:
        org = await commune(bot.db)
        for number in range(1, 8):
            await mission(bot.db, org.id, f"Mission numéro {number}")
        await volunteer(bot.db, 9, "Camille")
        chat = Chat(bot, 9, "Camille", "en")
        listing = (await chat.say("/missions"))[-1]
        first_page = [b for b in listing.button_texts() if "Mission numéro" in b]
        assert len(first_page) == 5 and "◀" not in " ".join(listing.button_texts())

        await chat.tap(listing, "▶")
        second_page = [b for b in listing.button_texts() if "Mission numéro" in b]
        assert len(second_page) == 2 and not set(second_page) & set(first_page)
        # The last page has read every match, so it can say how many there are.
        assert "7 missions" in listing.text and "▶" not in " ".join(listing.button_texts())
        await chat.tap(listing, "◀")
        assert [b for b in listing.button_texts() if "Mission numéro" in b] == first_page


async def test_a_shared_location_moves_the_home_area_and_resorts_the_list(
    tmp_path: Path,
) -> None:
    async with volunteer_bot(database_url(tmp_path), FakeClock(NOW)) as bot:
        org = await commune(bot.db)
        await mission(bot.db, org.id, "Saint-Dizier", point=SAINT_DIZIER)
        await mission(bot.db, org.id, "Bar-le-Duc", point=BAR_LE_DUC)
        await volunteer(bot.db, 10, "Camille")
        chat = Chat(bot, 10, "Camille", "en")
        before = (await chat.say("/missions"))[-1]
        assert before.text.index("Saint-Dizier</b>") < before.text.index("Bar-le-Duc</b>")

        after = (await chat.share_location(BAR_LE_DUC))[-1]
        assert after.text.index("Bar-le-Duc</b>") < after.text.index("Saint-Dizier</b>")
        home = (await chat.person()).home
        assert home is not None and abs(home.latitude - BAR_LE_DUC.latitude) < 1e-6


async def test_a_mission_link_lets_a_newcomer_register_then_apply(tmp_path: Path) -> None:
    async with volunteer_bot(database_url(tmp_path), FakeClock(NOW)) as bot:
        org = await commune(bot.db)
        mission_id = await mission(bot.db, org.id, "Assesseur")
        chat = Chat(bot, 11, "Camille", "en")

        detail = (await chat.say(f"/start m{mission_id}"))[-1]
        assert "Assesseur" in detail.text and "Sunday 13 June 2027" in detail.text
        asked = await chat.tap(detail, "Sunday")
        assert "finish your registration" in asked[0].text
        assert "Keep «Camille»" in asked[-1].button_texts()

        await chat.tap(chat.last, "Camille")
        await chat.say("52100")
        keyboard = chat.last
        await chat.tap(keyboard, "Done")
        assert "registered" in keyboard.text
        await chat.tap(keyboard, "Assesseur")
        await chat.tap(keyboard, "Confirm")
        assert "sent to Mairie de Saint-Dizier" in keyboard.text
        assert await statuses(bot.db, (await chat.person()).id) == ["pending"]


async def test_a_start_payload_that_is_not_a_mission_goes_to_the_organiser_side(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    codes: list[str] = []

    async def join_with_code(update: Any, context: RenfortContext, code: str) -> None:
        codes.append(code)

    monkeypatch.setattr(organiser, "join_with_code", join_with_code, raising=False)
    async with volunteer_bot(database_url(tmp_path), FakeClock(NOW)) as bot:
        chat = Chat(bot, 12, "Camille", "fr")
        await chat.say("/start K7QX4M2P")
        assert codes == ["K7QX4M2P"]


async def test_a_page_button_from_before_a_restart_still_turns_the_page(db: Database) -> None:
    """The next-page button keeps where its page ended in the database, not in memory."""
    double = TelegramDouble()
    await double.start()
    try:
        await read_pages_across_a_restart(db, double)
    finally:
        await double.stop()


async def read_pages_across_a_restart(db: Database, double: TelegramDouble) -> None:
    async with volunteer_bot(db.url, FakeClock(NOW), double) as bot:
        org = await commune(bot.db)
        for number in range(1, 13):  # the nearest first: further each time
            place = GeoPoint(SAINT_DIZIER.latitude + number * 0.01, SAINT_DIZIER.longitude)
            await mission(bot.db, org.id, f"Bureau {number:02d}", point=place)
        chat = Chat(bot, 1, "Camille", "en")
        await register(chat, "52100", ("citizenship",))
        listing = (await chat.say("/missions"))[-1]
    assert "1. Bureau 01" in listing.text and "Bureau 06" not in listing.text

    async with volunteer_bot(db.url, FakeClock(NOW), double) as bot:
        chat = Chat(bot, 1, "Camille", "en")
        await chat.tap(listing, "Next")
        assert "6. Bureau 06" in listing.text and "10. Bureau 10" in listing.text
        assert "Bureau 05" not in listing.text and "Bureau 11" not in listing.text
        await chat.tap(listing, "Next")
        assert "11. Bureau 11" in listing.text and "12. Bureau 12" in listing.text
        assert "Next ▶" not in listing.button_texts()
        await chat.tap(listing, "Previous")
        assert "6. Bureau 06" in listing.text and "Bureau 11" not in listing.text
        await chat.tap(listing, "Previous")
        assert "1. Bureau 01" in listing.text and "◀ Previous" not in listing.button_texts()


async def test_keeping_a_place_shows_every_application_again_however_many(
    tmp_path: Path,
) -> None:
    async with volunteer_bot(database_url(tmp_path), FakeClock(NOW)) as bot:
        org = await commune(bot.db)
        camille = await volunteer(bot.db, 12, "Camille")
        title = "Tenue du bureau de vote & accueil des électeurs, quartier du Vert-Bois"
        shown_title = title.replace("&", "&amp;")
        for day in range(30):
            starts = ELECTION_MORNING + timedelta(days=day)
            slot_id = await first_slot(
                bot.db, await mission(bot.db, org.id, f"{title} {day + 1}", starts_at=starts)
            )
            await applications.apply(bot.db, person_id=camille.id, slot_id=slot_id, now=NOW)
        chat = Chat(bot, 12, "Camille", "en")
        listed = await chat.say("/mymissions")
        assert (
            len(listed) > 1 and f"{shown_title} 30" in listed[-1].text
        )  # too long for one message
        mine = listed[-1]

        await chat.tap(mine, "Cancel 30.")
        kept = await chat.tap(mine, "No, keep it")

        # Every application is listed again, the last one above its Cancel button.
        shown = mine.text + "".join(m.text for m in kept)
        assert all(f"{shown_title} {n}" in shown for n in range(1, 31))
        assert "Cancel 30." in " ".join(chat.last.button_texts())
        assert f"{shown_title} 30" in chat.last.text
