"""Whatever reaches our webhooks (a forged secret, a body that is not an update, random
form fields), the answer is 403 or 400, never a 500, and the service keeps working."""

from __future__ import annotations

import functools
import json
import logging
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.runtime import Renfort
from handlers.sms import sender as sms_channel
from handlers.sms import webhook as twilio_web
from handlers.sms.webhook import twilio_routes
from handlers.telegram.wiring import build_application
from handlers.web import SECRET_HEADER, TELEGRAM_WEBHOOK_PATH, build_web_app
from renfort.sandbox.twilio_double import TwilioDouble
from storage.database import Database
from tests.conftest import NOW
from tests.harness import FakeClock
from tests.sms_steps import ACCOUNT_SID, AUTH_TOKEN, OUR_NUMBER, PUBLIC_URL, sms_renfort
from tests.test_sms_webhooks import delivery, report, sent_notification

TOKEN = "123456789:AAF-abcdefghijklmnopqrstuvwxyz012345"
SECRET = "s3cret-token"
FUZZ = settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


@pytest.fixture
def renfort(db: Database) -> Renfort:
    """On both databases: PostgreSQL refuses NUL characters and over-long values that
    SQLite stores without a word."""
    return sms_renfort(db, FakeClock(NOW), telegram_bot_token=TOKEN, telegram_webhook_secret=SECRET)


@pytest.fixture
def twilio() -> TwilioDouble:
    return TwilioDouble(ACCOUNT_SID, AUTH_TOKEN, OUR_NUMBER)


@pytest.fixture
async def client(
    renfort: Renfort, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[httpx.AsyncClient]:
    """Our HTTP server with both webhooks; Telegram's updates are only queued here."""
    # A report on a message we never sent is not waited for: random ids would each wait.
    monkeypatch.setattr(
        twilio_web,
        "wait_and_record_delivery",
        functools.partial(sms_channel.wait_and_record_delivery, attempts=1),
    )
    telegram = build_application(renfort, with_updater=False)
    app = build_web_app(renfort, telegram, twilio_routes(renfort))
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://10.0.0.7:8080") as client:
        yield client


async def post_update(
    client: httpx.AsyncClient, content: bytes, secret: bytes = SECRET.encode()
) -> httpx.Response:
    return await client.post(
        TELEGRAM_WEBHOOK_PATH,
        content=content,
        headers={SECRET_HEADER.encode(): secret, b"Content-Type": b"application/json"},
    )


@pytest.mark.parametrize(
    "secret", ["sécret".encode(), "s3cret-tokén".encode("latin-1"), b"", b"\xff\xfe"]
)
async def test_a_secret_with_any_characters_is_refused_not_crashed_on(
    client: httpx.AsyncClient, secret: bytes
) -> None:
    body = json.dumps({"update_id": 1, "message": {"message_id": 1}}).encode()
    assert (await post_update(client, body, secret)).status_code == 403


@pytest.mark.parametrize(
    "body",
    [
        b"[1, 2, 3]",
        b'"an update"',
        b"null",
        b"42",
        b'{"update_id": 1, "message": 5}',
        b'{"update_id": 1, "message": {"chat": 5}}',
        b'{"update_id": "1"}',
        b'{"message": {}}',
        b"[" * 5000 + b"]" * 5000,
        b'{"a":' * 5000 + b"1" + b"}" * 5000,
        b"\xff\xfe not json",
        b"",
    ],
)
async def test_a_body_that_is_not_an_update_is_a_bad_request(
    client: httpx.AsyncClient, body: bytes, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.INFO, logger="handlers.web"):
        response = await post_update(client, body)

    assert response.status_code == 400
    refused = [r for r in caplog.records if "refused" in r.getMessage()]
    # Once, and by kind only: the body could hold someone's words.
    assert len(refused) == 1 and len(refused[0].getMessage()) < 60


async def test_a_real_update_is_still_accepted(client: httpx.AsyncClient) -> None:
    update = {
        "update_id": 7,
        "message": {
            "message_id": 1,
            "date": 0,
            "chat": {"id": 1, "type": "private"},
            "from": {"id": 1, "is_bot": False, "first_name": "Camille"},
            "text": "/help",
        },
    }
    assert (await post_update(client, json.dumps(update).encode())).status_code == 200


# ---- fuzzing ---------------------------------------------------------------------------

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=8),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3)
    ),
    max_leaves=8,
)
users = st.fixed_dictionaries(
    {"id": st.integers(), "is_bot": st.booleans(), "first_name": st.text(max_size=20)},
    optional={"language_code": st.text(max_size=5), "username": st.text(max_size=8)},
)
chats = st.fixed_dictionaries(
    {
        "id": st.integers(),
        "type": st.sampled_from(["private", "group", "supergroup", "channel", "secret"]),
    }
)
messages = st.fixed_dictionaries(
    {"message_id": st.integers(), "date": st.integers() | st.text(max_size=4), "chat": chats},
    optional={
        "from": users | json_values,
        "text": st.text(max_size=60),
        "entities": st.lists(
            st.fixed_dictionaries(
                {"type": st.text(max_size=12), "offset": st.integers(), "length": st.integers()}
            ),
            max_size=2,
        ),
        "location": json_values,
        "contact": json_values,
    },
)
callback_queries = st.fixed_dictionaries(
    {"id": st.text(max_size=5), "from": users, "chat_instance": st.text(max_size=5)},
    optional={"data": st.text(max_size=70), "message": messages | json_values},
)
update_bodies = st.fixed_dictionaries(
    {"update_id": st.integers() | json_values},
    optional={
        "message": messages | json_values,
        "edited_message": messages,
        "callback_query": callback_queries | json_values,
        "my_chat_member": json_values,
    },
)


@FUZZ
@given(body=update_bodies | json_values)
async def test_random_update_shaped_json_never_gets_a_server_error(
    client: httpx.AsyncClient, body: Any
) -> None:
    response = await post_update(client, json.dumps(body).encode())
    assert response.status_code in (200, 400)


form_values = st.text(max_size=30) | st.sampled_from(
    [
        "+33612345678",
        "0612345678",
        "abc",
        "",
        "²",
        "+",
        "0" * 40,
        "S" * 100,
        "\x00",
        "STOP",
        "30006",
        "+33690123456",
    ]
)
form_fields = st.dictionaries(
    st.sampled_from(
        [
            "MessageSid",
            "SmsSid",
            "AccountSid",
            "From",
            "To",
            "Body",
            "MessageStatus",
            "SmsStatus",
            "ErrorCode",
            "ButtonPayload",
        ]
    )
    | st.text(max_size=10),
    form_values,
    max_size=8,
)


@FUZZ
@given(
    path=st.sampled_from(["/sms", "/sms/status"]),
    fields=form_fields,
    ours=st.booleans(),
    signature=st.sampled_from(["right", "wrong", "none"]),
)
async def test_random_twilio_forms_never_get_a_server_error(
    client: httpx.AsyncClient,
    twilio: TwilioDouble,
    renfort: Renfort,
    path: str,
    fields: dict[str, str],
    ours: bool,
    signature: str,
) -> None:
    if ours:  # else AccountSid is whatever was drawn: someone else's account
        fields = {**fields, "AccountSid": ACCOUNT_SID}
    headers = {}
    if signature == "right":
        headers["X-Twilio-Signature"] = twilio.sign(PUBLIC_URL + path, fields)
    elif signature == "wrong":
        headers["X-Twilio-Signature"] = "AAAAAAAAAAAAAAAAAAAAAAAAAAA="

    response = await client.post(path, data=fields, headers=headers)

    assert response.status_code < 500, response.text
    assert renfort.metrics.value("handler_errors_total") == 0


@pytest.mark.parametrize(
    ("changes", "status"),
    [
        ({"MessageSid": "S" * 100, "SmsSid": "S" * 100}, 400),
        ({"MessageSid": "SM\x00" + "1" * 31, "SmsSid": ""}, 400),
        ({"Body": "Bonjour\x00\x1b"}, 200),
        ({"From": "+33 6 12 34 56 78\x00"}, 200),
    ],
)
async def test_a_signed_sms_with_odd_values_is_answered_without_an_error(
    client: httpx.AsyncClient,
    twilio: TwilioDouble,
    renfort: Renfort,
    changes: dict[str, str],
    status: int,
) -> None:
    fields = {**twilio.inbound_params("+33612345678", "Bonjour", "SM" + "7" * 32), **changes}
    headers = {"X-Twilio-Signature": twilio.sign(PUBLIC_URL + "/sms", fields)}

    response = await client.post("/sms", data=fields, headers=headers)

    assert response.status_code == status
    assert renfort.metrics.value("handler_errors_total") == 0


@pytest.mark.parametrize("path", ["/sms", "/sms/status"])
@pytest.mark.parametrize("signature", ["sécret".encode(), b"\xff\xfe", b"=" * 500])
async def test_a_twilio_signature_with_any_characters_is_refused(
    client: httpx.AsyncClient, twilio: TwilioDouble, path: str, signature: bytes
) -> None:
    fields = twilio.inbound_params("+33612345678", "STOP", "SM" + "8" * 32)
    response = await client.post(path, data=fields, headers={b"X-Twilio-Signature": signature})
    assert response.status_code == 403


@pytest.mark.parametrize("token", ["%00", "a%00b", "x" * 500, "%C3%A9", "..%2F..%2Fetc"])
async def test_an_odd_calendar_feed_token_is_not_found(
    client: httpx.AsyncClient, token: str
) -> None:
    response = await client.get(f"/ics/{token}.ics")
    assert response.status_code == 404


async def test_a_huge_webhook_body_is_refused_unread(client: httpx.AsyncClient) -> None:
    huge = b'{"update_id": 1, "message": {"text": "' + b"x" * 2_000_000 + b'"}}'
    assert (await post_update(client, huge)).status_code == 413


@pytest.mark.parametrize(
    ("status", "error", "kept"),
    [
        ("delivered" * 10, "30003", (None, None)),
        ("Delivered", "3" * 400, ("delivered", None)),
        ("undelivered", "30003", ("undelivered", "twilio 30003: undelivered")),
    ],
)
async def test_a_delivery_report_keeps_only_twilios_words_and_numbers(
    client: httpx.AsyncClient,
    twilio: TwilioDouble,
    renfort: Renfort,
    status: str,
    error: str,
    kept: tuple[str | None, str | None],
) -> None:
    row = await sent_notification(renfort.db, "SM" + "9" * 32)
    fields = report("SM" + "9" * 32, status, error)
    headers = {"X-Twilio-Signature": twilio.sign(PUBLIC_URL + "/sms/status", fields)}

    response = await client.post("/sms/status", data=fields, headers=headers)

    assert response.status_code == 204
    assert await delivery(renfort.db, row) == kept
