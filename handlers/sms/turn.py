"""One SMS (or WhatsApp message) being handled: who sent it, in which language, where the
conversation stands, and what we answer. The conversation lives in the database, keyed by
the phone number, whichever of the two it was written on."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from bot.i18n import Translator
from bot.messaging.message import Choice, Document, Message, Pin, message
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
# message we handled gets the same reply (and, on WhatsApp, the same quick replies, place and
# document) instead of nothing, or of a caption without its link.
LAST_SID, LAST_REPLY, LAST_CHOICES = "_sid", "_reply", "_choices"
LAST_PLACE, LAST_DOCUMENT = "_place", "_document"


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
    tapped: str | None = None  # a WhatsApp quick reply's title, when the message is a tap
    reply: Message | None = None
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

    def say(self, reply: Message | str | None) -> None:
        """What goes back to the sender (None: nothing, e.g. after STOP)."""
        self.reply = None if reply is None else message(reply)

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
        reply = self.reply
        remembered: dict[str, Any] = {
            LAST_SID: self.inbound.external_id,
            LAST_REPLY: None if reply is None else reply.text,
        }
        if reply is not None and reply.choices:
            remembered[LAST_CHOICES] = [[c.label, c.reply] for c in reply.choices]
        if reply is not None and reply.place is not None:
            pin = reply.place
            remembered[LAST_PLACE] = [pin.latitude, pin.longitude, pin.name, pin.address]
        if reply is not None and reply.document is not None:
            # Its name and type only: a document's link builds the file afresh when opened.
            remembered[LAST_DOCUMENT] = [reply.document.filename, reply.document.media_type]
        return self.inbound.goto(
            self.next_state,
            **{k: v for k, v in self.next_data.items() if not k.startswith("_")},
            **remembered,
        )


def last_reply(data: dict[str, Any]) -> Message | None:
    """The answer a conversation remembers giving last (None: it stayed silent)."""
    text = data.get(LAST_REPLY)
    if not isinstance(text, str):
        return None
    stored = data.get(LAST_CHOICES)
    pairs = stored if isinstance(stored, list) else []
    place = data.get(LAST_PLACE)
    document = data.get(LAST_DOCUMENT)
    return Message(
        text,
        tuple(Choice(str(label), str(reply)) for label, reply in pairs),
        Pin(float(place[0]), float(place[1]), str(place[2]), str(place[3]))
        if isinstance(place, list) and len(place) == 4
        else None,
        Document(str(document[0]), str(document[1]), b"")
        if isinstance(document, list) and len(document) == 2
        else None,
    )
