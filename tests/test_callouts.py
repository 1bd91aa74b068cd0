"""Crisis callouts: who is asked, when, in which waves, and how the yeses fill the need
without ever over-filling, on SQLite and PostgreSQL. Time is given, never slept."""

from __future__ import annotations

import asyncio
import itertools
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, insert, select, update

from bot.domain import ApplicationStatus
from bot.runtime import Renfort
from bot.scheduler.callouts import send_due_waves
from bot.services import applications, callouts, organisations
from bot.services.callouts import Targeting
from bot.services.errors import Conflict, NotAllowed
from handlers.sms.conversation import SmsConversations
from storage import schema
from storage.database import Database
from tests.conftest import NOW
from tests.factories import (
    ELECTION_MORNING,
    SAINT_DIZIER,
    commune,
    first_slot,
    polling_station,
    volunteer,
)
from tests.harness import FakeClock
from tests.sms_steps import Resident, sms_renfort

PARIS = ZoneInfo("Europe/Paris")
KM = 1 / 111.2  # degrees of latitude in a kilometre
NEAR = Targeting(radius_km=10, domains=("emergency",))
_ids = itertools.count(5000)
P, R, OUT, A = schema.people, schema.callout_recipients, schema.outbox, schema.applications


@dataclass
class Scene:
    db: Database
    organisation_id: int
    coordinator_id: int
    slot_id: int


async def scene(db: Database, capacity: int = 10, starts_at: datetime = ELECTION_MORNING) -> Scene:
    org = await commune(db)
    coordinator = await volunteer(db, 1, "Nadia")
    await organisations.join(db, coordinator.id, org.invite_code)
    mission = await polling_station(db, org.id, now=NOW, capacity=capacity, starts_at=starts_at)
    return Scene(db, org.id, coordinator.id, await first_slot(db, mission))


async def person(
    db: Database,
    km: float = 1.0,
    *,
    telegram: bool = True,
    phone: bool = False,
    unreachable: bool = False,
    stopped: bool = False,
    registered: bool = True,
    interests: tuple[str, ...] = ("emergency",),
    no_shows: int = 0,
    attended: int = 0,
) -> int:
    """A volunteer `km` north of the polling station."""
    n = next(_ids)
    values: dict[str, Any] = {
        "first_name": f"V{n}",
        "locale": "fr",
        "telegram_user_id": n if telegram else None,
        "telegram_chat_id": n if telegram else None,
        "telegram_unreachable_at": NOW if unreachable else None,
        "phone": f"+3361{n:07d}" if phone else None,
        "sms_stopped_at": NOW if stopped else None,
        "latitude": SAINT_DIZIER.latitude + km * KM,
        "longitude": SAINT_DIZIER.longitude,
        "interests": list(interests),
        "availability": {},
        "registered_at": NOW - timedelta(days=30) if registered else None,
        "attended_count": attended,
        "no_show_count": no_shows,
        "created_at": NOW,
        "updated_at": NOW,
    }
    async with db.transaction("test_person") as conn:
        return int((await conn.execute(insert(P).values(**values).returning(P.c.id))).scalar_one())


async def launch(
    s: Scene, needed: int = 1, targeting: Targeting = NEAR, now: datetime = NOW
) -> Any:
    return await callouts.launch(
        s.db,
        actor_id=s.coordinator_id,
        slot_id=s.slot_id,
        needed=needed,
        targeting=targeting,
        now=now,
    )


async def asked(db: Database, callout_id: int) -> list[int]:
    """People asked, in rank order."""
    async with db.reading("test") as conn:
        rows = await conn.scalars(
            select(R.c.person_id).where(R.c.callout_id == callout_id).order_by(R.c.rank)
        )
        return list(rows)


async def outbox_statuses(db: Database, callout_id: int) -> dict[str, int]:
    async with db.reading("test") as conn:
        rows = (
            await conn.execute(
                select(OUT.c.status, func.count())
                .join(R, R.c.outbox_id == OUT.c.id)
                .where(R.c.callout_id == callout_id)
                .group_by(OUT.c.status)
            )
        ).all()
    return {r[0]: int(r[1]) for r in rows}


def job_renfort(db: Database) -> Renfort:
    return sms_renfort(db, FakeClock(NOW))


# ---- targeting -----------------------------------------------------------------------


async def test_targeting_keeps_reachable_free_interested_people_within_the_radius(
    db: Database,
) -> None:
    s = await scene(db)
    wanted = [
        await person(db, 1),
        await person(db, 2, telegram=False, phone=True),  # SMS only
        await person(db, 3, unreachable=True, phone=True),  # blocked the bot, has SMS
    ]
    await person(db, 4, unreachable=True)  # blocked the bot, no phone
    await person(db, 4, telegram=False, phone=True, stopped=True)  # sent STOP
    await person(db, 30)  # too far
    await person(db, 2, interests=("culture",))  # not interested
    await person(db, 2, registered=False)
    busy = await person(db, 2)
    other = await polling_station(db, s.organisation_id, now=NOW, title="Bureau 4")
    await applications.apply(db, person_id=busy, slot_id=await first_slot(db, other), now=NOW)

    assert await callouts.preview(
        db, organisation_id=s.organisation_id, slot_id=s.slot_id, targeting=NEAR, now=NOW
    ) == len(wanted)
    sms_only = Targeting(radius_km=10, domains=("emergency",), channels=("sms",))
    assert (
        await callouts.preview(
            db, organisation_id=s.organisation_id, slot_id=s.slot_id, targeting=sms_only, now=NOW
        )
        == 2
    )
    anyone_anywhere = Targeting(radius_km=None, domains=())
    assert (
        await callouts.preview(
            db,
            organisation_id=s.organisation_id,
            slot_id=s.slot_id,
            targeting=anyone_anywhere,
            now=NOW,
        )
        == len(wanted) + 3  # the far one, the one into culture, and the coordinator
    )


async def test_nobody_is_asked_more_than_three_times_a_week(db: Database) -> None:
    s = await scene(db, capacity=50)
    tired = await person(db, 1)
    fresh = await person(db, 5)
    async with db.transaction("test") as conn:
        for days_ago in (1, 2, 6):
            cid = (
                await conn.execute(
                    insert(schema.callouts)
                    .values(
                        organisation_id=s.organisation_id,
                        slot_id=s.slot_id,
                        needed=1,
                        status="stopped",
                        domains=[],
                        channels=["telegram"],
                        urgent=False,
                        wave_factor=3,
                        wave_wait_minutes=15,
                        waves_sent=1,
                        created_at=NOW,
                        updated_at=NOW,
                    )
                    .returning(schema.callouts.c.id)
                )
            ).scalar_one()
            await conn.execute(
                insert(R).values(
                    callout_id=cid,
                    person_id=tired,
                    wave=1,
                    rank=1,
                    created_at=NOW - timedelta(days=days_ago),
                )
            )

    view = await launch(s, needed=1)

    assert await asked(db, view.id) == [fresh]
    # A week after the first of them, one slot of the cap is free again.
    later = NOW + timedelta(days=1, hours=1)
    # A week after the oldest of the three, `tired` may be asked again (and `fresh`, asked
    # once, still may: a preview does not know about this callout).
    assert (
        await callouts.preview(
            db, organisation_id=s.organisation_id, slot_id=s.slot_id, targeting=NEAR, now=later
        )
        == 2
    )


async def test_nearest_and_most_reliable_are_asked_first(db: Database) -> None:
    s = await scene(db)
    far = await person(db, 7)
    unreliable = await person(db, 0.5, no_shows=3)
    near_new = await person(db, 1.2)
    near_trusted = await person(db, 1.4, attended=5)

    view = await launch(s, needed=2)  # a first wave of six: everyone

    assert await asked(db, view.id) == [near_trusted, near_new, far, unreliable]


async def test_a_non_member_cannot_launch(db: Database) -> None:
    s = await scene(db)
    stranger = await person(db, 1)
    with pytest.raises(NotAllowed, match="not_member"):
        await callouts.launch(
            db, actor_id=stranger, slot_id=s.slot_id, needed=1, targeting=NEAR, now=NOW
        )


# ---- quiet hours and waves -----------------------------------------------------------


async def test_quiet_hours_hold_a_wave_until_eight_unless_urgent(db: Database) -> None:
    s = await scene(db)
    await person(db, 1)
    night = datetime(2027, 6, 7, 23, 30, tzinfo=PARIS)

    held = await launch(s, needed=1, now=night)
    assert (held.waves_sent, held.asked) == (0, 0)
    assert held.next_wave_at == datetime(2027, 6, 8, 8, 0, tzinfo=PARIS)
    renfort = job_renfort(db)
    assert await send_due_waves(renfort, night + timedelta(hours=1)) == 0
    assert await send_due_waves(renfort, datetime(2027, 6, 8, 8, 0, tzinfo=PARIS)) == 1
    assert (await callouts.get_callout(db, held.id)).waves_sent == 1

    await callouts.stop(db, actor_id=s.coordinator_id, callout_id=held.id, now=night)
    await person(db, 2)
    urgent = Targeting(radius_km=10, domains=("emergency",), urgent=True)
    at_once = await launch(s, needed=1, targeting=urgent, now=night)
    assert (at_once.waves_sent, at_once.asked) == (1, 2)


async def test_first_wave_asks_three_per_place_then_more_after_the_wait(db: Database) -> None:
    s = await scene(db)
    people = [await person(db, 0.5 + i) for i in range(9)]

    view = await launch(s, needed=2)
    assert view.asked == 6 and view.pool_left == 3 and view.waves_sent == 1
    assert await asked(db, view.id) == people[:6]
    assert view.next_wave_at == NOW + timedelta(minutes=15)

    renfort = job_renfort(db)
    assert await send_due_waves(renfort, NOW + timedelta(minutes=14)) == 0
    assert await send_due_waves(renfort, NOW + timedelta(minutes=15)) == 2
    assert await send_due_waves(renfort, NOW + timedelta(minutes=15)) == 0  # claimed once
    after = await callouts.get_callout(db, view.id)
    assert (after.waves_sent, after.asked, after.pool_left) == (2, 8, 1)


async def test_noes_that_leave_too_few_possible_yeses_bring_the_next_wave_forward(
    db: Database,
) -> None:
    s = await scene(db)
    first = [await person(db, 1 + i) for i in range(3)]
    await person(db, 8)
    view = await launch(s, needed=1)
    later = NOW + timedelta(minutes=2)

    for who in first[:2]:
        result = await callouts.answer(
            db, person_id=who, callout_id=view.id, available=False, now=later
        )
        assert result.outcome == "declined"
        assert result.view.next_wave_at == NOW + timedelta(minutes=15)
    result = await callouts.answer(
        db, person_id=first[2], callout_id=view.id, available=False, now=later
    )
    assert result.view.next_wave_at == later
    assert (await callouts.get_callout(db, view.id)).no == 3
    assert await send_due_waves(job_renfort(db), later) == 1


# ---- answers -------------------------------------------------------------------------


async def test_yeses_fill_first_come_first_served_then_unsent_calls_are_withdrawn(
    db: Database,
) -> None:
    s = await scene(db, capacity=10)
    people = [await person(db, 1 + i * 0.1) for i in range(8)]
    view = await launch(s, needed=2)  # six asked, none sent yet
    assert await outbox_statuses(db, view.id) == {"pending": 6}
    async with db.transaction("test") as conn:  # two already went out
        sent = select(R.c.outbox_id).where(R.c.callout_id == view.id, R.c.rank <= 2)
        await conn.execute(update(OUT).where(OUT.c.id.in_(sent)).values(status="sent"))
    later = NOW + timedelta(minutes=3)

    one = await callouts.answer(
        db, person_id=people[1], callout_id=view.id, available=True, now=later
    )
    two = await callouts.answer(
        db, person_id=people[0], callout_id=view.id, available=True, now=later
    )
    late = await callouts.answer(
        db, person_id=people[2], callout_id=view.id, available=True, now=later
    )

    assert (one.outcome, two.outcome, late.outcome) == ("taken", "taken", "waitlisted")
    assert one.view.status == "active" and two.view.status == "filled"
    assert await outbox_statuses(db, view.id) == {"sent": 2, "cancelled": 4}
    assert await send_due_waves(job_renfort(db), NOW + timedelta(hours=1)) == 0
    mine = await applications.applications_of(db, people[2], now=later)
    assert [a.status for a in mine] == [ApplicationStatus.WAITLISTED]
    theirs = await applications.applications_of(db, people[1], now=later)
    assert [a.status for a in theirs] == [ApplicationStatus.APPROVED]
    again = await callouts.answer(
        db, person_id=people[1], callout_id=view.id, available=True, now=later
    )
    assert again.outcome == "already"
    assert await callouts.open_callout_question(db, people[3], later) is None  # withdrawn


async def test_simultaneous_yeses_never_overfill_the_slot(db: Database) -> None:
    s = await scene(db, capacity=3)
    people = [await person(db, 1 + i * 0.1) for i in range(9)]
    view = await launch(s, needed=3)
    assert view.asked == 9

    results = await asyncio.gather(
        *(
            callouts.answer(db, person_id=p, callout_id=view.id, available=True, now=NOW)
            for p in people
        )
    )

    outcomes = sorted(r.outcome for r in results)
    assert outcomes == ["taken"] * 3 + ["waitlisted"] * 6
    final = await callouts.get_callout(db, view.id)
    assert (final.status, final.places_left, final.yes) == ("filled", 0, 9)


async def test_the_slot_running_out_of_places_fills_the_callout(db: Database) -> None:
    s = await scene(db, capacity=1)
    people = [await person(db, 1 + i) for i in range(3)]
    view = await launch(s, needed=3)  # more wanted than places left

    first = await callouts.answer(
        db, person_id=people[0], callout_id=view.id, available=True, now=NOW
    )

    assert first.outcome == "taken" and first.view.status == "filled"


async def test_an_existing_application_on_the_slot_is_approved(db: Database) -> None:
    s = await scene(db, capacity=2)
    who = await person(db, 1)
    view = await launch(s, needed=1)
    pending = await applications.apply(db, person_id=who, slot_id=s.slot_id, now=NOW)

    result = await callouts.answer(db, person_id=who, callout_id=view.id, available=True, now=NOW)

    assert result.outcome == "taken"
    assert (await applications.get_application(db, pending.id)).status == ApplicationStatus.APPROVED


async def test_a_yes_from_someone_committed_elsewhere_at_that_time_is_refused(
    db: Database,
) -> None:
    s = await scene(db, capacity=1)
    elsewhere = await polling_station(db, s.organisation_id, now=NOW, title="Bureau n°5")
    first, busy = await person(db, 1), await person(db, 2)
    view = await launch(s, needed=1, targeting=Targeting(radius_km=10, domains=("emergency",)))
    assert set(await asked(db, view.id)) >= {first, busy}
    await applications.apply(db, person_id=busy, slot_id=await first_slot(db, elsewhere), now=NOW)

    with pytest.raises(Conflict) as open_place:
        await callouts.answer(db, person_id=busy, callout_id=view.id, available=True, now=NOW)
    taken = await callouts.answer(db, person_id=first, callout_id=view.id, available=True, now=NOW)
    with pytest.raises(Conflict) as waiting_list:
        await callouts.answer(db, person_id=busy, callout_id=view.id, available=True, now=NOW)

    assert taken.outcome == "taken" and taken.view.status == "filled"
    for refused in (open_place, waiting_list):
        assert refused.value.code == "overlap"
        assert refused.value.details == {"mission_title": "Bureau n°5"}
    async with db.reading("test_busy") as conn:
        on_slot = await conn.scalar(
            select(func.count()).where(A.c.slot_id == s.slot_id, A.c.person_id == busy)
        )
    assert on_slot == 0, "nothing recorded for the refused yes"


# ---- the coordinator's actions -------------------------------------------------------


async def test_stop_withdraws_unsent_calls_and_closes_the_question(db: Database) -> None:
    s = await scene(db)
    who = await person(db, 1)
    view = await launch(s, needed=1)
    assert (await callouts.open_callout_question(db, who, NOW)) is not None

    stopped = await callouts.stop(db, actor_id=s.coordinator_id, callout_id=view.id, now=NOW)

    assert stopped.status == "stopped"
    assert await outbox_statuses(db, view.id) == {"cancelled": 1}
    assert await callouts.open_callout_question(db, who, NOW) is None
    late = await callouts.answer(db, person_id=who, callout_id=view.id, available=True, now=NOW)
    assert late.outcome == "closed"
    assert await callouts.active_callouts(db, s.organisation_id) == []


async def test_widen_asks_people_further_away_at_once(db: Database) -> None:
    s = await scene(db)
    await person(db, 1)
    further = await person(db, 20)
    view = await launch(s, needed=1)
    assert view.asked == 1 and view.status == "active"

    widened = await callouts.widen(
        db, actor_id=s.coordinator_id, callout_id=view.id, radius_km=30, now=NOW
    )

    assert widened.targeting.radius_km == 30 and widened.waves_sent == 2
    assert (await asked(db, view.id))[-1] == further


async def test_raise_need_reopens_a_filled_callout(db: Database) -> None:
    s = await scene(db)
    people = [await person(db, 1 + i) for i in range(5)]
    view = await launch(s, needed=1)
    await callouts.answer(db, person_id=people[0], callout_id=view.id, available=True, now=NOW)
    assert (await callouts.get_callout(db, view.id)).status == "filled"

    raised = await callouts.raise_need(
        db, actor_id=s.coordinator_id, callout_id=view.id, needed=2, now=NOW
    )

    # The two calls withdrawn unsent when it filled go out again, and a new person is asked.
    assert raised.status == "active" and raised.needed == 2
    assert (raised.waves_sent, raised.asked, raised.pool_left) == (2, 4, 1)
    assert await callouts.open_callout_question(db, people[1], NOW) is not None
    more = await callouts.answer(
        db, person_id=people[3], callout_id=view.id, available=True, now=NOW
    )
    assert more.outcome == "taken" and more.view.status == "filled"


async def test_exhausted_callout_tells_the_coordinators_once(db: Database) -> None:
    s = await scene(db)
    only = await person(db, 1)
    view = await launch(s, needed=2)
    assert view.asked == 1 and view.pool_left == 0

    later = NOW + timedelta(minutes=15)
    renfort = job_renfort(db)
    assert await send_due_waves(renfort, later) == 0
    assert await send_due_waves(renfort, later) == 0
    exhausted = await callouts.get_callout(db, view.id)
    assert exhausted.status == "exhausted" and exhausted.next_wave_at is None
    async with db.reading("test") as conn:
        told = (
            await conn.execute(
                select(OUT.c.person_id, OUT.c.payload).where(OUT.c.kind == "callout_exhausted")
            )
        ).all()
    assert [r.person_id for r in told] == [s.coordinator_id]
    assert told[0].payload["needed"] == 2 and told[0].payload["asked"] == 1
    # A yes still counts while nobody is left to ask.
    result = await callouts.answer(
        db, person_id=only, callout_id=view.id, available=True, now=later
    )
    assert result.outcome == "taken" and result.view.status == "exhausted"


async def test_status_message_follows_changes(db: Database) -> None:
    s = await scene(db)
    who = await person(db, 1)
    view = await launch(s, needed=1)
    assert await callouts.changed_since_render(db) == []  # no status message yet

    await callouts.set_status_message(db, callout_id=view.id, chat_id=-100, message_id=7)
    assert [v.id for v in await callouts.changed_since_render(db)] == [view.id]
    await callouts.mark_rendered(db, view.id, NOW)
    assert await callouts.changed_since_render(db) == []

    await callouts.answer(
        db, person_id=who, callout_id=view.id, available=False, now=NOW + timedelta(minutes=1)
    )
    # Drawn a moment ago: not read again until its turn comes, though it changed.
    assert await callouts.changed_since_render(db, skip=[view.id]) == []
    [changed] = await callouts.changed_since_render(db)
    assert (changed.no, changed.status_message_id) == (1, 7)


# ---- SMS -----------------------------------------------------------------------------


async def test_an_sms_oui_answers_a_callout(sqlite_db: Database) -> None:
    db = sqlite_db
    s = await scene(db)
    clock = FakeClock(NOW)
    resident = Resident(SmsConversations(sms_renfort(db, clock)), phone="+33612340001")
    await resident.registers(postcode="52100")
    async with db.transaction("test") as conn:  # interested in emergencies
        await conn.execute(
            update(P).where(P.c.phone == resident.phone).values(interests=["emergency"])
        )
    view = await launch(s, needed=1, targeting=Targeting(radius_km=10, domains=("emergency",)))
    assert view.asked == 1

    reply = await resident.says("OUI")

    assert "Assesseur" in reply
    final = await callouts.get_callout(db, view.id)
    assert (final.yes, final.status) == (1, "filled")
    async with db.reading("test") as conn:
        resident_id = (
            await conn.execute(select(P.c.id).where(P.c.phone == resident.phone))
        ).scalar_one()
    assert await callouts.open_callout_question(db, int(resident_id), NOW) is None


async def test_a_night_callout_for_an_early_slot_must_be_marked_urgent(db: Database) -> None:
    s = await scene(db)  # the polling station opens at 08:00
    await person(db, 1)
    night = datetime(2027, 6, 13, 2, 0, tzinfo=PARIS)

    with pytest.raises(Conflict) as refused:
        await launch(s, needed=1, now=night)
    assert refused.value.code == "callout_needs_urgent"

    urgent = Targeting(radius_km=10, domains=("emergency",), urgent=True)
    at_once = await launch(s, needed=1, targeting=urgent, now=night)
    assert (at_once.status, at_once.waves_sent) == ("active", 1)
