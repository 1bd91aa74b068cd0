"""The phone conversation speaks to SMS and WhatsApp people alike: what a WhatsApp person
reads when registering, asking for help, applying, stopping and coming back never says
"SMS", in French or in English."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import NOW
from tests.factories import polling_station
from tests.organiser_steps import coordinator_with_group
from tests.test_whatsapp import PHONE, renfort_with_whatsapp, writes

# What the resident types in each language: greeting, help, and how the application is told.
WORDS = {
    "fr": ("Bonjour", "AIDE", "Candidature envoyée"),
    "en": ("Hello", "HELP", "Applied"),
}


@pytest.mark.parametrize("language", ["fr", "en"])
async def test_a_whatsapp_person_is_never_told_about_sms(tmp_path: Path, language: str) -> None:
    greeting, help_word, applied_word = WORDS[language]
    async with renfort_with_whatsapp(tmp_path) as (bot, twilio):
        organisation = await coordinator_with_group(bot)
        await polling_station(bot.db, organisation.id, now=NOW)
        read = await writes(twilio, greeting, "Camille 52100")
        [help_text] = await writes(twilio, help_word)
        assert "MISSIONS" in help_text and "STOP" in help_text
        read.append(help_text)

        await writes(twilio, "MISSIONS")
        [(title, _payload)] = twilio.on_whatsapp(PHONE)[-1].buttons
        applied = (await twilio.tap(PHONE, title)).text
        assert applied.startswith(applied_word), applied
        read.append(applied)

        [stopped] = await writes(twilio, "STOP")
        assert "START" in stopped
        [resumed] = await writes(twilio, "START")
        assert "MISSIONS" in resumed
        read += [stopped, resumed]

        assert [text for text in read if "SMS" in text.upper()] == []
