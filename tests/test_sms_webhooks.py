"""Twilio's webhooks: only Twilio's signature opens them, every SMS gets a clear answer once,
and delivery reports land on the notification they are about."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from sqlalchemy import insert, select

from bot.runtime import Renfort
from bot.services import phones
from handlers.sms.webhook import twilio_routes
from handlers.web import build_web_app
from renfort.sandbox.twilio_double import TwilioDouble, twiml_messages
from storage import schema
from storage.database import Database, is_processed
from tests.conftest import NOW
from tests.harness import FakeClock
from tests.sms_steps import ACCOUNT_SID, AUTH_TOKEN, OUR_NUMBER, PUBLIC_URL, sms_renfort

PHONE = "+33612345678"


@pytest.fixture
def renfort(sqlite_db: Database) -> Renfort:
    return sms_renfort(sqlite_db, FakeClock(NOW))


@pytest.fixture
def twilio() -> TwilioDouble:
    """Twilio's side, used here only to build and sign its requests."""
    return TwilioDouble(ACCOUNT_SID, AUTH_TOKEN, OUR_NUMBER)


@pytest.fixture
async def client(renfort: Renfort) -> AsyncIterator[httpx.AsyncClient]:
    """Our HTTP server as a proxy in front of it reaches it: another host and scheme."""
    app = build_web_app(renfort, None, twilio_routes(renfort))
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://10.0.0.7:8080") as client:
        yield client


async def post(
    client: httpx.AsyncClient,
    twilio: TwilioDouble,
    path: str,
    params: dict[str, str],
    *,
    signed_for: str | None = None,
    signature: str | None = None,
) -> httpx.Response:
    url = signed_for or PUBLIC_URL + path
    headers = {}
    if signature != "":
        headers["X-Twilio-Signature"] = signature or twilio.sign(url, params)
    return await client.post(path, data=params, headers=headers)


async def sms(
    client: httpx.AsyncClient, twilio: TwilioDouble, body: str, sid: str, sender: str = PHONE
) -> tuple[int, list[str]]:
    response = await post(client, twilio, "/sms", twilio.inbound_params(sender, body, sid))
    replies = twiml_messages(response.text) if response.status_code == 200 else []
    return response.status_code, replies


async def test_a_signed_sms_is_answered_in_twiml(
    client: httpx.AsyncClient, twilio: TwilioDouble, renfort: Renfort
) -> None:
    status, replies = await sms(client, twilio, "Bonjour", "SM" + "1" * 32)
    assert status == 200 and len(replies) == 1 and "Camille 52100" in replies[0]
    assert await phones.find_by_phone(renfort.db, PHONE) is not None


@pytest.mark.parametrize("signature", ["", "forged+signature=", "AAAAAAAAAAAAAAAAAAAAAAAAAAA="])
async def test_an_unsigned_or_forged_sms_gets_403_and_leaves_no_trace(
    client: httpx.AsyncClient, twilio: TwilioDouble, renfort: Renfort, signature: str
) -> None:
    params = twilio.inbound_params(PHONE, "STOP", "SMforged")
    response = await post(client, twilio, "/sms", params, signature=signature)
    assert response.status_code == 403 and "Response" not in response.text
    assert await phones.find_by_phone(renfort.db, PHONE) is None
    assert not await is_processed(renfort.db, "sms", "SMforged")


async def test_a_signature_over_the_proxys_url_is_not_ours(
    client: httpx.AsyncClient, twilio: TwilioDouble
) -> None:
    params = twilio.inbound_params(PHONE, "Bonjour", "SMproxy")
    response = await post(client, twilio, "/sms", params, signed_for="http://10.0.0.7:8080/sms")
    assert response.status_code == 403


async def test_a_tampered_body_or_another_account_is_refused(
    client: httpx.AsyncClient, twilio: TwilioDouble
) -> None:
    params = twilio.inbound_params(PHONE, "Bonjour", "SMtampered")
    signature = twilio.sign(PUBLIC_URL + "/sms", params)
    params["Body"] = "STOP"
    assert (await post(client, twilio, "/sms", params, signature=signature)).status_code == 403
    other = TwilioDouble("AC" + "9" * 32, AUTH_TOKEN, OUR_NUMBER)
    foreign = other.inbound_params(PHONE, "Bonjour", "SMother")
    assert (await post(client, other, "/sms", foreign)).status_code == 403


async def test_a_garbled_body_is_refused_not_crashed_on(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/sms",
        content=b"\xff\xfe not a form",
        headers={"X-Twilio-Signature": "x", "Content-Type": "multipart/form-data; boundary=z"},
    )
    assert response.status_code == 403


async def test_a_replayed_message_sid_is_handled_once(
    client: httpx.AsyncClient, twilio: TwilioDouble, renfort: Renfort
) -> None:
    await sms(client, twilio, "Bonjour", "SMa")
    first = await sms(client, twilio, "ENGLISH", "SMb")
    again = await sms(client, twilio, "ENGLISH", "SMb")
    assert first == again and "first name" in first[1][0]
    older = await sms(client, twilio, "Bonjour", "SMa")
    assert older == (200, [])  # answered long ago; the conversation has moved on


async def test_a_number_with_spaces_is_the_same_person(
    client: httpx.AsyncClient, twilio: TwilioDouble, renfort: Renfort
) -> None:
    await sms(client, twilio, "Bonjour", "SMs1", sender="+33 6 12 34 56 78")
    status, replies = await sms(client, twilio, "ENGLISH", "SMs2", sender=PHONE)
    assert status == 200 and "first name" in replies[0]


@pytest.mark.parametrize("body", ["", "x" * 1600, "😀🎉👍", "QUOI???", "\n\n", "ÉÈÊ " * 400])
async def test_odd_bodies_get_a_clear_answer_never_an_error(
    client: httpx.AsyncClient, twilio: TwilioDouble, body: str
) -> None:
    await sms(client, twilio, "Hi", "SMo1")
    await sms(client, twilio, "2", "SMo2")
    status, replies = await sms(client, twilio, body, "SMo3")
    assert status == 200 and len(replies) == 1 and replies[0]


async def sent_notification(db: Database, sid: str) -> int:
    async with db.transaction("test") as conn:
        result = await conn.execute(
            insert(schema.outbox)
            .values(
                kind="application_decided",
                person_id=None,
                chat_id=1,
                channel="sms",
                payload={},
                status="sent",
                provider_id=sid,
                not_before=NOW,
                created_at=NOW,
            )
            .returning(schema.outbox.c.id)
        )
        return int(result.scalar_one())


async def delivery(db: Database, row_id: int) -> tuple[str | None, str | None]:
    o = schema.outbox
    async with db.reading("test") as conn:
        row = (
            await conn.execute(select(o.c.delivery_status, o.c.last_error).where(o.c.id == row_id))
        ).one()
    return row.delivery_status, row.last_error


def report(sid: str, status: str, error: str | None = None, to: str = PHONE) -> dict[str, str]:
    params = {
        "MessageSid": sid,
        "SmsSid": sid,
        "MessageStatus": status,
        "SmsStatus": status,
        "To": to,
        "From": OUR_NUMBER,
        "AccountSid": ACCOUNT_SID,
        "ApiVersion": "2010-04-01",
    }
    if error:
        params["ErrorCode"] = error
    return params


async def test_delivery_reports_never_move_a_message_backwards(
    client: httpx.AsyncClient, twilio: TwilioDouble, renfort: Renfort
) -> None:
    row = await sent_notification(renfort.db, "SMdelivered")
    for status in ("sent", "delivered", "sent", "queued"):
        response = await post(client, twilio, "/sms/status", report("SMdelivered", status))
        assert response.status_code == 204
    assert await delivery(renfort.db, row) == ("delivered", None)


async def test_an_undelivered_message_keeps_its_error_code(
    client: httpx.AsyncClient, twilio: TwilioDouble, renfort: Renfort
) -> None:
    row = await sent_notification(renfort.db, "SMlost")
    await post(client, twilio, "/sms/status", report("SMlost", "undelivered", "30003"))
    assert await delivery(renfort.db, row) == ("undelivered", "twilio 30003: undelivered")


@pytest.mark.parametrize("code", ["21610", "30006"])
async def test_a_report_that_the_number_cannot_receive_stops_sending_to_it(
    client: httpx.AsyncClient, twilio: TwilioDouble, renfort: Renfort, code: str
) -> None:
    contact = await phones.opt_in(renfort.db, PHONE)
    await sent_notification(renfort.db, "SMstop")
    await post(client, twilio, "/sms/status", report("SMstop", "failed", code))
    assert await phones.sms_address(renfort.db, contact.person.id) is None


async def test_an_unsigned_delivery_report_is_refused(
    client: httpx.AsyncClient, twilio: TwilioDouble, renfort: Renfort
) -> None:
    row = await sent_notification(renfort.db, "SMforgedreport")
    response = await post(
        client, twilio, "/sms/status", report("SMforgedreport", "delivered"), signature=""
    )
    assert response.status_code == 403
    assert await delivery(renfort.db, row) == (None, None)
