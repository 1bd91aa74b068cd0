"""Notifications by SMS through Twilio's REST API (or any endpoint that speaks it), and the
delivery reports Twilio posts back. Rate: SMS_RATE messages per second, counted in parts,
including the replies Twilio sends for us from our TwiML, so that answers to people who
just wrote go at once and bulk traffic waits."""

from __future__ import annotations

import asyncio
import functools
import html
import logging
import re
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

import aiohttp
from sqlalchemy import select
from twilio.base.exceptions import TwilioRestException, TwilioServiceException
from twilio.http.async_http_client import AsyncTwilioHttpClient
from twilio.rest import Client
from twilio.rest.api.v2010.account.message import MessageInstance

from bot.i18n import Translator
from bot.messaging import outbox
from bot.messaging.channel import Address, Notice, Outcome, Rejected, Sent, Transient, Unreachable
from bot.messaging.message import Message
from bot.messaging.ratelimit import RateLimiter, Ticket
from bot.runtime import Renfort
from bot.services import phones
from handlers.sms.gsm7 import fit_encoding, segments, transliterate
from handlers.sms.render import notification_message
from storage import schema

log = logging.getLogger(__name__)
NAME = "sms"
STATUS_PATH = "/sms/status"
TIMEOUT_SECONDS = 15.0

OPTED_OUT = frozenset({21610})  # the recipient sent STOP to our number
INVALID_NUMBER = frozenset({21211, 21614})  # not a phone number / not a mobile
# Delivery reports that mean the number can never get an SMS (unknown, landline).
UNREACHABLE_NUMBER = frozenset({30005, 30006})
# Twilio's own codes for "try again later" (rate limited, queue full, server busy).
TRANSIENT_CODES = frozenset({20429, 20500, 20503, 30001})

# Order of a message's life; a report never moves it backwards (reports arrive unordered).
STATUS_RANK = {
    "accepted": 0,
    "scheduled": 0,
    "queued": 1,
    "sending": 2,
    "sent": 3,
    "delivered": 4,
    "undelivered": 4,
    "failed": 4,
    "read": 5,
}
_TELEGRAM_MARKUP = re.compile(r"</?(?:b|i|u|s|a|code|pre|strong|em|tg-spoiler)\b[^>]*>")
_TELEGRAM_ENTITY = re.compile(r"&(?:lt|gt|amp|quot|#\d+);")


def no_chat_window(_chat: object) -> None:
    """SMS has no per-number window; only the overall rate counts."""
    return None


class SmsChannel:
    """Sends rendered notifications as SMS from the configured Twilio number."""

    def __init__(self, renfort: Renfort, *, limiter: RateLimiter | None = None) -> None:
        settings = renfort.settings
        if not settings.sms_enabled or not settings.public_url:
            raise ValueError("SMS needs TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN, ... and PUBLIC_URL")
        self.renfort = renfort
        self.limiter = limiter or RateLimiter(settings.sms_rate, no_chat_window)
        self.status_callback = settings.public_url + STATUS_PATH
        self._client: Client | None = None

    def client(self) -> Client:
        """The twilio client, made on first use (its HTTP session belongs to the loop)."""
        if self._client is None:
            settings = self.renfort.settings
            client = Client(
                settings.twilio_account_sid,
                settings.twilio_auth_token,
                http_client=AsyncTwilioHttpClient(timeout=TIMEOUT_SECONDS),
            )
            if settings.twilio_api_url:
                client.api.base_url = settings.twilio_api_url
                # TWILIO_EDGE / TWILIO_REGION in the environment would rewrite the host again.
                client.edge = client.region = None
            self._client = client
        return self._client

    async def close(self) -> None:
        if self._client is not None:
            await self._client.http_client.close()
            self._client = None

    def render(self, kind: str, payload: Mapping[str, Any], t: Translator) -> Message:
        """The notification as one SMS: its choices are written in its text."""
        return notification_message(kind, payload, t, self.renfort.now())

    def count_reply(self, phone: str, text: str | None) -> None:
        """A reply Twilio sends from our TwiML uses the same number's throughput."""
        if text:
            for _ in range(segments(text)):
                self.limiter.consume(phone).finish()

    async def send(
        self, address: Address, message: Message, notice: Notice | None = None
    ) -> Outcome:
        """Send one SMS; returns Twilio's message SID as provider id. Every kind of
        notification goes in the same form: `notice` changes nothing."""
        phone, body = str(address), sms_text(message)
        # The dispatcher counted one part; a longer message costs its other parts too.
        extra: list[Ticket] = []
        for _ in range(segments(body) - 1):
            await self.limiter.admit_overall()
            extra.append(self.limiter.consume(phone))
        try:
            return await twilio_outcome(
                lambda: self.client().messages.create_async(
                    to=phone,
                    from_=self.renfort.settings.twilio_from_number,
                    body=body,
                    status_callback=self.status_callback,
                ),
                functools.partial(self._refused, phone),
            )
        finally:
            for ticket in extra:
                ticket.finish()

    async def _refused(self, phone: str, status: int, code: int | None, message: str) -> Outcome:
        description = f"twilio {code or status}: {message}"[:300]
        if code in OPTED_OUT:
            await phones.opt_out(self.renfort.db, phone)
            return Unreachable(description)
        if code in INVALID_NUMBER:
            await phones.mark_invalid(self.renfort.db, phone, code=code or status)
            return Unreachable(description)
        if code in TRANSIENT_CODES or status == 429 or status >= 500 or status in (401, 403):
            # 401/403: our credentials, not this message; the back-off leaves time to fix them.
            return Transient(description)
        return Rejected(description)


# Twilio's refusal of one message as an outcome: (HTTP status, Twilio's code, its words).
Refusal = Callable[[int, int | None, str], Awaitable[Outcome]]


async def twilio_outcome(
    create: Callable[[], Awaitable[MessageInstance]], refused: Refusal
) -> Outcome:
    """One message handed to Twilio: sent with its SID, refused as `refused` judges, or a
    network failure to try again."""
    try:
        created = await create()
    except TwilioRestException as error:
        return await refused(error.status, error.code, str(error.msg))
    except TwilioServiceException as error:
        return await refused(error.status, error.code, str(error.title))
    except (aiohttp.ClientError, TimeoutError, OSError) as error:
        return Transient(f"{type(error).__name__}: {error}")
    return Sent(str(created.sid))


def sms_text(message: Message) -> str:
    """The SMS body of a rendered notification, plain words even if rendered as HTML."""
    text = message.text
    if _TELEGRAM_MARKUP.search(text) or _TELEGRAM_ENTITY.search(text):
        text = html.unescape(_TELEGRAM_MARKUP.sub("", text))
        text = transliterate(text)  # Telegram's emoji and typography have no place here
        return "\n".join(line.strip() for line in text.splitlines() if line.strip())
    return fit_encoding(text)


async def record_delivery(
    renfort: Renfort, message_sid: str, status: str, error_code: str | None
) -> bool:
    """Record Twilio's report on a message we sent; False when no notification has its SID."""
    status = status.lower()
    rows = schema.outbox
    async with renfort.db.transaction("record_sms_delivery") as conn:
        row = (
            await conn.execute(
                # WhatsApp messages go through Twilio too, under the same kind of id.
                select(rows.c.id, rows.c.delivery_status).where(
                    rows.c.provider_id == message_sid, rows.c.channel.in_((NAME, "whatsapp"))
                )
            )
        ).first()
        if row is None:
            return False
        if _newer(status, row.delivery_status):
            error = f"twilio {error_code}: {status}" if error_code else None
            await outbox.note_delivery(conn, row.id, status, error)
    return True


def _newer(status: str, current: str | None) -> bool:
    if current is None:
        return True
    return STATUS_RANK.get(status, 0) > STATUS_RANK.get(current, 0)


async def wait_and_record_delivery(
    renfort: Renfort,
    message_sid: str,
    status: str,
    error_code: str | None,
    *,
    attempts: int = 10,
    pause: float = 0.2,
) -> bool:
    """`record_delivery`, waiting a little for a SID the dispatcher has not written yet."""
    # Twilio can call back before our own send has returned and its SID is recorded.
    for attempt in range(attempts):
        if await record_delivery(renfort, message_sid, status, error_code):
            return True
        if attempt + 1 < attempts:
            await asyncio.sleep(pause)
    return False


async def mark_number(renfort: Renfort, to: str | None, error_code: str | None) -> None:
    """Stop SMS to a number a report says cannot receive (opted out, invalid, a landline)."""
    code = int(error_code) if error_code and error_code.isascii() and error_code.isdigit() else None
    phone = phones.inbound_sender(to) if to else None
    if phone is None or code is None:
        return
    if code in OPTED_OUT:
        await phones.opt_out(renfort.db, phone)
    elif code in INVALID_NUMBER | UNREACHABLE_NUMBER:
        await phones.mark_invalid(renfort.db, phone, code=code)
