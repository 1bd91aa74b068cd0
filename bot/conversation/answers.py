"""The answers to the bot's yes/no questions, whatever the channel: a place offered from the
waiting list, "Still coming?" before a mission, a crisis callout, an organisation's offer after
a territory alert, a territory alert.

A question is its kind and its subject; a Telegram button carries it, and a bare YES or NO
typed by SMS or WhatsApp answers the most urgent of `open_questions`. `answer` makes the one
service call (one transaction, with the turn's inbound id and next state) and returns a
typed outcome the channel renders."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Generic, TypeVar

from bot.domain import HOLDING, ApplicationStatus
from bot.services import (
    alert_offers,
    applications,
    attendance,
    callouts,
    offers,
    territory_alerts,
)
from bot.services.alert_offers import OfferAnswer as AlertOfferAnswer
from bot.services.applications import ApplicationView
from bot.services.callout_views import CalloutFacts
from bot.services.offers import OfferAnswer
from bot.services.territory_alerts import AlertAnswer
from storage.database import Database, Inbound

__all__ = [
    "AlertAnswer",
    "AlertOfferAnswer",
    "AlertOfferQuestion",
    "AlertQuestion",
    "AnyAnswer",
    "AnyQuestion",
    "AttendanceAnswer",
    "AttendanceQuestion",
    "CalloutAnswered",
    "CalloutQuestion",
    "OfferAnswer",
    "OfferQuestion",
    "Question",
    "answer",
    "open_questions",
]

Outcome = TypeVar("Outcome", covariant=True)


@dataclass(frozen=True)
class AttendanceAnswer:
    """The answer to "Still coming?": confirmed, or the place let go."""

    coming: bool
    application: ApplicationView


@dataclass(frozen=True)
class CalloutAnswered:
    """A callout's answer, and for a second one what the first led to, so a channel can say
    where the person stands rather than only "already answered"."""

    outcome: str  # taken / waitlisted / declined / closed / already / conditions
    callout: CalloutFacts
    conditions: tuple[str, ...]  # still to confirm, when the outcome is "conditions"
    queued: bool  # notifications went to the outbox with the answer
    # When already answered: what the first answer led to as the person's application on
    # the slot shows it now (taken, waitlisted, or None when it holds no place).
    recorded: str | None


AnyAnswer = OfferAnswer | AttendanceAnswer | CalloutAnswered | AlertAnswer | AlertOfferAnswer


@dataclass(frozen=True)
class Said:
    """A person's yes or no, with its turn: when, the inbound message or tap it came in
    (recorded in the same transaction), and the callout's conditions confirmed on the way."""

    db: Database
    person_id: int
    yes: bool
    now: datetime
    inbound: Inbound | None
    confirmed: Sequence[str]


@dataclass(frozen=True)
class Question(ABC, Generic[Outcome]):
    """A yes/no question the bot asked a person, answered through `answer`."""

    @abstractmethod
    async def _put(self, said: Said) -> Outcome: ...


@dataclass(frozen=True)
class OfferQuestion(Question[OfferAnswer]):
    """A place offered from the waiting list: accept or decline."""

    application_id: int

    async def _put(self, said: Said) -> OfferAnswer:
        act = offers.accept_offer if said.yes else offers.decline_offer
        return await act(
            said.db,
            person_id=said.person_id,
            application_id=self.application_id,
            now=said.now,
            inbound=said.inbound,
        )


@dataclass(frozen=True)
class AttendanceQuestion(Question[AttendanceAnswer]):
    """ "Still coming?" about an approved application."""

    application_id: int

    async def _put(self, said: Said) -> AttendanceAnswer:
        view = await attendance.answer_attendance(
            said.db,
            person_id=said.person_id,
            application_id=self.application_id,
            coming=said.yes,
            now=said.now,
            inbound=said.inbound,
        )
        return AttendanceAnswer(said.yes, view)


@dataclass(frozen=True)
class CalloutQuestion(Question[CalloutAnswered]):
    """A crisis callout: available or not this time, the mission's conditions confirmed."""

    callout_id: int

    async def _put(self, said: Said) -> CalloutAnswered:
        found = await callouts.answer(
            said.db,
            person_id=said.person_id,
            callout_id=self.callout_id,
            available=said.yes,
            now=said.now,
            inbound=said.inbound,
            confirmed=said.confirmed,
        )
        recorded = None
        if found.outcome == "already":
            recorded = await _recorded(said.db, said.person_id, found.view, said.now)
        return CalloutAnswered(found.outcome, found.view, found.conditions, found.queued, recorded)


@dataclass(frozen=True)
class AlertOfferQuestion(Question[AlertOfferAnswer]):
    """An organisation's slot offered after a territory alert: accept or decline."""

    offer_id: int

    async def _put(self, said: Said) -> AlertOfferAnswer:
        return await alert_offers.answer_offer(
            said.db,
            person_id=said.person_id,
            offer_id=self.offer_id,
            accept=said.yes,
            now=said.now,
            inbound=said.inbound,
        )


@dataclass(frozen=True)
class AlertQuestion(Question[AlertAnswer]):
    """A territory alert: available or not."""

    alert_id: int

    async def _put(self, said: Said) -> AlertAnswer:
        return await territory_alerts.answer(
            said.db,
            person_id=said.person_id,
            alert_id=self.alert_id,
            available=said.yes,
            now=said.now,
            inbound=said.inbound,
        )


AnyQuestion = (
    OfferQuestion | AttendanceQuestion | CalloutQuestion | AlertOfferQuestion | AlertQuestion
)


async def answer(
    db: Database,
    *,
    person_id: int,
    question: Question[Outcome],
    yes: bool,
    now: datetime,
    inbound: Inbound | None = None,
    confirmed: Sequence[str] = (),
) -> Outcome:
    """The person's yes or no to the question, recorded in one transaction with the turn's
    inbound id and next state; `confirmed`: the callout's conditions confirmed on the way."""
    return await question._put(Said(db, person_id, yes, now, inbound, confirmed))


async def open_questions(db: Database, person_id: int, now: datetime) -> list[AnyQuestion]:
    """The questions the person has not answered, the most urgent first: the one that runs
    out first (a callout and "Still coming?" run out when their slot starts, an organisation's
    offer too); at the same moment an offer before "Still coming?", before a callout, before
    an organisation's offer; an alert, with no deadline, after anything that runs out."""
    ranked: list[tuple[datetime, int, AnyQuestion]] = []
    offer = await offers.open_offer(db, person_id, now)
    if offer is not None:
        assert offer.offer_expires_at is not None
        ranked.append((offer.offer_expires_at, 0, OfferQuestion(offer.id)))
    asked = await attendance.open_attendance_question(db, person_id, now)
    if asked is not None:
        ranked.append((asked.starts_at, 1, AttendanceQuestion(asked.id)))
    callout = await callouts.open_callout_question(db, person_id, now)
    if callout is not None:
        ranked.append((callout.starts_at, 2, CalloutQuestion(callout.id)))
    alert_offer = await alert_offers.open_offer(db, person_id, now)
    if alert_offer is not None:
        ranked.append((alert_offer[1], 3, AlertOfferQuestion(alert_offer[0])))
    alert = await territory_alerts.open_alert_question(db, person_id, now)
    if alert is not None:
        ranked.append((datetime.max.replace(tzinfo=now.tzinfo), 4, AlertQuestion(alert)))
    return [question for *_, question in sorted(ranked, key=lambda item: item[:2])]


async def _recorded(
    db: Database, person_id: int, callout: CalloutFacts, now: datetime
) -> str | None:
    mine = await applications.applications_of(db, person_id, now=now)
    status = next((a.status for a in mine if a.slot_id == callout.slot_id), None)
    if status == ApplicationStatus.WAITLISTED:
        return "waitlisted"
    return "taken" if status in HOLDING else None
