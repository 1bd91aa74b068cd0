"""/board in Telegram: the link goes to the coordinator's private chat, never to the group;
people who coordinate nothing get no link."""

from __future__ import annotations

import re
from pathlib import Path

import httpx
from sqlalchemy import select

from storage import schema
from tests.conftest import NOW
from tests.harness import FakeClock, running_in_public
from tests.organiser_steps import (
    COORDINATOR,
    GROUP,
    STRANGER,
    VOLUNTEER,
    coordinator_with_group,
    say,
)

LINK = re.compile(r"http://127\.0\.0\.1:\d+/board/link/([A-Za-z0-9_-]+)")


async def test_board_links_reach_coordinators_privately_and_nobody_else(tmp_path: Path) -> None:
    async with running_in_public(tmp_path, FakeClock(NOW)) as bot:
        organisation = await coordinator_with_group(bot)

        private_before = len(bot.double.messages[COORDINATOR])
        in_group = await say(bot, COORDINATOR, "/board", chat_id=GROUP)
        assert [m.text for m in in_group] == ["I sent you the board's link in a private message."]
        private = bot.double.messages[COORDINATOR][private_before:]
        assert len(private) == 1
        found = LINK.search(private[0].text)
        assert found is not None and "once, within 15 minutes" in private[0].text

        # Anyone in the group may type /board: only coordinators get a link.
        stranger_before = len(bot.double.messages[STRANGER])
        refused = await say(bot, STRANGER, "/board", chat_id=GROUP)
        assert refused and "Only coordinators" in refused[-1].text
        assert len(bot.double.messages[STRANGER]) == stranger_before
        volunteer = await say(bot, VOLUNTEER, "/board")
        assert volunteer and "/board/link/" not in volunteer[-1].text
        assert "Only coordinators" in volunteer[-1].text

        async with bot.db.reading("test") as conn:
            links = (
                await conn.execute(
                    select(schema.board_links.c.organisation_id, schema.board_links.c.token_hash)
                )
            ).all()
        # Asked in the group: scoped to that group's organisation; stored as a digest.
        assert [row.organisation_id for row in links] == [organisation.id]
        assert links[0].token_hash != found.group(1)

        async with httpx.AsyncClient(base_url=f"{bot.public_url}") as client:
            page = await client.get(f"/board/link/{found.group(1)}")
            assert page.status_code == 200 and 'method="post"' in page.text
            assert page.headers["referrer-policy"] == "same-origin"
            opened = await client.post(f"/board/link/{found.group(1)}")
            assert opened.status_code == 303
            board = await client.get("/board")
            assert board.status_code == 200 and organisation.name in board.text
