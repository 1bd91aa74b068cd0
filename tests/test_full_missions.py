"""A polling station whose places are all taken stays findable, after the open missions and
marked full: a volunteer joins its waiting list from the list, by chat or by SMS, and is
offered the place when a holder cancels."""

from __future__ import annotations

from pathlib import Path

from bot.domain import ApplicationStatus
from bot.i18n import Translator
from bot.services import applications, phones
from handlers.sms.conversation import SmsConversations
from storage.database import Database
from tests.conftest import NOW
from tests.factories import commune, polling_station
from tests.harness import FakeClock
from tests.sms_steps import Resident, sms_renfort
from tests.test_offers_chat import full_slot, let_go
from tests.test_volunteer_support import Chat, database_url, register, volunteer_bot

FR = Translator("fr")


async def test_a_full_polling_station_is_found_joined_and_offered_by_chat(tmp_path: Path) -> None:
    async with volunteer_bot(database_url(tmp_path), FakeClock(NOW)) as bot:
        slot_id, held = await full_slot(bot.db)
        org = await commune(bot.db, "Association des Restos")
        await polling_station(bot.db, org.id, now=NOW, title="Distribution alimentaire")
        camille = Chat(bot, 5, "Camille", "en")
        await register(camille, "52100", ("citizenship",))

        listing = (await camille.say("/missions"))[-1]
        text = listing.text
        # The open mission first, then the full station with its waiting list.
        assert text.index("Distribution alimentaire") < text.index("Assesseur")
        station = text[text.index("Assesseur") :]
        assert "Full · join the waiting list" in station

        await camille.tap(listing, "Assesseur")
        assert "full, waiting list" in listing.text
        await camille.tap(listing, "Sunday")
        await camille.tap(listing, "Confirm")
        assert "number 1 on the waiting list" in listing.text

        # Someone else now sees one person waiting.
        ines = Chat(bot, 6, "Inès", "fr")
        await register(ines, "52100", ("citizenship",))
        assert "Complet · 1 en liste d'attente" in (await ines.say("/missions"))[-1].text

        await let_go(bot, held)
        offer = bot.double.find(camille.user_id, "🎉")
        await camille.tap(offer, "✅")
        views = await applications.applications_of(bot.db, (await camille.person()).id, now=NOW)
        assert [(v.slot_id, v.status) for v in views] == [(slot_id, ApplicationStatus.PENDING)]


async def test_a_full_polling_station_is_found_joined_and_offered_by_sms(db: Database) -> None:
    resident = Resident(SmsConversations(sms_renfort(db, FakeClock(NOW))))
    await resident.registers("Martine")
    slot_id, held = await full_slot(db)

    listing = await resident.says("MISSIONS")
    assert listing.startswith("1.1 Assesseur") and "complet, liste d'attente" in listing
    assert "complet" in await resident.says("1")
    joined = await resident.says("1")
    assert "liste d'attente" in joined and "1" in joined

    contact = await phones.find_by_phone(db, resident.phone)
    assert contact is not None
    (view,) = await applications.applications_of(db, contact.person.id, now=NOW)
    assert (view.status, view.waitlist_position) == (ApplicationStatus.WAITLISTED, 1)

    await applications.cancel(db, person_id=held.person_id, application_id=held.id, now=NOW)
    assert FR._("place offered: reply YES") in await resident.says("MES MISSIONS")
    await resident.says("OUI")
    assert (await applications.get_application(db, view.id)).status == ApplicationStatus.PENDING
    assert slot_id == view.slot_id
