"""A freed place is offered to the waitlist, on SQLite and PostgreSQL: accepted, declined,
timed out, never offered twice over, reserved against newcomers, alerted near the start."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select

from bot.domain import ApplicationStatus
from bot.i18n import Translator
from bot.scheduler.offers import expire_offers
from bot.scheduler.tick import jobs
from bot.services import applications, missions, offers, organisations
from bot.services.errors import Conflict, NotAllowed
from bot.services.offers import OfferOutcome, offer_window
from bot.services.people import Person
from bot.services.slots import set_capacity
from handlers.sms.gsm7 import segments
from handlers.sms.render import render_notification
from handlers.telegram.render import render
from storage import schema
from storage.database import Database
from tests.conftest import NOW
from tests.factories import ELECTION_MORNING, commune, first_slot, polling_station, volunteer
from tests.test_sms_segments import NAME
from tests.test_sms_segments import payload as segment_payload

WAITING, PENDING = ApplicationStatus.WAITLISTED, ApplicationStatus.PENDING


@dataclass
class Station:
    """A slot, its coordinator, the people holding its places and those waiting."""

    slot_id: int
    coordinator: Person
    holders: list[applications.ApplicationView]
    waiting: list[applications.ApplicationView]


async def station(
    db: Database, *, capacity: int = 1, waiting: int = 2, starts_at: datetime = ELECTION_MORNING
) -> Station:
    org = await commune(db)
    coordinator = await volunteer(db, 99, "Nadia")
    await organisations.join(db, coordinator.id, org.invite_code)
    slot_id = await first_slot(
        db, await polling_station(db, org.id, now=NOW, capacity=capacity, starts_at=starts_at)
    )
    views = []
    for number in range(capacity + waiting):
        person = await volunteer(db, number + 1, f"Volontaire {number + 1}")
        views.append(await applications.apply(db, person_id=person.id, slot_id=slot_id, now=NOW))
    return Station(slot_id, coordinator, views[:capacity], views[capacity:])


async def status(db: Database, application_id: int) -> tuple[str, str | None, datetime | None]:
    view = await applications.get_application(db, application_id)
    return view.status, view.reason, view.offer_expires_at


async def outbox(db: Database, kind: str) -> list[dict[str, Any]]:
    o = schema.outbox
    async with db.reading("test") as conn:
        rows = (
            await conn.execute(
                select(o.c.person_id, o.c.chat_id, o.c.payload)
                .where(o.c.kind == kind)
                .order_by(o.c.id)
            )
        ).all()
    return [{"person_id": r.person_id, "chat_id": r.chat_id, **r.payload} for r in rows]


async def free_places(db: Database, slot_id: int) -> int:
    return (await missions.mission_of_slot(db, slot_id)).slots[0].free


async def cancel(db: Database, view: applications.ApplicationView, now: datetime = NOW) -> None:
    await applications.cancel(db, person_id=view.person_id, application_id=view.id, now=now)


def test_the_offer_window_shrinks_near_the_start_and_stops_within_the_hour() -> None:
    assert offer_window(12, timedelta(days=6)) == timedelta(hours=12)
    assert offer_window(12, timedelta(hours=10)) == timedelta(hours=5)
    assert offer_window(12, timedelta(minutes=61)) == timedelta(minutes=30, seconds=30)
    assert offer_window(12, timedelta(minutes=59)) is None
    assert ("offers", expire_offers) in jobs()


async def test_a_cancellation_offers_the_place_and_accepting_holds_it(db: Database) -> None:
    s = await station(db)
    first, second = s.waiting

    await cancel(db, s.holders[0])

    assert await status(db, first.id) == (WAITING, None, NOW + timedelta(hours=12))
    assert (await status(db, second.id))[2] is None
    assert await free_places(db, s.slot_id) == 0  # reserved for the person offered
    [made] = await outbox(db, "offer_made")
    assert made["person_id"] == first.person_id
    assert made["offer_expires_at"] == (NOW + timedelta(hours=12)).isoformat()

    answer = await offers.accept_offer(
        db, person_id=first.person_id, application_id=first.id, now=NOW + timedelta(hours=1)
    )

    assert answer.outcome == OfferOutcome.ACCEPTED
    assert await status(db, first.id) == (PENDING, "offer_accepted", None)
    submitted = await outbox(db, "application_submitted")
    assert submitted[-1]["application_id"] == first.id
    assert submitted[-1]["person_id"] == s.coordinator.id
    again = await offers.accept_offer(
        db, person_id=first.person_id, application_id=first.id, now=NOW + timedelta(hours=1)
    )
    assert again.outcome == OfferOutcome.CLOSED


async def test_declining_withdraws_and_offers_the_next_person(db: Database) -> None:
    s = await station(db)
    first, second = s.waiting
    await cancel(db, s.holders[0])

    answer = await offers.decline_offer(
        db, person_id=first.person_id, application_id=first.id, now=NOW
    )

    assert answer.outcome == OfferOutcome.DECLINED
    assert await status(db, first.id) == (ApplicationStatus.CANCELLED, "offer_declined", None)
    assert (await status(db, second.id))[:2] == (WAITING, None)
    assert (await status(db, second.id))[2] is not None
    assert [m["person_id"] for m in await outbox(db, "offer_made")] == [
        first.person_id,
        second.person_id,
    ]


async def test_an_offer_nobody_answers_times_out_once_and_goes_to_the_next(db: Database) -> None:
    s = await station(db)
    first, second = s.waiting
    await cancel(db, s.holders[0])
    later = NOW + timedelta(hours=12)

    assert await offers.expire_due_offers(db, now=later - timedelta(seconds=1)) == 0
    assert await offers.expire_due_offers(db, now=later) == 1
    assert await offers.expire_due_offers(db, now=later) == 0  # a second worker, a rerun

    assert await status(db, first.id) == (ApplicationStatus.CANCELLED, "offer_expired", None)
    assert (await status(db, second.id))[2] == later + timedelta(hours=12)
    assert [m["person_id"] for m in await outbox(db, "offer_expired")] == [first.person_id]


async def test_accepting_after_the_deadline_is_too_late_even_before_the_scan(db: Database) -> None:
    s = await station(db)
    first, second = s.waiting
    await cancel(db, s.holders[0])

    answer = await offers.accept_offer(
        db, person_id=first.person_id, application_id=first.id, now=NOW + timedelta(hours=13)
    )

    assert answer.outcome == OfferOutcome.EXPIRED
    assert (await status(db, first.id))[:2] == (ApplicationStatus.CANCELLED, "offer_expired")
    assert (await status(db, second.id))[2] is not None


async def test_two_freed_places_make_two_offers_never_three(db: Database) -> None:
    s = await station(db, capacity=2, waiting=3)

    for holder in s.holders:
        await cancel(db, holder)

    offered = [(await status(db, w.id))[2] is not None for w in s.waiting]
    assert offered == [True, True, False]
    assert await free_places(db, s.slot_id) == 0
    await offers.decline_offer(
        db, person_id=s.waiting[0].person_id, application_id=s.waiting[0].id, now=NOW
    )
    offered = [(await status(db, w.id))[2] is not None for w in s.waiting]
    assert offered == [False, True, True]


async def test_an_offered_place_is_not_taken_by_a_newcomer(db: Database) -> None:
    s = await station(db, waiting=1)
    await cancel(db, s.holders[0])
    newcomer = await volunteer(db, 50, "Zoé")

    view = await applications.apply(db, person_id=newcomer.id, slot_id=s.slot_id, now=NOW)

    assert (view.status, view.waitlist_position) == (WAITING, 2)
    page = await missions.discover(db, now=NOW, near=None, radius_km=None)
    # The only place is reserved: listed as full, with the offered person and the newcomer
    # on its waiting list.
    assert [(c.free_places, c.waitlisted) for c in page.cards] == [(0, 2)]


async def test_accepting_is_refused_when_already_busy_at_that_time(db: Database) -> None:
    s = await station(db, waiting=1)
    [first] = s.waiting
    org = await organisations.find_organisation_by_name(db, "Mairie de Saint-Dizier")
    assert org is not None
    other = await first_slot(db, await polling_station(db, org.id, now=NOW, title="Secrétaire"))
    await applications.apply(db, person_id=first.person_id, slot_id=other, now=NOW)
    await cancel(db, s.holders[0])

    with pytest.raises(Conflict) as refused:
        await offers.accept_offer(db, person_id=first.person_id, application_id=first.id, now=NOW)
    assert refused.value.code == "overlap"


async def test_a_place_freed_close_to_the_start_alerts_the_coordinators_once(db: Database) -> None:
    s = await station(db, starts_at=NOW + timedelta(hours=4))
    first = s.waiting[0]

    await cancel(db, s.holders[0])

    assert (await status(db, first.id))[2] == NOW + timedelta(hours=2)  # half the time left
    [alert] = await outbox(db, "place_freed_soon")
    assert alert["person_id"] == s.coordinator.id
    assert (alert["freed_by"], alert["offered"], alert["too_late"]) == ("cancelled", 1, False)


async def test_within_the_hour_nobody_is_offered_and_the_admin_group_is_told(
    db: Database,
) -> None:
    s = await station(db, starts_at=NOW + timedelta(minutes=45))
    org = await organisations.find_organisation_by_name(db, "Mairie de Saint-Dizier")
    assert org is not None
    await organisations.link_admin_chat(
        db, person_id=s.coordinator.id, organisation_id=org.id, chat_id=-100, title="Mairie"
    )

    await cancel(db, s.holders[0])

    assert [(await status(db, w.id))[2] for w in s.waiting] == [None, None]
    [alert] = await outbox(db, "place_freed_soon")
    assert (alert["chat_id"], alert["offered"], alert["too_late"]) == (-100, 0, True)


async def test_a_refusal_offers_the_place(db: Database) -> None:
    s = await station(db)
    await applications.decide(
        db,
        application_id=s.holders[0].id,
        actor_id=s.coordinator.id,
        approve=False,
        reason="requirements",
        now=NOW,
    )
    assert (await status(db, s.waiting[0].id))[2] == NOW + timedelta(hours=12)


async def test_a_capacity_increase_offers_the_new_places(db: Database) -> None:
    s = await station(db, capacity=1, waiting=3)

    slot = await set_capacity(db, actor_id=s.coordinator.id, slot_id=s.slot_id, capacity=3, now=NOW)

    assert (slot.capacity, slot.taken, slot.free) == (3, 3, 0)
    offered = [(await status(db, w.id))[2] is not None for w in s.waiting]
    assert offered == [True, True, False]
    with pytest.raises(Conflict) as refused:
        await set_capacity(db, actor_id=s.coordinator.id, slot_id=s.slot_id, capacity=2, now=NOW)
    assert refused.value.code == "capacity_below_taken"
    with pytest.raises(NotAllowed):
        await set_capacity(
            db, actor_id=s.holders[0].person_id, slot_id=s.slot_id, capacity=5, now=NOW
        )


async def test_cancelling_while_offered_passes_the_offer_on(db: Database) -> None:
    s = await station(db)
    first, second = s.waiting
    await cancel(db, s.holders[0])

    await cancel(db, first)

    assert await status(db, first.id) == (ApplicationStatus.CANCELLED, None, None)
    assert (await status(db, second.id))[2] is not None


@pytest.mark.parametrize(
    "extra",
    [
        {"freed_by": "cancelled", "offered": 1},
        {"freed_by": "refused", "offered": 2},
        {"freed_by": "offer_declined", "offered": 0},
        {"freed_by": "offer_expired", "too_late": True},
    ],
)
def test_the_alert_to_coordinators_says_what_became_of_the_place(extra: dict[str, Any]) -> None:
    for locale in ("fr", "en"):
        t = Translator(locale)
        rendered = render("place_freed_soon", segment_payload(**extra), t)
        assert NAME in rendered.text and "⏰" in rendered.text
        assert segments(render_notification("place_freed_soon", segment_payload(**extra), t)) == 1
