"""Driving the SMS conversation in tests: a resident with a phone, what they read back."""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from typing import Any

from bot.config import Settings
from bot.geo import Geocoder
from bot.runtime import Renfort
from handlers.sms.conversation import SmsConversations
from handlers.sms.gsm7 import segments
from storage.database import Database
from tests.harness import FakeClock

ACCOUNT_SID = "AC" + "0" * 32
AUTH_TOKEN = "twilio-test-auth-token"
OUR_NUMBER = "+33757000100"
PUBLIC_URL = "https://renfort.example.org"
_sids = itertools.count(1)


def sms_settings(**overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "twilio_account_sid": ACCOUNT_SID,
        "twilio_auth_token": AUTH_TOKEN,
        "twilio_from_number": OUR_NUMBER,
        "public_url": PUBLIC_URL,
        "renfort_locale": "fr",
        "renfort_timezone": "Europe/Paris",
        "_env_file": None,
    }
    values.update(overrides)
    return Settings(**values)


def sms_renfort(db: Database, clock: FakeClock, **overrides: Any) -> Renfort:
    return Renfort(settings=sms_settings(**overrides), db=db, geocoder=Geocoder(None), clock=clock)


def message_sid() -> str:
    return f"SM{next(_sids):032d}"


@dataclass
class Resident:
    """Someone texting our number from `phone`; every answer must fit one or two SMS."""

    conversations: SmsConversations
    phone: str = "+33612345678"
    read: list[str] = field(default_factory=list)

    async def says(self, text: str, sid: str | None = None) -> str:
        """Their SMS; returns our answer ('' when we stay silent)."""
        reply = await self.conversations.handle(self.phone, text, sid or message_sid())
        if reply is not None:
            # A mission's first page may take two (what it is, then its slots); tests of
            # tests/test_sms_segments.py say which answers do.
            assert segments(reply) <= 2, f"{segments(reply)} segments: {reply!r}"
            self.read.append(reply)
        return reply or ""

    async def registers(
        self, name: str = "Camille", postcode: str = "52100", language: str = "1"
    ) -> None:
        """One SMS: the greeting says the language (1 French, 2 English), then who and where."""
        greeting = {"1": "Bonjour", "2": "Hello"}[language]
        await self.says(f"{greeting}, {name} {postcode}")
