"""A person's data: /mydata shows it all, /forget (or OUBLIER by SMS) erases it and frees
their places, and old relay texts and notes are purged."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

from sqlalchemy import func, select

from bot.domain import ApplicationStatus
from bot.services import applications, board_links, organisations, phones, privacy, purge, relay
from bot.services.feedback import record_feedback
from storage import schema
from storage.database import Database
from tests.conftest import NOW
from tests.factories import commune, first_slot, polling_station, volunteer
from tests.organiser_steps import VOLUNTEER, meet_everyone, person_of, say, tap_action
from tests.test_sms_end_to_end import PHONE, renfort_with_sms, texts


async def _one_place(db: Database) -> tuple[int, int, int, int, int]:
    """(organisation, coordinator, slot, Camille holding the place, Bea on the waitlist)."""
    org = await commune(db)
    coordinator = await volunteer(db, 1, "Nadia")
    await organisations.join(db, coordinator.id, org.invite_code)
    mission = await polling_station(db, org.id, now=NOW, capacity=1)
    slot = await first_slot(db, mission)
    camille = await volunteer(db, 2, "Camille")
    bea = await volunteer(db, 3, "Bea")
    for person in (camille, bea):
        await applications.apply(db, person_id=person.id, slot_id=slot, now=NOW)
    await relay.send_to_volunteers(
        db, actor_id=coordinator.id, organisation_id=org.id, mission_id=mission, body="Hi", now=NOW
    )
    return org.id, coordinator.id, slot, camille.id, bea.id


async def test_the_export_holds_the_person_their_applications_and_messages(db: Database) -> None:
    _org, _coordinator, slot, camille, _bea = await _one_place(db)
    document = await privacy.export(db, person_id=camille)
    parsed = json.loads(json.dumps(document))
    assert parsed["person"]["first_name"] == "Camille"
    [application] = parsed["applications"]
    assert application["slot_id"] == slot and application["history"][0]["to_status"] == "pending"
    assert [m["body"] for m in parsed["relay_messages"]] == ["Hi"]
    assert any(a["action"] == "application.pending" for a in parsed["audit_log"])


async def test_forgetting_wipes_the_person_and_offers_their_place(db: Database) -> None:
    _org, _coordinator, _slot, camille, bea = await _one_place(db)
    done = await privacy.forget(db, person_id=camille, now=NOW)
    assert done.cancelled == 1
    p, a, r = schema.people, schema.applications, schema.relay_messages
    async with db.reading("test") as conn:
        row = (await conn.execute(select(p).where(p.c.id == camille))).one()
        statuses = dict((await conn.execute(select(a.c.person_id, a.c.status))).tuples().all())
        offered = await conn.scalar(select(a.c.offer_expires_at).where(a.c.person_id == bea))
        bodies = list(await conn.scalars(select(r.c.body).where(r.c.person_id == camille)))
        logged = await conn.scalar(
            select(schema.audit_log.c.id).where(schema.audit_log.c.action == "privacy.forgotten")
        )
    assert row.first_name == "" and row.telegram_user_id is None and row.phone is None
    assert row.latitude is None and row.interests == [] and row.erased_at is not None
    assert statuses[camille] == ApplicationStatus.CANCELLED  # kept, as an anonymous count
    assert offered is not None  # the waitlist was offered the place
    assert bodies == [""] and logged is not None


async def test_the_purge_deletes_old_texts_once_a_day(db: Database) -> None:
    org, coordinator, _slot, camille, _bea = await _one_place(db)
    later = NOW + timedelta(days=800)
    await record_feedback(
        db,
        person_id=camille,
        application_id=1,
        good=True,
        note="Super",
        now=NOW + timedelta(days=7),
    )
    assert purge.months_before(later, 24) > NOW
    assert await purge.due(db, later)
    assert await purge.purge(db, now=later, months=24) == purge.Purged(2, 1)
    assert not await purge.due(db, later + timedelta(hours=1))
    assert await purge.purge(db, now=later, months=24) == purge.Purged(0, 0)
    r = schema.relay_messages
    async with db.reading("test") as conn:
        assert set(await conn.scalars(select(r.c.body))) == {""}
    # Recent missions keep their texts.
    await relay.send_to_volunteers(
        db, actor_id=coordinator, organisation_id=org, mission_id=1, body="Hi", now=NOW
    )
    assert await purge.purge(db, now=NOW + timedelta(days=30), months=24) == purge.Purged(0, 0)


async def test_the_purge_deletes_board_links_and_sessions_a_day_after_they_expired(
    db: Database,
) -> None:
    _org, coordinator, _slot, _camille, _bea = await _one_place(db)
    fresh = await board_links.issue_link(db, person_id=coordinator, organisation_id=None, now=NOW)
    await board_links.redeem_link(db, fresh, now=NOW)  # a 12-hour session
    await board_links.issue_link(db, person_id=coordinator, organisation_id=None, now=NOW)
    # The next day, within the day kept after expiry: nothing goes yet.
    purged = await purge.purge(db, now=NOW + timedelta(hours=13), months=24)
    assert purged.board_keys == 0
    purged = await purge.purge(db, now=NOW + timedelta(days=2), months=24)
    assert purged.board_keys == 3
    async with db.reading("test") as conn:
        for table in (schema.board_links, schema.board_sessions):
            assert await conn.scalar(select(func.count()).select_from(table)) == 0


async def test_mydata_sends_a_json_document_and_forget_makes_a_stranger(tmp_path: Path) -> None:
    async with renfort_with_sms(tmp_path) as (bot, twilio):
        meet_everyone(bot)
        org = await commune(bot.db)
        mission = await polling_station(bot.db, org.id, now=NOW, capacity=1)
        camille = await volunteer(bot.db, VOLUNTEER, "Camille")
        await applications.apply(
            bot.db, person_id=camille.id, slot_id=await first_slot(bot.db, mission), now=NOW
        )
        [sent] = await say(bot, VOLUNTEER, "/mydata")
        assert sent.document is not None and sent.document_data is not None
        document = json.loads(sent.document_data)
        assert document["person"]["first_name"] == "Camille"
        assert len(document["applications"]) == 1

        [question] = await say(bot, VOLUNTEER, "/forget")
        await tap_action(bot, VOLUNTEER, question, "privacy.forget")
        assert "erased" in question.text
        assert await applications.applications_of(bot.db, camille.id, now=NOW) == []
        await say(bot, VOLUNTEER, "/start")
        stranger = await person_of(bot, VOLUNTEER)
        assert stranger.id != camille.id and not stranger.registered

        await texts(twilio, "Hello, Marie 52100")
        [ask] = await texts(twilio, "OUBLIER")
        assert "YES" in ask
        [kept] = await texts(twilio, "NON")
        assert "Nothing was erased" in kept
        await texts(twilio, "FORGET")
        [gone] = await texts(twilio, "OUI")
        assert "erased" in gone
        assert await phones.find_by_phone(bot.db, PHONE) is None
        [welcome] = await texts(twilio, "Bonjour")
        assert "Camille 52100" in welcome and "ENGLISH" in welcome
