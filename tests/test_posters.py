"""Posters: the QR code opens the bot on the mission; the keyword works by SMS."""

from __future__ import annotations

from bot.posters import PosterText, deep_link, render_poster
from bot.runtime import Renfort
from bot.services import keywords, organisations
from handlers.sms.conversation import SmsConversations
from handlers.telegram.posters import phone_display, reserved
from storage.database import Database
from tests.conftest import NOW
from tests.factories import commune, polling_station, volunteer
from tests.harness import FakeClock
from tests.qr import qr_text
from tests.sms_steps import Resident, sms_renfort


def test_the_poster_qr_decodes_to_the_deep_link() -> None:
    link = deep_link("renfort_bot", 42)
    poster = PosterText(
        "Assesseur",
        "Mairie",
        ("dimanche 13 juin 2027, 08:00–13:00",),
        "École",
        link,
        "Scan",
        "Envoyez BUREAU3 au 07 00 00 00 00",
    )
    pdf, png = render_poster(poster)
    assert pdf.startswith(b"%PDF")
    assert qr_text(png) == "https://t.me/renfort_bot?start=m42"


def test_keywords_and_numbers() -> None:
    assert keywords.base_keyword("Bureau de vote n°3") == "BUREAU3"
    assert keywords.base_keyword("Distribution alimentaire") == "DISTRIBUTI"
    assert reserved("STOP") and reserved("AIDE") and not reserved("BUREAU3")
    assert phone_display("+33700000000") == "07 00 00 00 00"


async def test_texting_the_keyword_shows_the_mission(db: Database) -> None:
    org = await commune(db)
    coordinator = await volunteer(db, 1, "Nadia")
    await organisations.join(db, coordinator.id, org.invite_code)
    mission = await polling_station(db, org.id, now=NOW, title="Bureau de vote n°3")
    other = await polling_station(db, org.id, now=NOW, title="Bureau de vote n°3")
    first = await keywords.ensure_keyword(
        db, actor_id=coordinator.id, mission_id=mission, reserved=reserved
    )
    second = await keywords.ensure_keyword(
        db, actor_id=coordinator.id, mission_id=other, reserved=reserved
    )
    assert first == "BUREAU3" and second != first and len(second) <= 10
    renfort: Renfort = sms_renfort(db, FakeClock(NOW))
    resident = Resident(SmsConversations(renfort))
    await resident.registers()
    answer = await resident.says("bureau3")
    assert "Bureau de vote" in answer and "1" in answer
