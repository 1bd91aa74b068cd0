"""What every SMS costs: each template rendered in French and English with long real values,
and each journey counted end to end. None may take more than 2 parts; the report says
which take 2. Print the report with `python -m tests.test_sms_segments`."""

from __future__ import annotations

import asyncio
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import partial
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from bot.domain import ApplicationStatus, MissionStatus
from bot.geo import Geocoder
from bot.i18n import Translator
from bot.messaging.message import Message, message
from bot.notifications.applications import ApplicationDecided
from bot.runtime import Renfort
from bot.services import organisations
from bot.services.applications import ApplicationView, applications_of, decide
from bot.services.callouts import CalloutView, Targeting
from bot.services.errors import Conflict, ServiceError
from bot.services.missions import MissionCard, MissionDetail, SlotView
from bot.services.phones import find_by_phone
from handlers.sms import replies
from handlers.sms.conversation import SmsConversations
from handlers.sms.gsm7 import is_gsm7, length, segments
from handlers.sms.render import RENDERERS, render_notification
from handlers.sms.render import callouts as render_callouts
from handlers.sms.render import schedule as render_schedule
from handlers.telegram import render as telegram_render
from storage.database import Database
from storage.migrate import upgrade_sync
from tests.conftest import NOW
from tests.factories import commune, polling_station, volunteer
from tests.harness import FakeClock
from tests.sms_steps import Resident, sms_settings

PARIS = ZoneInfo("Europe/Paris")
TITLE = "Assesseur(e) — bureau de vote n°12, école élémentaire Jean-Baptiste-de-La-Salle"
ORGANISATION = "Centre communal d’action sociale de Saint-Rémy-en-Bouzemont-Saint-Genest-et-Isson"
ADDRESS = "Salle polyvalente Émile-Zola, 128 avenue du Général-de-Gaulle, 52100 Saint-Dizier"
NAME = "Marie-Françoise"
TOWN = "Saint-Rémy-en-Bouzemont-Saint-Genest-et-Isson"
START = datetime(2027, 9, 29, 13, 30, tzinfo=PARIS)
END = datetime(2027, 9, 29, 18, 30, tzinfo=PARIS)
TODAY = NOW.date()

# Templates allowed to take two parts, and why (today: none).
# A territory alert's text at its longest (200 characters, the referent's own words).
LONGEST_ALERT = (
    "Crue de la Marne : la digue de Saint-Dizier cede, nous cherchons des volontaires pour"
    " remplir et porter des sacs de sable quai de la Marne, et pour accueillir les familles"
    " evacuees au gymnase Paul Bert."
)[:200]

TWO_PARTS: dict[str, str] = {
    "mission_detail": "what the mission is in one SMS, its slots numbered in the second",
    "registered_then_mission": "the same, after the poster keyword brought a new number",
    "notify:territory_alert": "the referent's own words, up to 200 characters, are the alert",
}


def translators() -> dict[str, Translator]:
    return {"fr": Translator("fr"), "en": Translator("en")}


def card(number: int) -> MissionCard:
    return MissionCard(
        id=number,
        title=TITLE,
        domain="citizenship",
        organisation_id=1,
        organisation_name=ORGANISATION,
        address=ADDRESS,
        postcode="52100",
        remote=False,
        timezone="Europe/Paris",
        distance_km=12.7,
        next_start=START + timedelta(days=number),
        free_places=2,
        open_slots=3,
    )


def slots(count: int) -> tuple[SlotView, ...]:
    return tuple(
        SlotView(i, 1, START + timedelta(days=i), END + timedelta(days=i), 2, 2 if i % 2 else 0)
        for i in range(count)
    )


def detail() -> MissionDetail:
    return MissionDetail(
        id=1,
        title=TITLE,
        description="",
        domain="citizenship",
        status=MissionStatus.PUBLISHED,
        organisation_id=1,
        organisation_name=ORGANISATION,
        address=ADDRESS,
        postcode="52100",
        point=None,
        remote=False,
        timezone="Europe/Paris",
        slots=slots(6),
    )


def application(status: ApplicationStatus = ApplicationStatus.PENDING) -> ApplicationView:
    return ApplicationView(
        id=1,
        status=status,
        reason=None,
        person_id=1,
        slot_id=1,
        mission_id=1,
        mission_title=TITLE,
        organisation_id=1,
        organisation_name=ORGANISATION,
        address=ADDRESS,
        remote=False,
        timezone="Europe/Paris",
        starts_at=START,
        ends_at=END,
        created_at=NOW,
        decided_at=None,
        decided_by_name=None,
        waitlist_position=12 if status == ApplicationStatus.WAITLISTED else None,
    )


def callout() -> CalloutView:
    return CalloutView(
        id=1,
        organisation_id=1,
        organisation_name=ORGANISATION,
        mission_id=1,
        mission_title=TITLE,
        address=ADDRESS,
        remote=False,
        slot_id=1,
        starts_at=START,
        ends_at=END,
        timezone="Europe/Paris",
        needed=12,
        places_left=3,
        status="active",
        targeting=Targeting(),
        waves_sent=2,
        asked=120,
        sent=118,
        delivered=90,
        yes=9,
        no=40,
        waiting=71,
        pool_left=900,
        next_wave_at=None,
        status_chat_id=None,
        status_message_id=None,
    )


def payload(**extra: Any) -> dict[str, Any]:
    return {
        "application_id": 1,
        "mission_id": 1,
        "mission_title": TITLE,
        "organisation_name": ORGANISATION,
        "address": ADDRESS,
        "remote": False,
        "timezone": "Europe/Paris",
        "starts_at": START.isoformat(),
        "ends_at": END.isoformat(),
        "volunteer_name": NAME,
        "volunteer_via_sms": True,
        "offer_expires_at": (START - timedelta(hours=11, minutes=30)).isoformat(),
        "offer_id": 1,
        "alert_id": 1,
        "callout_id": 1,
        "date": START.date().isoformat(),
        "first_name": NAME,
        **extra,
    }


# A reply that offers choices is a Message; the resident receives its text.
Template = Callable[[Translator], str | Message]


def templates() -> dict[str, Template]:
    """Every SMS we send, with the longest values it meets in real life."""
    every: dict[str, Template] = {
        "welcome": replies.welcome,
        "ask_introduction": replies.ask_introduction,
        "language_question": lambda t: replies.LANGUAGE_QUESTION,
        "ask_first_name": replies.ask_first_name,
        "bad_first_name": replies.bad_first_name,
        "ask_home": lambda t: replies.ask_home(t, NAME),
        "unknown_home": replies.unknown_home,
        "ask_interests": replies.ask_interests,
        "bad_interests": replies.bad_interests,
        "registered": lambda t: replies.registered(t, NAME, TOWN),
        "interests_chosen": lambda t: replies.interests_chosen(t, replies.interest_labels(t)),
        "finish_registering_first": lambda t: replies.finish_registering_first(
            t, replies.ask_home(t, NAME)
        ),
        "mission_list": lambda t: replies.mission_list(
            t, [card(i) for i in range(6)], 1, lambda k: True, TODAY, {i: 12 for i in range(6)}
        )[0],
        "mission_list_page_2": lambda t: replies.mission_list(
            t, [card(i) for i in range(2)], 10, lambda k: False, TODAY, {0: 1, 1: 12}
        )[0],
        "mission_list_without_slot_numbers": lambda t: replies.mission_list(
            t, [card(i) for i in range(6)], 1, lambda k: True, TODAY
        )[0],
        "no_missions": replies.no_missions,
        "nothing_more": replies.nothing_more,
        "mission_detail": lambda t: replies.mission_detail(
            t, detail(), detail().slots, 1, lambda k: True, TODAY
        )[0],
        "mission_detail_page_2": lambda t: replies.mission_detail(
            t, detail(), detail().slots[3:], 4, lambda k: False, TODAY
        )[0],
        "no_slots": replies.no_slots,
        "ask_condition": lambda t: replies.ask_condition(
            t, "Être inscrit sur les listes électorales de la commune de Saint-Dizier.", 2, 3
        ),
        "condition_not_met": replies.condition_not_met,
        "registered_then_mission": lambda t: replies.mission_detail(
            t, detail(), detail().slots, 1, lambda k: True, TODAY, replies.registered_short(t, NAME)
        )[0],
        "applied": lambda t: replies.applied(t, application(), TODAY),
        "waitlisted": lambda t: replies.applied(
            t, application(ApplicationStatus.WAITLISTED), TODAY
        ),
        "my_missions": lambda t: replies.my_missions(
            t,
            [application(s) for s in (ApplicationStatus.WAITLISTED, ApplicationStatus.APPROVED)]
            * 3,
            1,
            lambda k: True,
            TODAY,
        )[0],
        "no_applications": replies.no_applications,
        "confirm_cancel": lambda t: replies.confirm_cancel(t, application(), TODAY),
        "cancelled": lambda t: replies.cancelled(t, application(), TODAY),
        "cancel_kept": replies.cancel_kept,
        "yes_or_no": replies.yes_or_no,
        "cancel_needs_number": replies.cancel_needs_number,
        "no_such_number": lambda t: replies.no_such_number(t, 12),
        "no_such_number_1": lambda t: replies.no_such_number(t, 1),
        "no_such_slot": lambda t: replies.no_such_slot(t, 12, 15),
        "no_such_slot_1": lambda t: replies.no_such_slot(t, 12, 1),
        "no_such_application": replies.no_such_application,
        "number_without_list": replies.number_without_list,
        "help": replies.help_text,
        "nothing_to_answer": replies.nothing_to_answer,
        "stopped": replies.stopped,
        "resumed": replies.resumed,
        "language_set": replies.language_set,
        "not_understood": replies.not_understood,
        "empty": replies.empty,
        "apology": replies.apology,
        "offer_accepted": lambda t: replies.offer_accepted(t, application(), TODAY),
        "offer_declined": lambda t: replies.offer_declined(t, application(), TODAY),
        "offer_too_late": lambda t: replies.offer_too_late(t, application(), TODAY),
        "offer_closed": replies.offer_closed,
        "callout_taken": lambda t: render_callouts.callout_taken(t, callout(), TODAY),
        "callout_waitlisted": lambda t: render_callouts.callout_waitlisted(t, callout(), TODAY),
        "callout_declined": lambda t: render_callouts.callout_declined(t, callout(), TODAY),
        "callout_closed": render_callouts.callout_closed,
        "callout_already": render_callouts.callout_already,
        "notify:callout:urgent": lambda t: render_notification(
            "callout", payload(urgent=True, needed=12), t, NOW
        ),
    }
    for code in (
        "not_registered",
        "slot_not_found",
        "mission_not_found",
        "application_not_found",
        "mission_closed",
        "slot_started",
        "slot_over",
        "already_applied",
        "not_active",
        "unknown_code",
    ):
        every[f"refusal:{code}"] = partial(_refusal, code=code)
    every["refusal:overlap"] = lambda t: replies.refusal(
        t, Conflict("overlap", mission_title=TITLE)
    )
    every.update(
        {
            "notify:application_decided:approved": lambda t: render_notification(
                "application_decided", payload(status="approved"), t, NOW
            ),
            "notify:application_decided:refused": lambda t: render_notification(
                "application_decided", payload(status="refused", reason="requirements"), t, NOW
            ),
            "notify:application_decided:remote": lambda t: render_notification(
                "application_decided", payload(status="approved", remote=True), t, NOW
            ),
            "notify:offer_expired:next_year": lambda t: render_notification(
                "offer_expired",
                payload(
                    starts_at=(START + timedelta(days=365)).isoformat(),
                    ends_at=(END + timedelta(days=366)).isoformat(),
                ),
                t,
                NOW,
            ),
        }
    )
    for kind in ("reminder_day_before", "reminder_hours_before"):
        # With the number to CANCEL, the longest a reminder gets.
        every[f"notify:{kind}:cancel_number"] = partial(
            _notification_with, kind=kind, extra={"number": 12, "hours": 3}
        )
    every["attendance_confirmed"] = lambda t: render_schedule.attendance_confirmed(
        t, application(ApplicationStatus.CONFIRMED), TODAY
    )
    every["attendance_released"] = lambda t: render_schedule.attendance_released(
        t, application(ApplicationStatus.CANCELLED), TODAY
    )
    for kind in RENDERERS:
        if kind != "application_decided":
            every[f"notify:{kind}"] = partial(_notification, kind=kind)
    every["notify:territory_alert"] = partial(
        _notification_with, kind="territory_alert", extra={"text": LONGEST_ALERT}
    )
    every["notify:alert_volunteer_available"] = partial(
        _notification_with,
        kind="alert_volunteer_available",
        extra={"recipient_id": 1, "organisation_id": 1, "text": LONGEST_ALERT},
    )
    return every


def _refusal(t: Translator, *, code: str) -> str:
    return replies.refusal(t, ServiceError(code))


def _notification(t: Translator, *, kind: str) -> str:
    return render_notification(kind, payload(), t, NOW)


def _notification_with(t: Translator, *, kind: str, extra: dict[str, Any]) -> str:
    return render_notification(kind, payload(**extra), t, NOW)


@dataclass(frozen=True)
class Row:
    template: str
    locale: str
    text: str

    @property
    def parts(self) -> int:
        return segments(self.text)

    @property
    def encoding(self) -> str:
        return "GSM-7" if is_gsm7(self.text) else "UCS-2"


def report() -> list[Row]:
    return [
        Row(name, locale, message(render(t)).text)
        for name, render in templates().items()
        for locale, t in translators().items()
    ]


def test_no_sms_takes_more_than_two_parts_and_only_the_listed_ones_take_two() -> None:
    rows = report()
    assert [r for r in rows if r.parts > 2] == []
    assert sorted({r.template for r in rows if r.parts == 2}) == sorted(TWO_PARTS)


def test_every_notification_kind_has_an_sms_text_and_is_measured_here() -> None:
    rendered = {name.split(":")[1] for name in templates() if name.startswith("notify:")}
    assert set(telegram_render.RENDERERS) <= set(RENDERERS) <= rendered


# ---- journeys ------------------------------------------------------------------------


@dataclass
class Journey:
    name: str
    locale: str
    received: int = 0  # SMS the resident sends
    sent_parts: int = 0  # parts we send (replies and notifications)
    largest: int = 0


async def measure_journeys(db: Database) -> list[Journey]:
    """Register, apply, get the answer, cancel, stop and start: what each costs in SMS."""
    renfort = Renfort(settings=sms_settings(), db=db, geocoder=Geocoder(None), clock=FakeClock(NOW))
    org = await commune(db)
    coordinator = await volunteer(db, 1, "Nadia")
    await organisations.join(db, coordinator.id, org.invite_code)
    await polling_station(db, org.id, now=NOW, title=TITLE)
    journeys: list[Journey] = []
    for number, (locale, greeting) in enumerate((("fr", "Bonjour"), ("en", "Hello")), 1):
        resident = Resident(SmsConversations(renfort), phone=f"+3361234567{number}")

        async def journey(
            name: str, *texts: str, r: Resident = resident, loc: str = locale
        ) -> Journey:
            trip = Journey(name, loc)
            for text in texts:
                reply = await r.says(text)
                trip.received += 1
                trip.sent_parts += segments(reply) if reply else 0
                trip.largest = max(trip.largest, segments(reply) if reply else 0)
            journeys.append(trip)
            return trip

        await journey("register", greeting, f"{NAME} 52100")
        await journey("apply", "MISSIONS", "1.1")
        await journey("interests", "INTERESTS", "1 3")
        contact = await find_by_phone(db, resident.phone)
        assert contact is not None
        [mine] = await applications_of(db, contact.person.id, now=NOW)
        view = (
            await decide(db, application_id=mine.id, actor_id=coordinator.id, approve=True)
        ).application
        answer = render_notification(
            "application_decided",
            ApplicationDecided.about(view, status="approved").to_payload(),
            renfort.translator(locale),
            NOW,
        )
        journeys.append(
            Journey("approved (notification)", locale, 0, segments(answer), segments(answer))
        )
        await journey("cancel", "MES MISSIONS", "ANNULER 1", "OUI")
        await journey("stop and start", "STOP", "START")
    return journeys


async def test_every_journey_costs_one_part_per_message_but_a_detail(sqlite_db: Database) -> None:
    journeys = await measure_journeys(sqlite_db)
    # Applying straight from the list skips the mission's two-part page.
    assert all(j.largest == 1 for j in journeys), journeys
    costs = {(j.name, j.locale): (j.received, j.sent_parts) for j in journeys}
    assert costs[("register", "fr")] == costs[("register", "en")] == (2, 2)
    assert costs[("apply", "fr")] == costs[("apply", "en")] == (2, 2)
    assert costs[("interests", "fr")] == costs[("interests", "en")] == (2, 2)
    assert costs[("cancel", "fr")] == costs[("cancel", "en")] == (3, 3)


async def _journeys_in(url: str) -> list[Journey]:
    db = Database(url)
    try:
        return await measure_journeys(db)
    finally:
        await db.close()


def main() -> None:
    """Print the segment report: every template in both languages, then the journeys."""
    print("| template | lang | parts | encoding | chars | text |")
    print("| --- | --- | --- | --- | --- | --- |")
    for row in report():
        text = row.text.replace("\n", " / ")
        columns = (row.template, row.locale, row.parts, row.encoding, length(row.text), text)
        print("| " + " | ".join(map(str, columns)) + " |")
    print()
    with tempfile.TemporaryDirectory() as folder:
        url = f"sqlite:///{Path(folder) / 'renfort.db'}"
        upgrade_sync(url)  # outside the loop: the migrations run their own
        journeys = asyncio.run(_journeys_in(url))
    print("| journey | lang | SMS from the resident | parts we send |")
    print("| --- | --- | --- | --- |")
    for j in journeys:
        print(f"| {j.name} | {j.locale} | {j.received} | {j.sent_parts} |")


if __name__ == "__main__":
    main()
