"""The board in a real browser (headless Chromium driven by Playwright) against the whole
Renfort and the Bot API double: a coordinator signs in from a `/board` link, approves an
application and the volunteer is told in Telegram, launches a callout and sees an answer
arrive without reloading, prints a roster; a coordinator of another organisation is refused,
and so is an expired link. Screenshots in French and English land in docs/screenshots/."""

from __future__ import annotations

import re
import shutil
from datetime import timedelta
from pathlib import Path

import pytest

from bot.actions import CALLOUT_YES as YES
from bot.domain import GeoPoint
from bot.services import applications, organisations
from tests.conftest import NOW
from tests.factories import ELECTION_MORNING, first_slot, polling_station
from tests.harness import Bot, FakeClock, running_in_public
from tests.organiser_steps import (
    COORDINATOR,
    GROUP,
    SECOND_COORDINATOR,
    coordinator_with_group,
    eventually,
    say,
    tap_action,
    telegram_volunteer,
)

playwright_api = pytest.importorskip(
    "playwright.async_api", reason="the board's browser tests need the playwright package"
)
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
pytestmark = pytest.mark.skipif(
    CHROMIUM is None,
    reason="no chromium here: the board's browser tests need Debian's chromium"
    " (apt-get install chromium; .ci/run installs it)",
)
SCREENSHOTS = Path(__file__).resolve().parent.parent / "docs" / "screenshots"
LINK = re.compile(r"http://127\.0\.0\.1:\d+/board/link/[A-Za-z0-9_-]+")
CAMILLE, DOMINIQUE, EMMA = 20, 1000, 1001
# Form controls without a label, text or aria-label, as a screen reader would meet them.
UNNAMED_CONTROLS = """
[...document.querySelectorAll('input:not([type=hidden]), select, textarea, button')]
  .filter(e => !(e.labels && e.labels.length) && !e.getAttribute('aria-label')
               && !e.textContent.trim())
  .map(e => e.outerHTML)
"""
SECOND_STATION = GeoPoint(48.6290, 4.9650)  # a few streets away, for the map


async def board_link(bot: Bot, user_id: int, chat_id: int | None = None) -> str:
    """The coordinator sends /board (in the group or privately); the link comes privately."""
    before = len(bot.double.messages[user_id])
    await say(bot, user_id, "/board", chat_id=chat_id)
    private = bot.double.messages[user_id][before:]
    found = LINK.search(private[-1].text) if private else None
    assert found is not None, [m.text for m in private]
    return found.group(0)


async def test_a_coordinator_runs_the_day_from_the_board_in_a_browser(tmp_path: Path) -> None:
    assert CHROMIUM is not None
    async with running_in_public(tmp_path, FakeClock(NOW)) as bot:
        organisation = await coordinator_with_group(bot)
        station = await polling_station(bot.db, organisation.id, now=NOW, capacity=2)
        second = await polling_station(
            bot.db,
            organisation.id,
            now=NOW,
            capacity=2,
            title="Assesseur — bureau de vote n°7",
            starts_at=ELECTION_MORNING + timedelta(hours=6),
            point=SECOND_STATION,
        )
        camille = await telegram_volunteer(bot, CAMILLE, "Camille")
        await telegram_volunteer(bot, DOMINIQUE, "Dominique")
        await telegram_volunteer(bot, EMMA, "Emma")
        slot = await first_slot(bot.db, station)
        second_slot = await first_slot(bot.db, second)
        application = await applications.apply(bot.db, person_id=camille, slot_id=slot, now=NOW)
        await bot.drain()
        [posted] = [m for m in bot.double.messages[GROUP] if m.buttons and "Camille" in m.text]

        # In the admin group the link is not posted: it goes privately.
        group_before = len(bot.double.messages[GROUP])
        link = await board_link(bot, COORDINATOR, chat_id=GROUP)
        group_said = [m.text for m in bot.double.messages[GROUP][group_before:]]
        assert any("private message" in text for text in group_said)
        assert all("/board/link/" not in text for text in group_said)

        async with playwright_api.async_playwright() as driver:
            browser = await driver.chromium.launch(
                executable_path=CHROMIUM, headless=True, args=["--no-sandbox"]
            )
            try:
                context = await browser.new_context(viewport={"width": 1280, "height": 900})
                page = await context.new_page()
                await page.goto(link)
                await page.get_by_role("button", name="Open the board").click()
                await page.wait_for_url("**/board")
                row = page.locator(f"#slot-{slot}")
                assert "Camille" in await row.inner_text()
                assert "waiting for an answer" in await row.inner_text()
                assert await page.locator("svg circle.marker").count() == 2

                # Approve: the same service as the chat, and the volunteer is told.
                told_before = len(bot.double.messages[CAMILLE])
                # Every control is named for screen readers, and the keyboard is enough.
                unnamed = await page.evaluate(UNNAMED_CONTROLS)
                assert unnamed == [], unnamed
                assert await page.get_attribute("html", "lang") == "en"
                await page.get_by_role("button", name="Approve Camille").focus()
                await page.keyboard.press("Enter")
                await page.wait_for_url(re.compile(r".*notice=approved.*"))
                assert "Approved: the volunteer is told." in await page.inner_text("main")
                await bot.drain()
                told = bot.double.messages[CAMILLE][told_before:]
                assert told and "Assesseur" in told[-1].text
                refreshed = await applications.get_application(bot.db, application.id)
                assert refreshed.status == "approved"
                # The group's copy shows the decision, its buttons gone: nobody decides twice.
                assert not posted.buttons and "Alex" in posted.text and posted.edits == 1

                # A callout from the board; an answer in Telegram shows up without a reload.
                await (
                    page.locator(f"#slot-{second_slot}")
                    .get_by_role("button", name="Launch a callout")
                    .click()
                )
                await page.wait_for_url(re.compile(r".*notice=callout_launched.*"))
                await bot.drain()
                # The admin group follows the same callout, with its stop and widen buttons.
                assert any("n°7" in m.text and m.buttons for m in bot.double.messages[GROUP]), [
                    m.text for m in bot.double.messages[GROUP]
                ]
                await page.evaluate("window.stillTheSamePage = true")
                asked = bot.double.messages[DOMINIQUE][-1]
                callout_id = await _callout_of(bot, second_slot)
                await tap_action(bot, DOMINIQUE, asked, YES, callout_id=callout_id)
                second_row = page.locator(f"#slot-{second_slot}")
                await second_row.get_by_text("Callout: 1 of 2 said yes").wait_for(timeout=20_000)
                assert "Dominique" in await second_row.inner_text()
                assert await page.evaluate("window.stillTheSamePage === true")

                SCREENSHOTS.mkdir(parents=True, exist_ok=True)
                await page.screenshot(path=str(SCREENSHOTS / "board-en.png"), full_page=True)
                await page.get_by_role("link", name="FR").click()
                await page.wait_for_url("**/board")
                assert "Tableau Renfort" in await page.inner_text("h1")
                assert "Appel : 1 oui sur 2" in await second_row.inner_text()
                await page.screenshot(path=str(SCREENSHOTS / "board-fr.png"), full_page=True)
                await page.set_viewport_size({"width": 390, "height": 844})
                await page.screenshot(path=str(SCREENSHOTS / "board-phone-fr.png"), full_page=True)

                # The printed roster: the names, without the page's links.
                await page.set_viewport_size({"width": 1280, "height": 900})
                await page.goto(f"{bot.public_url}/board/slots/{slot}/print")
                await page.emulate_media(media="print")
                assert "Camille" in await page.inner_text("table")
                assert await page.locator(".noprint").is_hidden()
                await page.screenshot(path=str(SCREENSHOTS / "roster-print-fr.png"))

                # A coordinator of another organisation: their board, never this one's.
                other = await organisations.create_organisation(
                    bot.db, "Mairie de Chancenay", "52100"
                )
                await say(bot, SECOND_COORDINATOR, f"/join {other.invite_code}")
                stranger_link = await board_link(bot, SECOND_COORDINATOR)
                stranger = await (await browser.new_context()).new_page()
                await stranger.goto(stranger_link)
                await stranger.get_by_role("button", name="Open the board").click()
                await stranger.wait_for_url("**/board")
                assert "Assesseur" not in await stranger.inner_text("main")
                refused = await stranger.goto(f"{bot.public_url}/board/slots/{slot}/print")
                assert refused is not None and refused.status == 404
                assert "Camille" not in await stranger.content()

                # A link older than 15 minutes opens nothing.
                late_link = await board_link(bot, SECOND_COORDINATOR)
                bot.clock.advance(minutes=16)
                late = await (await browser.new_context()).new_page()
                await late.goto(late_link)
                await late.get_by_role("button", name="Open the board").click()
                await late.get_by_text("This link no longer works").wait_for()
                assert (
                    await late.goto(f"{bot.public_url}/board")
                ) is not None and "/board" in late.url
                assert "ended" in await late.inner_text("main")
            finally:
                await browser.close()


async def _callout_of(bot: Bot, slot_id: int) -> int:
    from sqlalchemy import select

    from storage import schema

    async def launched() -> bool:
        async with bot.db.reading("test") as conn:
            return (
                await conn.scalar(
                    select(schema.callouts.c.id).where(schema.callouts.c.slot_id == slot_id)
                )
            ) is not None

    await eventually(launched)
    async with bot.db.reading("test") as conn:
        found = await conn.scalar(
            select(schema.callouts.c.id).where(schema.callouts.c.slot_id == slot_id)
        )
    assert found is not None
    return int(found)
