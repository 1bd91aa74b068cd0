"""One SMS (or WhatsApp message) being handled: who sent it, in which language, where the
conversation stands, and what we answer. The conversation lives in the database, keyed by
the phone number, whichever of the two it was written on."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from bot.i18n import Translator
from bot.runtime import Renfort
from bot.services.people import Person
from bot.services.phones import SmsContact
from storage.database import Inbound

CHANNEL = "sms"

# Conversation states, as stored in the database.
IDLE = "idle"
LANGUAGE = "language"
LIST = "list"
MISSION = "mission"
MINE = "mine"
CONFIRM_CANCEL = "confirm_cancel"
CONDITION = "condition"  # confirming a mission's conditions before applying
CALLOUT_CONDITION = "callout_condition"  # the same, after a YES to a callout

# The mission whose poster keyword a new number texted: shown once registration is done.
POSTER_MISSION = "poster_mission"

# Keys of the conversation data that remember the last answer, so that Twilio retrying a
# message we handled gets the same reply instead of nothing.
LAST_SID, LAST_REPLY = "_sid", "_reply"


@dataclass
class SmsTurn:
    """One inbound SMS and its answer."""

    renfort: Renfort
    inbound: Inbound
    phone: str
    contact: SmsContact | None
    state: str
    data: dict[str, Any]
    t: Translator
    now: datetime
    channel: str = CHANNEL  # where the message came from: sms or whatsapp (same engine)
    reply: str | None = None
    next_state: str = IDLE
    next_data: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.next_state, self.next_data = self.state, dict(self.data)

    @property
    def person(self) -> Person:
        if self.contact is None:
            raise RuntimeError("this number has no person yet")
        return self.contact.person

    @property
    def today(self) -> date:
        return self.now.astimezone(self.renfort.settings.timezone).date()

    def say(self, text: str | None) -> None:
        """What goes back to the sender (None: nothing, e.g. after STOP)."""
        self.reply = text

    def goto(self, state: str, **data: Any) -> Inbound:
        """Set the next state; returns the inbound a service call commits it with."""
        self.next_state, self.next_data = state, data
        return self.inbound.goto(state, **data)

    def kept(self) -> dict[str, Any]:
        """Conversation data that outlives the registration's steps."""
        mission = self.data.get(POSTER_MISSION)
        return {POSTER_MISSION: mission} if isinstance(mission, int) else {}

    def speak(self, locale: str | None) -> None:
        """Answer in this language from now on (the person just chose it)."""
        self.t = self.renfort.translator(locale)

    def final(self) -> Inbound:
        """The inbound with the state to save and this turn's answer remembered."""
        return self.inbound.goto(
            self.next_state,
            **{k: v for k, v in self.next_data.items() if not k.startswith("_")},
            **{LAST_SID: self.inbound.external_id, LAST_REPLY: self.reply},
        )
