"""Becoming a coordinator with an invite code, linking the admin group, and what the bot
does when it is added to a group or blocked."""

from __future__ import annotations

from pathlib import Path

from bot.services import organisations, people
from tests.conftest import NOW
from tests.factories import commune, volunteer
from tests.harness import FakeClock, running_bot, sqlite_file_url
from tests.organiser_steps import (
    COORDINATOR,
    GROUP,
    SECOND_COORDINATOR,
    STRANGER,
    VOLUNTEER,
    alerts,
    eventually,
    finished,
    meet_everyone,
    person_of,
    say,
    tap_action,
)


async def test_a_coordinator_joins_with_the_code_and_links_the_group(tmp_path: Path) -> None:
    async with running_bot(sqlite_file_url(tmp_path), FakeClock(NOW)) as bot:
        meet_everyone(bot)
        org = await organisations.create_organisation(bot.db, "Secours Populaire Saint-Dizier")

        welcome = await say(bot, COORDINATOR, f"/join {org.invite_code.lower()}")
        assert "Secours Populaire Saint-Dizier" in welcome[-1].text
        assert "/link@renfort_bot" in welcome[-1].text
        alex = await person_of(bot, COORDINATOR)
        assert [o.id for o in await organisations.memberships(bot.db, alex.id)] == [org.id]

        await bot.settle(bot.double.add_to_group(COORDINATOR, GROUP))
        await finished(bot)
        assert "/link" in bot.double.last(GROUP).text

        linked = await say(bot, COORDINATOR, "/link", chat_id=GROUP)
        assert "now the admin group" in linked[-1].text
        found = await organisations.organisation_of_chat(bot.db, GROUP)
        assert found is not None and found.id == org.id

        again = await say(bot, COORDINATOR, "/link", chat_id=GROUP)
        assert "already the admin group" in again[-1].text


async def test_start_with_the_invite_code_joins_as_well(tmp_path: Path) -> None:
    async with running_bot(sqlite_file_url(tmp_path), FakeClock(NOW)) as bot:
        meet_everyone(bot)
        org = await commune(bot.db)

        answer = await say(bot, COORDINATOR, f"/start {org.invite_code}")

        assert org.name in answer[-1].text
        alex = await person_of(bot, COORDINATOR)
        assert [o.id for o in await organisations.memberships(bot.db, alex.id)] == [org.id]


async def test_a_wrong_or_missing_code_is_explained(tmp_path: Path) -> None:
    async with running_bot(sqlite_file_url(tmp_path), FakeClock(NOW)) as bot:
        meet_everyone(bot)
        await commune(bot.db)

        wrong = await say(bot, COORDINATOR, "/join ZZZZ9999")
        missing = await say(bot, COORDINATOR, "/join")
        in_group = await say(bot, COORDINATOR, "/join ZZZZ9999", chat_id=GROUP)

        assert "not valid" in wrong[-1].text and "/join" in wrong[-1].text
        assert "/join K7M2PQ9X" in missing[-1].text
        assert "privately" in in_group[-1].text
        alex = await person_of(bot, COORDINATOR)
        assert await organisations.memberships(bot.db, alex.id) == []


async def test_a_stranger_cannot_link_a_group(tmp_path: Path) -> None:
    async with running_bot(sqlite_file_url(tmp_path), FakeClock(NOW)) as bot:
        meet_everyone(bot)
        await commune(bot.db)

        refused = await say(bot, STRANGER, "/link", chat_id=GROUP)

        assert "Only coordinators" in refused[-1].text
        assert "/join" in refused[-1].text
        assert await organisations.organisation_of_chat(bot.db, GROUP) is None


async def test_a_member_of_two_organisations_picks_one_with_a_button(tmp_path: Path) -> None:
    async with running_bot(sqlite_file_url(tmp_path), FakeClock(NOW)) as bot:
        meet_everyone(bot)
        mairie = await commune(bot.db)
        banque = await organisations.create_organisation(bot.db, "Banque alimentaire 52")
        await say(bot, COORDINATOR, f"/join {mairie.invite_code}")
        await say(bot, COORDINATOR, f"/join {banque.invite_code}")

        question = (await say(bot, COORDINATOR, "/link", chat_id=GROUP))[-1]
        assert sorted(question.button_texts()) == sorted([mairie.name, banque.name])

        await tap_action(bot, STRANGER, question, "link_pick", organisation_id=banque.id)
        assert "Only coordinators" in alerts(bot)[-1]
        assert await organisations.organisation_of_chat(bot.db, GROUP) is None

        await tap_action(bot, COORDINATOR, question, "link_pick", organisation_id=banque.id)
        assert "Banque alimentaire 52" in question.text and question.buttons == []
        linked = await organisations.organisation_of_chat(bot.db, GROUP)
        assert linked is not None and linked.id == banque.id


async def test_a_group_linked_to_one_organisation_cannot_be_taken_by_another(
    tmp_path: Path,
) -> None:
    async with running_bot(sqlite_file_url(tmp_path), FakeClock(NOW)) as bot:
        meet_everyone(bot)
        mairie = await commune(bot.db)
        banque = await organisations.create_organisation(bot.db, "Banque alimentaire 52")
        await say(bot, COORDINATOR, f"/join {mairie.invite_code}")
        await say(bot, SECOND_COORDINATOR, f"/join {banque.invite_code}")
        await say(bot, COORDINATOR, "/link", chat_id=GROUP)

        refused = await say(bot, SECOND_COORDINATOR, "/link", chat_id=GROUP)

        assert "another organisation" in refused[-1].text
        linked = await organisations.organisation_of_chat(bot.db, GROUP)
        assert linked is not None and linked.id == mairie.id


async def test_help_and_replies_in_the_group_explain_what_the_bot_does_there(
    tmp_path: Path,
) -> None:
    async with running_bot(sqlite_file_url(tmp_path), FakeClock(NOW)) as bot:
        meet_everyone(bot)

        answer = await say(bot, STRANGER, "/help", chat_id=GROUP)
        chatter = await say(bot, STRANGER, "Who brings the coffee?", chat_id=GROUP)

        assert "Approve and Refuse" in answer[-1].text
        assert chatter == []


async def test_a_volunteer_who_blocks_the_bot_is_marked_unreachable(tmp_path: Path) -> None:
    async with running_bot(sqlite_file_url(tmp_path), FakeClock(NOW)) as bot:
        meet_everyone(bot)
        camille = await volunteer(bot.db, VOLUNTEER)

        async def unreachable() -> bool:
            return (await people.get_person(bot.db, camille.id)).telegram_unreachable

        bot.double.block(VOLUNTEER)
        await eventually(unreachable)

        # Writing again is what proves they unblocked us (Telegram also sends an update).
        bot.double.blocked.discard(VOLUNTEER)
        await say(bot, VOLUNTEER, "/help")
        assert not await unreachable()
