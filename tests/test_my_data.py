"""A resident's own data on every channel: MES DONNEES / MY DATA by SMS or WhatsApp answers
with a link (WhatsApp attaches PDF and Office files only, not JSON), and the link serves
the same JSON file as Telegram's /mydata, built from the data as it stands, for one hour,
and never once the person is erased. Without a public address the resident is told where
else to ask. The real Renfort process answers, through the Twilio double."""

from __future__ import annotations

import re
from pathlib import Path

import httpx
import pytest
from sqlalchemy import func, select

from bot.messaging.message import Document
from bot.services import documents, phones, privacy
from handlers.sms.conversation import SmsConversations
from handlers.sms.gsm7 import segments
from renfort.sandbox.twilio_double import TwilioDouble
from storage import schema
from storage.database import Database, Inbound
from tests.conftest import NOW
from tests.harness import FakeClock, one_answer_each, running_with_twilio
from tests.sms_steps import Resident, sms_renfort
from tests.test_sms_end_to_end import PHONE, renfort_with_sms, texts

PDF_NAME = "renfort-my-data.pdf"
LINK = re.compile(r"(http://127\.0\.0\.1:\d+/files/[A-Za-z0-9_-]{22,})")


def link_in(text: str) -> str:
    found = LINK.search(text)
    assert found is not None, text
    return found.group(1)


async def download(url: str) -> httpx.Response:
    async with httpx.AsyncClient() as client:
        return await client.get(url)


async def test_my_data_by_sms_is_a_link_to_the_json_file_for_one_hour(tmp_path: Path) -> None:
    async with renfort_with_sms(tmp_path) as (bot, twilio):
        await texts(twilio, "Hello, Camille 52100")
        [reply] = await texts(twilio, "my data")
        assert reply.startswith("Your data: http") and reply.endswith("(valid 1 hour)")
        assert segments(reply) == 1
        url = link_in(reply)

        got = await download(url)
        assert got.status_code == 200
        assert got.headers["content-type"] == "application/json"
        assert 'filename="renfort-my-data.json"' in got.headers["content-disposition"]
        assert got.json()["person"]["first_name"] == "Camille"
        assert got.json()["person"]["phone"] == PHONE

        # Built when opened: what changed since the SMS is in the file.
        [_asked] = await texts(twilio, "FRENCH")
        assert (await download(url)).json()["person"]["locale"] == "fr"

        bot.clock.advance(minutes=59)
        assert (await download(url)).status_code == 200
        bot.clock.advance(minutes=2)
        expired = await download(url)
        assert expired.status_code == 404 and expired.text == "Not found"
        # Nothing to guess from a made-up link either.
        base = url.split("/files/")[0] + "/files/"
        for made_up in ("A" * 22, "%00", "x" * 300):
            answer = await download(base + made_up)
            assert answer.status_code == 404 and answer.text == "Not found"


async def test_twilio_retrying_my_data_gets_a_working_link_again(tmp_path: Path) -> None:
    """Our answer went unacknowledged and Twilio posts the same message again: the resident
    gets the link again, not the words without it."""
    async with renfort_with_sms(tmp_path) as (_bot, twilio):
        await texts(twilio, "Hello, Camille 52100")
        asked = await twilio.text(PHONE, "MY DATA")
        again = await twilio.text(PHONE, "MY DATA", sid=asked.sid)
        [first], [second] = asked.replies, again.replies
        assert second.body.startswith("Your data: http")
        for reply in (first, second):
            got = await download(link_in(reply.body))
            assert got.json()["person"]["first_name"] == "Camille"


async def test_mes_donnees_in_french_and_the_link_dies_with_forget(tmp_path: Path) -> None:
    async with renfort_with_sms(tmp_path) as (bot, twilio):
        await texts(twilio, "Bonjour, je suis Camille 52100")
        [reply] = await texts(twilio, "Mes données !")
        assert reply.startswith("Vos données : http") and reply.endswith("(valable 1 heure)")
        assert segments(reply) == 1
        url = link_in(reply)
        assert (await download(url)).json()["person"]["first_name"] == "Camille"

        await texts(twilio, "OUBLIER")
        [gone] = await texts(twilio, "OUI")
        assert "effacées" in gone
        dead = await download(url)
        assert dead.status_code == 404 and dead.text == "Not found"
        async with bot.db.reading("test") as conn:
            links = schema.document_links
            assert await conn.scalar(select(func.count()).select_from(links)) == 0
        assert await phones.find_by_phone(bot.db, PHONE) is None


async def test_my_data_on_whatsapp_comes_as_its_link_since_whatsapp_attaches_no_json(
    tmp_path: Path,
) -> None:
    twilio = TwilioDouble()
    clock = FakeClock(NOW)
    twilio.clock = clock
    async with running_with_twilio(tmp_path, twilio, clock, whatsapp=True):
        await one_answer_each(twilio.whatsapp, PHONE, "Hello", "Camille 52100")
        exchange = await twilio.whatsapp(PHONE, "MY DATA")
        [sent] = exchange.replies
        assert sent.whatsapp and not sent.media_urls
        assert sent.body.startswith("Your data: http") and sent.body.endswith("(valid 1 hour)")
        assert (await download(link_in(sent.body))).json()["person"]["first_name"] == "Camille"


async def test_a_document_whatsapp_attaches_is_the_file_itself(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A PDF (as the data would be, were it one) goes as the file, Twilio fetching it from
    its link, and the message's text is its caption."""

    as_json = privacy.my_data

    async def as_pdf(db: Database, *, person_id: int, inbound: Inbound | None = None) -> Document:
        json_file = await as_json(db, person_id=person_id, inbound=inbound)
        return Document(PDF_NAME, "application/pdf", b"%PDF-1.4 " + json_file.content)

    monkeypatch.setitem(documents.KINDS, documents.MY_DATA, (PDF_NAME, as_pdf))
    monkeypatch.setattr(privacy, "my_data", as_pdf)
    twilio = TwilioDouble()
    clock = FakeClock(NOW)
    twilio.clock = clock
    async with running_with_twilio(tmp_path, twilio, clock, whatsapp=True):
        await one_answer_each(twilio.whatsapp, PHONE, "Hello", "Camille 52100")
        exchange = await twilio.whatsapp(PHONE, "MY DATA")
        [sent] = exchange.replies
        assert sent.via == "api" and sent.whatsapp
        assert sent.body == "Everything we store about you. FORGET erases it."
        [url] = sent.media_urls
        assert "/files/" in url
        await twilio.settle()
        [fetched] = sent.media
        assert fetched.status_code == 200 and fetched.content_type == "application/pdf"
        assert b"Camille" in fetched.content


async def test_without_a_public_address_the_resident_is_told_where_to_ask(
    db: Database,
) -> None:
    renfort = sms_renfort(db, FakeClock(NOW), public_url=None)
    camille = Resident(SmsConversations(renfort))
    await camille.registers()
    reply = await camille.says("MES DONNEES")
    assert reply == (
        "Pour obtenir vos données, demandez-les à l'organisation, ou écrivez /mydata à"
        " Renfort sur Telegram."
    )
    sam = Resident(SmsConversations(renfort), phone="+33612345679")
    await sam.registers("Sam", language="2")
    reply = await sam.says("mydata")
    assert reply == (
        "To get your data, ask the organisation, or write /mydata to Renfort on Telegram."
    )
    async with db.reading("test") as conn:
        links = schema.document_links
        assert await conn.scalar(select(func.count()).select_from(links)) == 0
