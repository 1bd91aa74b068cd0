"""A resident on WhatsApp, end to end: the real Renfort process, the real twilio client
sending to the local Twilio double (whatsapp: addresses, ContentSid sends, the 24-hour
window, the Content API), signed webhooks from the double, quick replies tapped, and the
coordinator approving in Telegram through the Telegram double."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta
from pathlib import Path

from sqlalchemy import select

from bot.services import applications, callouts, channels, phones
from bot.services.callouts import Targeting
from handlers.whatsapp.templates import sync_templates
from renfort.sandbox.telegram_double import SentMessage
from renfort.sandbox.twilio_double import TwilioDouble
from storage import schema
from tests.conftest import NOW
from tests.factories import ELECTION_MORNING, polling_station, volunteer
from tests.harness import Bot, FakeClock, one_answer_each, running_with_twilio
from tests.organiser_steps import (
    COORDINATOR,
    GROUP,
    VOLUNTEER,
    call_for_one,
    coordinator_with_group,
    say,
    tap_action,
)

PHONE = "+33612345678"
# The evening before election day (13 June, 8:00 in Paris): the day-before reminder is due.
TO_REMINDER_EVENING = {"days": 5, "hours": 7, "minutes": 30}


@asynccontextmanager
async def renfort_with_whatsapp(
    tmp_path: Path, *, templates: bool = True
) -> AsyncIterator[tuple[Bot, TwilioDouble]]:
    """Renfort with Telegram, SMS and WhatsApp; its templates made (and approved) first."""
    twilio = TwilioDouble()
    clock = FakeClock(NOW)
    twilio.clock = clock
    twilio.approve_templates = templates
    async with running_with_twilio(tmp_path, twilio, clock, whatsapp=True) as bot:
        _all, created = await sync_templates(bot.renfort.settings, bot.db)
        assert {t.status for t in created} == {"received", "session"}
        # Run again once WhatsApp has reviewed them: the verdicts are recorded.
        listed, again = await sync_templates(bot.renfort.settings, bot.db)
        assert again == [] and len(listed) == len(created) == 16
        yield bot, twilio


async def writes(twilio: TwilioDouble, *bodies: str) -> list[str]:
    """The resident writes each message on WhatsApp; returns our answers."""
    return await one_answer_each(twilio.whatsapp, PHONE, *bodies)


async def registered_and_applied(bot: Bot, twilio: TwilioDouble) -> int:
    """A coordinator's group posts a polling station; the resident types their registration
    and takes the mission and its slot with quick replies. Returns how many messages the
    group had before the application, to find it posted there."""
    organisation = await coordinator_with_group(bot)
    await polling_station(bot.db, organisation.id, now=NOW)
    before = len(bot.double.messages[GROUP])
    await writes(twilio, "Hello", "Camille 52100")
    [listing] = await writes(twilio, "MISSIONS")
    shown = twilio.on_whatsapp(PHONE)[-1]
    assert shown.content_sid is not None and "Sun 13 Jun 8am" in listing
    [(title, payload)] = shown.buttons
    assert payload == "1.1" and len(title) <= 20  # mission 1, its first slot: applied at once
    applied = await twilio.tap(PHONE, title)
    assert "Applied" in applied.text, applied.text
    return before


async def approve(bot: Bot, before: int) -> None:
    await bot.drain()
    posted: SentMessage = await bot.double.wait_for(GROUP, "Camille", after=before)
    assert "+33" not in posted.text
    person = await person_id(bot)
    [mine] = await applications.applications_of(bot.db, person, now=NOW)
    await tap_action(bot, COORDINATOR, posted, "approve", application_id=mine.id)
    await bot.drain()


async def reminder_evening(bot: Bot) -> None:
    bot.clock.advance(**TO_REMINDER_EVENING)
    await bot.tick_and_send()  # queued
    await bot.tick_and_send()


async def person_id(bot: Bot) -> int:
    contact = await phones.find_by_phone(bot.db, PHONE)
    assert contact is not None
    return contact.person.id


async def outbox_channels(bot: Bot, kind: str) -> list[str]:
    o = schema.outbox
    async with bot.db.reading("test") as conn:
        rows = await conn.scalars(select(o.c.channel).where(o.c.kind == kind, o.c.status == "sent"))
        return [str(c) for c in rows]


async def test_a_resident_applies_on_whatsapp_and_hears_back_there_then_a_template_reminds_them(
    tmp_path: Path,
) -> None:
    async with renfort_with_whatsapp(tmp_path) as (bot, twilio):
        before = await registered_and_applied(bot, twilio)

        await approve(bot, before)
        told = twilio.on_whatsapp(PHONE)[-1]
        assert "accepted you" in told.body and "Sun 13 Jun 8am-1pm" in told.body
        assert told.content_sid is None  # free-form: they wrote minutes ago
        assert twilio.received(PHONE) == []  # not one SMS
        await twilio.settle()
        assert await outbox_channels(bot, "application_decided") == ["whatsapp"]

        seen = len(twilio.on_whatsapp(PHONE))
        await reminder_evening(bot)
        [reminder] = twilio.on_whatsapp(PHONE)[seen:]
        # Days after their last message: only an approved template may reach them.
        assert reminder.content_sid is not None
        assert reminder.body.startswith("Renfort reminder") and "Assesseur" in reminder.body
        assert twilio.received(PHONE) == []
        assert await outbox_channels(bot, "reminder_day_before") == ["whatsapp"]


async def test_without_an_approved_template_the_reminder_goes_by_sms(tmp_path: Path) -> None:
    async with renfort_with_whatsapp(tmp_path, templates=False) as (bot, twilio):
        before = await registered_and_applied(bot, twilio)
        await approve(bot, before)
        seen = len(twilio.on_whatsapp(PHONE))

        await reminder_evening(bot)
        assert len(twilio.on_whatsapp(PHONE)) == seen
        [sms] = twilio.received(PHONE)
        assert "Assesseur" in sms
        assert await outbox_channels(bot, "reminder_day_before") == ["sms"]


async def test_a_closed_window_reported_by_twilio_sends_the_notification_again_as_a_template(
    tmp_path: Path,
) -> None:
    async with renfort_with_whatsapp(tmp_path) as (bot, twilio):
        before = await registered_and_applied(bot, twilio)
        # WhatsApp's own clock says their window closed (our record says it is open).
        twilio.last_inbound.clear()

        await approve(bot, before)
        await twilio.settle()
        refused = [m for m in twilio.messages if m.error_code == 63016]
        assert len(refused) == 1 and refused[0].content_sid is None
        await bot.drain()
        told = twilio.on_whatsapp(PHONE)[-1]
        assert told.content_sid is not None and "accepted you" in told.body


async def test_stop_on_whatsapp_silences_the_phone(tmp_path: Path) -> None:
    async with renfort_with_whatsapp(tmp_path) as (bot, twilio):
        before = await registered_and_applied(bot, twilio)
        [stopped] = await writes(twilio, "STOP")
        assert "START" in stopped
        seen = len(twilio.on_whatsapp(PHONE))

        await approve(bot, before)
        assert len(twilio.on_whatsapp(PHONE)) == seen and twilio.received(PHONE) == []
        assert (await twilio.whatsapp(PHONE, "MISSIONS")).replies == []


async def test_a_callout_outside_the_window_is_answered_with_its_oui_quick_reply(
    tmp_path: Path,
) -> None:
    async with renfort_with_whatsapp(tmp_path) as (bot, twilio):
        organisation = await coordinator_with_group(bot)
        mission = await polling_station(bot.db, organisation.id, now=NOW)
        await writes(twilio, "Bonjour", "Camille 52100")  # in French, everything
        bot.clock.advance(days=2)  # their window has closed
        targeting = Targeting(radius_km=10, domains=("emergency",))
        view = await call_for_one(bot, mission, targeting, bot.clock())
        await bot.tick_and_send()
        asked = twilio.on_whatsapp(PHONE)[-1]
        assert view.asked == 1 and asked.content_sid is not None
        assert asked.body.startswith("Renfort : besoin d'aide") and "Assesseur" in asked.body
        assert asked.buttons == [("Oui", "OUI"), ("Non", "NON")]

        answer = await twilio.tap(PHONE, "Oui")

        assert "Assesseur" in answer.text
        final = await callouts.get_callout(bot.db, view.id)
        assert (final.yes, final.status) == (1, "filled")


async def test_a_telegram_volunteer_links_whatsapp_with_a_code_and_chooses_where_to_hear(
    tmp_path: Path,
) -> None:
    async with renfort_with_whatsapp(tmp_path) as (bot, twilio):
        organisation = await coordinator_with_group(bot)
        await polling_station(bot.db, organisation.id, now=NOW)
        camille = await volunteer(bot.db, VOLUNTEER, "Camille")
        [shown] = await say(bot, VOLUNTEER, "/channel")
        assert "Telegram" in shown.text and "+33757000200 on WhatsApp" in shown.text
        found = re.search(r"LINK (\d{6})", re.sub(r"</?b>", "", shown.text))
        assert found is not None, shown.text

        [wrong] = await writes(twilio, "LINK 000000" if found[1] != "000000" else "LINK 111111")
        assert "unknown" in wrong  # and the number is still nobody's
        assert await phones.find_by_phone(bot.db, PHONE) is None
        [linked] = await writes(twilio, f"link {found[1]}")
        assert "Camille" in linked
        contact = await phones.find_by_phone(bot.db, PHONE)
        assert contact is not None and contact.person.id == camille.id
        assert (await writes(twilio, f"LIEN {found[1]}"))[0] == wrong  # spent (in French too)

        before = len(bot.double.messages[GROUP])
        telegram_before = len(bot.double.messages[VOLUNTEER])
        await writes(twilio, "MISSIONS", "1.1")  # their Telegram profile applies
        await approve(bot, before)
        told = twilio.on_whatsapp(PHONE)[-1]
        assert "accepted you" in told.body, told.body
        assert bot.double.messages[VOLUNTEER][telegram_before:] == []

        [back] = await writes(twilio, "CANAL TELEGRAM")
        assert "Telegram" in back
        assert await channels.preferred(bot.db, camille.id) == "telegram"


async def test_a_resident_asked_to_confirm_a_cancellation_taps_yes(tmp_path: Path) -> None:
    async with renfort_with_whatsapp(tmp_path) as (bot, twilio):
        await registered_and_applied(bot, twilio)
        asked = await twilio.whatsapp(PHONE, "CANCEL 1")
        [question] = asked.replies
        assert "Reply YES to cancel" in question.body
        assert question.buttons == [("Yes", "YES"), ("No", "NO")]

        # Twilio posts the same message again (our answer went unacknowledged): the same
        # question comes back, buttons and all, and nothing is cancelled twice.
        again = await twilio.whatsapp(PHONE, "CANCEL 1", sid=asked.sid)
        assert [(r.body, r.buttons) for r in again.replies] == [(question.body, question.buttons)]

        cancelled = await twilio.tap(PHONE, "Yes")
        assert cancelled.text.startswith("Cancelled: Assesseur"), cancelled.text
        assert await applications.applications_of(bot.db, await person_id(bot), now=NOW) == []


async def test_still_coming_asked_inside_the_window_is_answered_with_a_tap(
    tmp_path: Path,
) -> None:
    async with renfort_with_whatsapp(tmp_path) as (bot, twilio):
        before = await registered_and_applied(bot, twilio)
        await approve(bot, before)
        bot.clock.advance(days=5, hours=7)  # the evening before election day
        await writes(twilio, "MY MISSIONS")  # their window opens again
        seen = len(twilio.on_whatsapp(PHONE))

        bot.clock.advance(hours=3)
        await bot.tick_and_send()  # queued
        await bot.tick_and_send()
        [asked] = [m for m in twilio.on_whatsapp(PHONE)[seen:] if "still coming" in m.body]
        assert asked.buttons == [("Yes", "YES"), ("No", "NO")]

        answer = await twilio.tap(PHONE, "Yes")
        assert answer.text.startswith("Thank you! See you"), answer.text


async def test_a_tap_on_an_older_list_applies_for_nothing_else(tmp_path: Path) -> None:
    """The list changed since the resident saw it: a quick reply of the older one, tapped
    after scrolling up, no longer names the same mission, so it applies for nothing."""
    async with renfort_with_whatsapp(tmp_path) as (bot, twilio):
        organisation = await coordinator_with_group(bot)
        await polling_station(bot.db, organisation.id, now=NOW)
        await writes(twilio, "Hello", "Camille 52100", "MISSIONS")
        [(old_title, _payload)] = twilio.on_whatsapp(PHONE)[-1].buttons
        earlier = ELECTION_MORNING - timedelta(hours=2)
        await polling_station(
            bot.db, organisation.id, now=NOW, title="Dépouillement", starts_at=earlier
        )
        [listing] = await writes(twilio, "MISSIONS")
        assert listing.startswith("1.1 Dépouillement")

        stale = await twilio.tap(PHONE, old_title)
        assert "MISSIONS" in stale.text and "Applied" not in stale.text
        assert await applications.applications_of(bot.db, await person_id(bot), now=NOW) == []
        applied = await twilio.tap(PHONE, "2.1 Assesseur - bur…")
        assert "Applied: Assesseur" in applied.text
