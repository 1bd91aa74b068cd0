"""Territory alerts end to end: a referent alerts the volunteers of the territory with
/alert; they answer available on Telegram or by SMS; the organisations of the territory see
who is available (first name and distance, never a phone number) and offer a slot; the
volunteer accepts and holds an approved application. Caps shared with callouts, quiet hours
and /block hold as for callouts."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, insert, select, update

from bot.actions import ALERT_OFFER_ACCEPT, ALERT_OFFER_SLOT, ALERT_YES
from bot.domain import ApplicationStatus
from bot.services import alert_offers, applications, moderation, organisations, territory_alerts
from bot.services.errors import NotAllowed
from bot.services.territory_alerts import AlertSpec
from handlers.telegram.alert_answers import OFFER_PICK
from handlers.telegram.territory_alert import (
    DOMAINS_DONE,
    LAUNCH,
    RADIUS,
    REFRESH,
    URGENT,
    WHOLE,
)
from storage import schema
from storage.database import Database
from tests.conftest import NOW
from tests.factories import SAINT_DIZIER, commune, first_slot, polling_station, volunteer
from tests.harness import FakeClock, running_bot, sqlite_file_url
from tests.organiser_steps import (
    COORDINATOR,
    GROUP,
    STRANGER,
    coordinator_with_group,
    meet_everyone,
    say,
    tap_action,
    telegram_volunteer,
)
from tests.test_callouts import person
from tests.test_callouts_chat import sms_volunteer
from tests.test_sms_end_to_end import renfort_with_sms

REFERENT = 70
PHONE = "+33600000077"
PARIS = ZoneInfo("Europe/Paris")
FLOOD = "Crue de la Marne : aide pour remplir des sacs de sable."
P, OUT, AUDIT = schema.people, schema.outbox, schema.audit_log


async def test_available_volunteers_are_offered_a_slot_and_accept_in_chat_and_by_sms(
    tmp_path: Path,
) -> None:
    async with renfort_with_sms(tmp_path) as (bot, twilio):
        mairie = await coordinator_with_group(bot)
        slot = await first_slot(bot.db, await polling_station(bot.db, mairie.id, now=NOW))
        await telegram_volunteer(bot, REFERENT, "Régine")
        await moderation.add_referent(bot.db, territory="52", telegram_user_id=REFERENT)
        camille = await telegram_volunteer(bot, 1001, "Camille")
        paul = await sms_volunteer(bot, PHONE, "Paul")

        [question] = await say(bot, REFERENT, "/alert")
        assert "What is happening" in question.text
        await say(bot, REFERENT, FLOOD)
        [radius] = await say(bot, REFERENT, "52100")
        assert "within how many kilometres?" in radius.text
        await tap_action(bot, REFERENT, radius, RADIUS, km=10)
        await tap_action(bot, REFERENT, radius, DOMAINS_DONE)
        await tap_action(bot, REFERENT, radius, URGENT, u=False)
        assert "Send this alert?" in radius.text and "people will be alerted." in radius.text
        await tap_action(bot, REFERENT, radius, LAUNCH)
        assert "people alerted" in radius.text and "Available: 0" in radius.text

        await bot.drain()
        alert = await bot.double.wait_for(1001, "sacs de sable")
        await tap_action(bot, 1001, alert, ALERT_YES)
        assert "organisations nearby know you are available" in alert.text
        assert "sacs de sable" in twilio.inbox[PHONE][-1].body
        exchange = await twilio.text(PHONE, "OUI")
        assert "may offer you a mission" in exchange.text

        await bot.drain()
        for name in ("Camille", "Paul"):
            card = await bot.double.wait_for(GROUP, f"<b>{name}</b>")
            assert PHONE not in card.text and "available" in card.text
            [slots] = await tap_action(bot, COORDINATOR, card, ALERT_OFFER_SLOT)
            assert "Which slot do you offer?" in slots.text
            await tap_action(bot, COORDINATOR, slots, OFFER_PICK, s=slot)
            assert f"Offer sent to {name}" in slots.text
        await bot.drain()

        offer = await bot.double.wait_for(1001, "offers you a place")
        await tap_action(bot, 1001, offer, ALERT_OFFER_ACCEPT)
        assert "You're on the team for <b>Assesseur" in offer.text
        assert "offers you a place" in twilio.inbox[PHONE][-1].body
        accepted = await twilio.text(PHONE, "YES")
        assert "on the team for Assesseur" in accepted.text

        for user in (camille, paul):
            [mine] = await applications.applications_of(bot.db, user, now=NOW)
            assert (mine.slot_id, mine.status) == (slot, ApplicationStatus.APPROVED)
        await tap_action(bot, REFERENT, radius, REFRESH)
        assert "Available: 2" in radius.text and "Slots offered: 2 · accepted: 2" in radius.text
        assert "• Camille" in radius.text and "• Paul" in radius.text
        async with bot.db.reading("test") as conn:
            actions = sorted(
                await conn.scalars(select(AUDIT.c.action).where(AUDIT.c.action.like("%alert%")))
            )
        assert actions == [
            "alert_offer.accepted",
            "alert_offer.accepted",
            "alert_offer.made",
            "alert_offer.made",
            "territory_alert.available",
            "territory_alert.available",
            "territory_alert.launched",
        ]


async def test_only_a_referent_can_alert(tmp_path: Path) -> None:
    async with running_bot(sqlite_file_url(tmp_path), FakeClock(NOW), renfort_locale="en") as bot:
        await coordinator_with_group(bot)
        await telegram_volunteer(bot, STRANGER, "Sam")
        [refused] = await say(bot, STRANGER, "/alert")
        assert "Only a referent of a territory can alert its volunteers." in refused.text
        [in_group] = await say(bot, COORDINATOR, "/alert", chat_id=GROUP)
        assert "private chat" in in_group.text


async def scene(db: Database) -> tuple[int, int, int, int]:
    """A referent of the Haute-Marne and a commune with a slot; returns their ids."""
    referent = await volunteer(db, REFERENT, "Régine")
    await moderation.add_referent(db, territory="52", person_id=referent.id)
    mairie = await commune(db)
    coordinator = await volunteer(db, 1, "Nadia")
    await organisations.join(db, coordinator.id, mairie.invite_code)
    slot = await first_slot(db, await polling_station(db, mairie.id, now=NOW))
    return referent.id, coordinator.id, slot, mairie.id


async def resident(db: Database, km: float) -> int:
    """A volunteer `km` north of Saint-Dizier, in the Haute-Marne, any domain."""
    who = await person(db, km, interests=())
    async with db.transaction("test") as conn:
        await conn.execute(update(P).where(P.c.id == who).values(postcode="52100"))
    return who


def whole(urgent: bool = False) -> AlertSpec:
    return AlertSpec(text=FLOOD, point=None, urgent=urgent)


async def asked(db: Database, alert_id: int) -> set[int]:
    r = schema.alert_recipients
    async with db.reading("test") as conn:
        return set(await conn.scalars(select(r.c.person_id).where(r.c.alert_id == alert_id)))


async def test_a_blocked_organisation_hears_nothing_and_cannot_offer(db: Database) -> None:
    referent, coordinator, slot, mairie_id = await scene(db)
    blocker = await resident(db, 1)
    async with db.transaction("test") as conn:
        await conn.execute(
            insert(schema.relay_blocks).values(
                person_id=blocker, organisation_id=mairie_id, created_at=NOW
            )
        )
    view = await territory_alerts.launch(
        db, referent_id=referent, spec=whole(), now=NOW, zone=PARIS
    )
    assert blocker in await asked(db, view.id)  # a referent's alert is not the organisation's
    await territory_alerts.answer(db, person_id=blocker, alert_id=view.id, available=True, now=NOW)
    async with db.reading("test") as conn:
        told = await conn.scalar(
            select(func.count()).where(OUT.c.kind == "alert_volunteer_available")
        )
    assert told == 0
    [recipient] = (
        await territory_alerts.alert_view(db, alert_id=view.id, referent_id=referent)
    ).people
    with pytest.raises(NotAllowed) as refused:
        await alert_offers.offer(
            db, actor_id=coordinator, recipient_id=recipient.recipient_id, slot_id=slot, now=NOW
        )
    assert refused.value.code == "volunteer_blocked"


async def test_alerts_share_the_weekly_cap_with_callouts_and_wait_for_morning(
    db: Database,
) -> None:
    referent, _coordinator, slot, mairie_id = await scene(db)
    rested, busy = await resident(db, 1), await resident(db, 2)
    for day in range(2):
        await territory_alerts.launch(
            db,
            referent_id=referent,
            spec=whole(urgent=True),
            now=NOW + timedelta(days=day),
            zone=PARIS,
        )
    # A third alert in the week for `busy` comes from a callout.
    c, r = schema.callouts, schema.callout_recipients
    async with db.transaction("test") as conn:
        callout_id = (
            await conn.execute(
                insert(c)
                .values(
                    organisation_id=mairie_id,
                    slot_id=slot,
                    needed=1,
                    domains=[],
                    channels=[],
                    created_at=NOW,
                )
                .returning(c.c.id)
            )
        ).scalar_one()
        await conn.execute(
            insert(r).values(callout_id=callout_id, person_id=busy, wave=1, rank=1, created_at=NOW)
        )
    night = datetime(2027, 6, 9, 23, 30, tzinfo=PARIS)
    third = await territory_alerts.launch(
        db, referent_id=referent, spec=whole(), now=night, zone=PARIS
    )
    reached = await asked(db, third.id)
    assert rested in reached and busy not in reached
    async with db.reading("test") as conn:
        held = set(
            await conn.scalars(
                select(OUT.c.not_before).where(
                    OUT.c.kind == "territory_alert",
                    OUT.c.payload["alert_id"].as_integer() == third.id,
                )
            )
        )
    assert held == {datetime(2027, 6, 10, 8, 0, tzinfo=PARIS).astimezone(ZoneInfo("UTC"))}


async def test_outside_the_territory_is_refused(db: Database) -> None:
    referent = (await scene(db))[0]
    spec = AlertSpec(FLOOD, SAINT_DIZIER, "Paris", "75001", 10)
    with pytest.raises(NotAllowed) as refused:
        await territory_alerts.preview(db, referent_id=referent, spec=spec, now=NOW)
    assert refused.value.code == "outside_territory"


async def test_a_night_alert_for_the_whole_territory_waits_for_morning(tmp_path: Path) -> None:
    night = datetime(2027, 6, 9, 23, 30, tzinfo=PARIS)
    async with running_bot(sqlite_file_url(tmp_path), FakeClock(night), renfort_locale="en") as bot:
        meet_everyone(bot)
        await telegram_volunteer(bot, REFERENT, "Régine")
        await moderation.add_referent(bot.db, territory="52", telegram_user_id=REFERENT)
        await telegram_volunteer(bot, 1001, "Camille")
        helped = await say(bot, REFERENT, "/help")
        assert "/alert to alert its volunteers" in helped[-1].text
        await say(bot, REFERENT, "/alert")
        [where] = await say(bot, REFERENT, FLOOD)
        await tap_action(bot, REFERENT, where, WHOLE)
        await tap_action(bot, REFERENT, where, DOMAINS_DONE)
        await tap_action(bot, REFERENT, where, URGENT, u=False)
        assert "the whole territory" in where.text and "1 person will be alerted." in where.text
        assert "It is night: the alert will go out at 08:00." in where.text
        await tap_action(bot, REFERENT, where, LAUNCH)
        async with bot.db.reading("test") as conn:
            held = list(
                await conn.scalars(select(OUT.c.not_before).where(OUT.c.kind == "territory_alert"))
            )
        assert held == [datetime(2027, 6, 10, 8, 0, tzinfo=PARIS).astimezone(ZoneInfo("UTC"))]


async def test_a_radius_reaches_people_who_shared_a_location_the_whole_territory_cannot(
    db: Database,
) -> None:
    referent = (await scene(db))[0]
    located = await person(db, 1, interests=())  # a shared location: no postcode
    parisian = await resident(db, 2)
    async with db.transaction("test") as conn:  # lives in Paris, registered near here
        await conn.execute(update(P).where(P.c.id == parisian).values(postcode="75001"))
    near = AlertSpec(FLOOD, SAINT_DIZIER, "Saint-Dizier", "52100", 10)
    around = await territory_alerts.launch(db, referent_id=referent, spec=near, now=NOW, zone=PARIS)
    assert located in await asked(db, around.id) and parisian not in await asked(db, around.id)
    everywhere = await territory_alerts.launch(
        db, referent_id=referent, spec=whole(), now=NOW, zone=PARIS
    )
    assert located not in await asked(db, everywhere.id)
