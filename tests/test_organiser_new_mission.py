"""/newmission: a coordinator publishes a mission in their private chat, one step at a time,
and every wrong answer gets an explanation with an example."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from bot.services import missions, organisations
from storage.database import load_conversation
from tests.conftest import NOW
from tests.factories import SAINT_DIZIER, commune
from tests.harness import Bot, FakeClock, running_bot, sqlite_file_url
from tests.organiser_steps import (
    COORDINATOR,
    STRANGER,
    callback_data,
    meet_everyone,
    say,
    tap,
    tap_action,
)


async def joined(bot: Bot) -> organisations.Organisation:
    meet_everyone(bot)
    organisation = await commune(bot.db)
    await say(bot, COORDINATOR, f"/join {organisation.invite_code}")
    return organisation


async def test_a_coordinator_publishes_a_mission_with_two_slots(tmp_path: Path) -> None:
    async with running_bot(sqlite_file_url(tmp_path), FakeClock(NOW)) as bot:
        await joined(bot)

        assert "title" in (await say(bot, COORDINATOR, "/newmission"))[-1].text
        domains = (await say(bot, COORDINATOR, "Distribution de colis alimentaires"))[-1]
        await tap_action(bot, COORDINATOR, domains, "nm_pick_domain", domain="solidarity")
        assert "postcode" in domains.text
        asked = await say(bot, COORDINATOR, "12 rue de la République, 52100 Saint-Dizier")
        assert "Saint-Dizier" in asked[-1].text and "first slot" in asked[-1].text
        capacity = await say(bot, COORDINATOR, "13/06/2027 8h-13h")
        assert "Sunday 13 June 2027" in capacity[-1].text
        more = (await say(bot, COORDINATOR, "4"))[-1]
        await tap_action(bot, COORDINATOR, more, "nm_add_slot")
        await say(bot, COORDINATOR, "14/06 14:00-18:00")
        final = (await say(bot, COORDINATOR, "2 volunteers"))[-1]
        assert "4 volunteers" in final.text and "2 volunteers" in final.text
        publish = await callback_data(bot, final, "nm_publish")
        await tap(bot, COORDINATOR, final, publish)

        assert "Published" in final.text and final.buttons == []
        page = await missions.discover(bot.db, now=NOW, near=SAINT_DIZIER, radius_km=10)
        assert [card.title for card in page.cards] == ["Distribution de colis alimentaires"]
        assert page.cards[0].open_slots == 2 and page.cards[0].free_places == 6
        detail = await missions.mission_detail(bot.db, page.cards[0].id)
        assert detail.domain == "solidarity" and detail.postcode == "52100"
        assert [(s.starts_at, s.ends_at, s.capacity) for s in detail.slots] == [
            (datetime(2027, 6, 13, 6, tzinfo=UTC), datetime(2027, 6, 13, 11, tzinfo=UTC), 4),
            (datetime(2027, 6, 14, 12, tzinfo=UTC), datetime(2027, 6, 14, 16, tzinfo=UTC), 2),
        ]
        assert await load_conversation(bot.db, "telegram", str(COORDINATOR)) is None

        await tap(bot, COORDINATOR, final, publish)
        assert "step is over" in str(bot.double.callback_answers[-1].get("text"))
        assert (await missions.discover(bot.db, now=NOW, near=None, radius_km=None)).total == 1


async def test_bad_answers_get_an_explanation_with_an_example(tmp_path: Path) -> None:
    async with running_bot(sqlite_file_url(tmp_path), FakeClock(NOW)) as bot:
        await joined(bot)
        await say(bot, COORDINATOR, "/newmission")

        short_title = await say(bot, COORDINATOR, "A")
        domains = (await say(bot, COORDINATOR, "Accueil des réfugiés"))[-1]
        typed_domain = await say(bot, COORDINATOR, "solidarity")
        await tap_action(bot, COORDINATOR, domains, "nm_pick_domain", domain="solidarity")
        unknown_place = await say(bot, COORDINATOR, "derrière la mairie")
        await say(bot, COORDINATOR, "Saint-Dizier")
        vague = await say(bot, COORDINATOR, "demain matin")
        impossible = await say(bot, COORDINATOR, "31/02/2028 8h-12h")
        past = await say(bot, COORDINATOR, "01/06/2027 8h-12h")
        no_end = await say(bot, COORDINATOR, "13/06/2027 8h")
        await say(bot, COORDINATOR, "13/06/2027 8h-12h")
        not_a_number = await say(bot, COORDINATOR, "plenty")
        zero = await say(bot, COORDINATOR, "0")

        assert "3 to 200 characters" in short_title[-1].text
        assert "tap one of these domains" in typed_domain[-1].text
        assert typed_domain[-1].buttons
        assert "postcode" in unknown_place[-1].text and "52100" in unknown_place[-1].text
        example = "14/06/2027 8h-13h"  # a week after the fake clock's today
        for answer, why in [
            (vague, "could not find a date"),
            (impossible, "does not exist"),
            (past, "in the past"),
            (no_end, "two hours"),
        ]:
            assert why in answer[-1].text and example in answer[-1].text
        for answer in (not_a_number, zero):
            assert "number of volunteers" in answer[-1].text
        state = await load_conversation(bot.db, "telegram", str(COORDINATOR))
        assert state is not None and state[0] == "nm_capacity"


async def test_a_remote_mission_for_one_of_two_organisations(tmp_path: Path) -> None:
    async with running_bot(sqlite_file_url(tmp_path), FakeClock(NOW)) as bot:
        await joined(bot)
        banque = await organisations.create_organisation(bot.db, "Banque alimentaire 52")
        await say(bot, COORDINATOR, f"/join {banque.invite_code}")

        which = (await say(bot, COORDINATOR, "/newmission"))[-1]
        await tap_action(bot, COORDINATOR, which, "nm_pick_organisation", organisation_id=banque.id)
        assert "Banque alimentaire 52" in which.text
        domains = (await say(bot, COORDINATOR, "Appels aux donateurs"))[-1]
        await tap_action(bot, COORDINATOR, domains, "nm_pick_domain", domain="solidarity")
        await tap_action(bot, COORDINATOR, domains, "nm_remote")
        await say(bot, COORDINATOR, "2027-06-20 10:00 12:00")
        final = (await say(bot, COORDINATOR, "1"))[-1]
        await tap_action(bot, COORDINATOR, final, "nm_publish")

        page = await missions.discover(bot.db, now=NOW, near=SAINT_DIZIER, radius_km=5)
        assert [(c.organisation_name, c.remote) for c in page.cards] == [
            ("Banque alimentaire 52", True)
        ]


async def test_typing_a_new_date_instead_of_the_capacity_replaces_the_slot(
    tmp_path: Path,
) -> None:
    async with running_bot(sqlite_file_url(tmp_path), FakeClock(NOW)) as bot:
        await joined(bot)
        await say(bot, COORDINATOR, "/newmission")
        domains = (await say(bot, COORDINATOR, "Tenue du bureau de vote"))[-1]
        await tap_action(bot, COORDINATOR, domains, "nm_pick_domain", domain="citizenship")
        await say(bot, COORDINATOR, "52100")
        await say(bot, COORDINATOR, "13/06/2027 8h-13h")

        corrected = await say(bot, COORDINATOR, "13/06/2027 13h-18h")
        final = (await say(bot, COORDINATOR, "3"))[-1]
        await tap_action(bot, COORDINATOR, final, "nm_publish")

        assert "13:00" in corrected[-1].text or "1:00" in corrected[-1].text
        page = await missions.discover(bot.db, now=NOW, near=None, radius_km=None)
        detail = await missions.mission_detail(bot.db, page.cards[0].id)
        assert [s.starts_at.hour for s in detail.slots] == [11]


async def test_cancel_drops_the_wizard_and_publishes_nothing(tmp_path: Path) -> None:
    async with running_bot(sqlite_file_url(tmp_path), FakeClock(NOW)) as bot:
        await joined(bot)
        prompt = (await say(bot, COORDINATOR, "/newmission"))[-1]

        await tap_action(bot, COORDINATOR, prompt, "nm_cancel")

        assert "nothing was published" in prompt.text
        assert await load_conversation(bot.db, "telegram", str(COORDINATOR)) is None
        assert (await missions.discover(bot.db, now=NOW, near=None, radius_km=None)).total == 0


async def test_someone_outside_any_organisation_is_told_how_to_join(tmp_path: Path) -> None:
    async with running_bot(sqlite_file_url(tmp_path), FakeClock(NOW)) as bot:
        meet_everyone(bot)

        answer = await say(bot, STRANGER, "/newmission")

        assert "/join" in answer[-1].text
        assert await load_conversation(bot.db, "telegram", str(STRANGER)) is None


async def test_a_wizard_left_for_a_day_does_not_swallow_the_next_message(tmp_path: Path) -> None:
    async with running_bot(sqlite_file_url(tmp_path), FakeClock(NOW)) as bot:
        await joined(bot)
        await say(bot, COORDINATOR, "/newmission")
        await say(bot, COORDINATOR, "Collecte de sang")

        bot.clock.advance(hours=25)
        answer = await say(bot, COORDINATOR, "hello, any news?")

        assert "dropped" in answer[-1].text and "/newmission" in answer[-1].text
        assert await load_conversation(bot.db, "telegram", str(COORDINATOR)) is None
