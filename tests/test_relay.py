"""Relay messaging: coordinators write to volunteers through the bot and volunteers answer,
by Telegram and SMS, without anyone seeing a phone number or a username."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import select, update

from bot.i18n import Translator
from bot.services import applications, organisations, relay
from bot.services.people import Person
from handlers.sms.gsm7 import segments
from handlers.sms.render import render_notification
from handlers.telegram.relay import BLOCK, PICK_MISSION, PICK_PERSON, PICK_SLOT
from renfort.sandbox.telegram_double import SentMessage
from renfort.sandbox.twilio_double import TwilioDouble
from storage import schema
from storage.database import Database
from tests.conftest import NOW
from tests.factories import commune, first_slot, polling_station, volunteer
from tests.harness import Bot
from tests.organiser_steps import (
    COORDINATOR,
    GROUP,
    VOLUNTEER,
    coordinator_with_group,
    finished,
    say,
    tap_action,
)
from tests.test_sms_end_to_end import PHONE, renfort_with_sms, texts

USERNAME = "camille_private_handle"
MESSAGE = "Rendez-vous à 7h45 devant l'école, merci !"


# ---- services, on both backends ----------------------------------------------------------


async def _mission_with_two(db: Database) -> tuple[int, int, int, int, int]:
    """(organisation, coordinator, mission, Camille, Bea): both applied to the one slot."""
    org = await commune(db)
    coordinator = await volunteer(db, 1, "Nadia")
    await organisations.join(db, coordinator.id, org.invite_code)
    mission = await polling_station(db, org.id, now=NOW)
    slot = await first_slot(db, mission)
    camille = await volunteer(db, 2, "Camille")
    bea = await volunteer(db, 3, "Bea")
    for person in (camille, bea):
        await applications.apply(db, person_id=person.id, slot_id=slot, now=NOW)
    return org.id, coordinator.id, mission, camille.id, bea.id


async def _outbox(
    db: Database, kind: str
) -> list[tuple[int | None, int | None, dict[str, object]]]:
    o = schema.outbox
    async with db.reading("test") as conn:
        rows = await conn.execute(
            select(o.c.person_id, o.c.chat_id, o.c.payload).where(o.c.kind == kind).order_by(o.c.id)
        )
        return [(r.person_id, r.chat_id, dict(r.payload)) for r in rows]


async def test_a_relay_reaches_every_volunteer_who_accepts_it_and_the_answers_come_back(
    db: Database,
) -> None:
    org, coordinator, mission, camille, bea = await _mission_with_two(db)
    sent = await relay.send_to_volunteers(
        db, actor_id=coordinator, organisation_id=org, mission_id=mission, body=MESSAGE, now=NOW
    )
    assert sent == relay.Sent(2, ())
    queued = await _outbox(db, "relay_to_volunteer")
    assert {p for p, _c, _ in queued} == {camille, bea}
    assert all(payload["text"] == MESSAGE for _p, _c, payload in queued)

    await relay.set_blocked(db, person_id=bea, organisation_id=org, blocked=True)
    assert [c.blocked for c in await relay.contacts(db, person_id=bea)] == [True]
    again = await relay.send_to_volunteers(
        db, actor_id=coordinator, organisation_id=org, mission_id=mission, body="Encore", now=NOW
    )
    assert again == relay.Sent(1, ("Bea",))

    answered = await relay.answer_organisation(db, person_id=camille, body="Bien reçu", now=NOW)
    assert answered is not None and answered.organisation_id == org
    [(to, _chat, payload)] = await _outbox(db, "relay_to_organisation")
    assert to == coordinator and payload["volunteer_name"] == "Camille"
    assert payload["text"] == "Bien reçu"

    # The group copy is recorded by the dispatcher; a coordinator's reply to it answers her.
    r = schema.relay_messages
    async with db.transaction("test") as conn:
        await conn.execute(
            update(r)
            .where(r.c.id == payload["relay_id"])
            .values(group_chat_id=GROUP, group_message_id=77)
        )
    back = await relay.answer_in_group(
        db, actor_id=coordinator, chat_id=GROUP, message_id=77, body="Parfait", now=NOW
    )
    assert back == relay.Sent(1, ())
    assert (await _outbox(db, "relay_to_volunteer"))[-1][0] == camille
    log = schema.audit_log
    async with db.reading("test") as conn:
        actions = list(await conn.scalars(select(log.c.action).where(log.c.action.like("relay.%"))))
    assert actions.count("relay.sent") == 3 and "relay.answered" in actions


async def test_an_sms_long_after_the_relay_or_from_a_stranger_is_not_an_answer(
    db: Database,
) -> None:
    from datetime import timedelta

    org, coordinator, mission, camille, bea = await _mission_with_two(db)
    assert await relay.answer_organisation(db, person_id=camille, body="?", now=NOW) is None
    await relay.send_to_volunteers(
        db,
        actor_id=coordinator,
        organisation_id=org,
        mission_id=mission,
        person_id=bea,
        body="Hi",
        now=NOW,
    )
    assert not await relay.awaiting_answer(db, person_id=camille, now=NOW)
    assert await relay.awaiting_answer(db, person_id=bea, now=NOW)
    assert not await relay.awaiting_answer(db, person_id=bea, now=NOW + timedelta(days=8))


def test_a_relayed_sms_takes_two_parts_at_most_and_says_when_it_was_cut() -> None:
    for locale in ("fr", "en"):
        t = Translator(locale)
        payload = {"organisation_name": "Mairie de Saint-Dizier", "text": MESSAGE * 20}
        long = render_notification("relay_to_volunteer", payload, t, NOW)
        assert segments(long) == 2 and "..." in long
        short = render_notification("relay_to_volunteer", {**payload, "text": "Merci"}, t, NOW)
        assert segments(short) == 1 and "Mairie de Saint-Dizier" in short and "Merci" in short


# ---- end to end: Telegram and SMS together -----------------------------------------------


async def reply_to(bot: Bot, user_id: int, message: SentMessage, text: str) -> list[SentMessage]:
    """The user answers `message` with Telegram's Reply; returns what that chat got since."""
    before = len(bot.double.messages[message.chat_id])
    await bot.settle(bot.double.send_text(user_id, text, message.chat_id, reply_to=message))
    await finished(bot)
    await bot.drain()
    return bot.double.messages[message.chat_id][before:]


async def relay_from_group(bot: Bot, text: str) -> list[SentMessage]:
    """The coordinator sends /message in the group to every volunteer of the mission."""
    await bot.drain()  # the applications' posts first
    [question] = await say(bot, COORDINATOR, "/message", chat_id=GROUP)
    mission = question.buttons[0][0]
    assert mission["text"].startswith("Assesseur")
    await tap_action(bot, COORDINATOR, question, PICK_MISSION)
    await tap_action(bot, COORDINATOR, question, PICK_SLOT, slot=0)
    [prompt] = await tap_action(bot, COORDINATOR, question, PICK_PERSON, person=0)
    assert "Reply to this message" in prompt.text
    return await reply_to(bot, COORDINATOR, prompt, text)


async def applied_on_telegram(bot: Bot, mission: int) -> Person:
    """Camille, who uses Telegram, applied for the mission's first slot: a volunteer of the
    mission, whom its relays reach."""
    camille = await volunteer(bot.db, VOLUNTEER, "Camille")
    slot = await first_slot(bot.db, mission)
    await applications.apply(bot.db, person_id=camille.id, slot_id=slot, now=NOW)
    return camille


def assert_nothing_private(bot: Bot, twilio: TwilioDouble) -> None:
    """No phone number and no username in any message of either double."""
    bodies = [m.text for chat in bot.double.messages.values() for m in chat]
    bodies += [sms.body for inbox in twilio.inbox.values() for sms in inbox]
    for body in bodies:
        assert "612345678" not in body and "+33" not in body and USERNAME not in body, body


async def test_a_coordinator_and_volunteers_talk_through_the_bot_by_telegram_and_sms(
    tmp_path: Path,
) -> None:
    async with renfort_with_sms(tmp_path) as (bot, twilio):
        organisation = await coordinator_with_group(bot)
        bot.double.users[VOLUNTEER]["username"] = USERNAME
        mission = await polling_station(bot.db, organisation.id, now=NOW)
        await texts(twilio, "Hello, Marie 52100", "MISSIONS", "1.1")
        camille = await applied_on_telegram(bot, mission)

        [sent] = await relay_from_group(bot, MESSAGE)
        assert "Sent to 2 volunteers" in sent.text
        by_sms = twilio.inbox[PHONE][-1]
        assert by_sms.body.startswith("Renfort") and "reply to answer" in by_sms.body
        assert "Mairie de Saint-Dizier" in by_sms.body and "7h45" in by_sms.body
        relayed = bot.double.find(VOLUNTEER, "7h45")
        reply_label = "↩️ " + Translator(camille.locale or "fr")._("Reply")
        assert "Mairie de Saint-Dizier" in relayed.text and relayed.button_texts() == [reply_label]

        # The SMS resident answers in free text: it reaches the group with her first name.
        before = len(bot.double.messages[GROUP])
        [passed] = await texts(twilio, "Je serai la a 8h moins le quart")
        assert "Passed on to Mairie de Saint-Dizier" in passed
        await bot.drain()
        answer = await bot.double.wait_for(GROUP, "moins le quart", after=before)
        assert "Marie (via SMS)" in answer.text and "Assesseur" in answer.text
        # A bare "Oui" answers none of the bot's questions: it is an answer to the group too.
        [passed] = await texts(twilio, "Oui")
        assert "Passed on to Mairie de Saint-Dizier" in passed
        await bot.drain()
        yes = await bot.double.wait_for(GROUP, "Oui", after=before)
        assert "Marie (via SMS)" in yes.text

        # The coordinator replies to it in the group: only Marie gets that.
        [told] = await reply_to(bot, COORDINATOR, answer, "Parfait, merci Marie")
        assert "Sent to 1 volunteer" in told.text
        assert "Parfait, merci Marie" in twilio.inbox[PHONE][-1].body
        assert all("Parfait" not in m.text for m in bot.double.messages[VOLUNTEER])

        # Camille answers in Telegram, once by replying and once with the button.
        before = len(bot.double.messages[GROUP])
        [ok] = await reply_to(bot, VOLUNTEER, relayed, "Bien noté")
        assert "Passed on" in ok.text
        await bot.double.wait_for(GROUP, "Bien noté", after=before)
        assert "Camille" in bot.double.find(GROUP, "Bien noté").text
        [prompt] = await tap_action(bot, VOLUNTEER, relayed, "relay.reply")
        await reply_to(bot, VOLUNTEER, prompt, "Je viens avec mon frère")
        await bot.double.wait_for(GROUP, "mon frère", after=before)

        assert_nothing_private(bot, twilio)


async def test_a_blocked_organisation_cannot_write_any_more(tmp_path: Path) -> None:
    async with renfort_with_sms(tmp_path) as (bot, twilio):
        organisation = await coordinator_with_group(bot)
        mission = await polling_station(bot.db, organisation.id, now=NOW)
        await applied_on_telegram(bot, mission)
        await relay_from_group(bot, "Premier message")
        assert any("Premier message" in t for t in bot.double.texts(VOLUNTEER))

        [choices] = await say(bot, VOLUNTEER, "/block")
        assert choices.button_texts() == ["🚫 Mairie de Saint-Dizier"]
        await tap_action(bot, VOLUNTEER, choices, BLOCK)
        assert "can no longer send you messages" in choices.text

        received = len(bot.double.messages[VOLUNTEER])
        [told] = await relay_from_group(bot, "Second message")
        assert "Sent to 0 volunteers" in told.text
        assert "Camille: this volunteer does not accept messages from you" in told.text
        assert len(bot.double.messages[VOLUNTEER]) == received

        [again] = await say(bot, VOLUNTEER, "/unblock")
        assert again.button_texts() == ["✅ Mairie de Saint-Dizier"]
        assert_nothing_private(bot, twilio)


async def test_a_text_longer_than_a_relay_is_cut_and_the_coordinator_told(
    tmp_path: Path,
) -> None:
    async with renfort_with_sms(tmp_path) as (bot, _twilio):
        organisation = await coordinator_with_group(bot)
        mission = await polling_station(bot.db, organisation.id, now=NOW)
        await applied_on_telegram(bot, mission)

        [sent] = await relay_from_group(bot, "Rendez-vous 7h45. " + "bla " * 1000)

        assert "Sent to 1 volunteer" in sent.text
        assert f"Only the first {relay.MAX_BODY} characters were passed on" in sent.text
        relayed = bot.double.find(VOLUNTEER, "7h45")
        assert len(relayed.text) <= 4096 and "bla bla" in relayed.text
