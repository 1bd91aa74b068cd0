"""A local server that speaks enough of Twilio for the sandbox and the tests.

It plays both sides Twilio plays: the REST API our SmsChannel calls (Messages.json with
Basic auth, Twilio's JSON answers and error bodies), and the webhooks Twilio posts to us
(an SMS from a resident, delivery reports), signed like Twilio signs them. Every message
that reaches a phone is kept, so a test can read a resident's screen."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import itertools
import secrets
import time
import xml.etree.ElementTree as ElementTree
from collections import defaultdict, deque
from dataclasses import dataclass, field
from email.utils import formatdate
from typing import Any

import httpx
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route
from twilio.request_validator import RequestValidator

from bot.sms.gsm7 import segments
from bot.sockets import listening_socket

API_VERSION = "2010-04-01"
BODY_LIMIT = 1600
# Twilio's own opt-out handling: these whole messages (any case) block, or unblock, sending.
CARRIER_STOP = frozenset({"STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT"})
CARRIER_START = frozenset({"START", "YES", "UNSTOP"})
ERRORS = {
    20003: (401, "Authenticate"),
    20429: (429, "Too Many Requests"),
    21211: (400, "The 'To' number {to} is not a valid phone number."),
    21602: (400, "Message body is required."),
    21604: (400, "A 'To' phone number is required."),
    21606: (400, "The 'From' phone number provided is not a valid message-capable Twilio number."),
    21610: (400, "Attempt to send to unsubscribed recipient"),
    21614: (400, "'To' number is not a valid mobile number"),
    21617: (400, "The concatenated message body exceeds the 1600 character limit."),
    30003: (400, "Unreachable destination handset"),
}


@dataclass
class Sms:
    """One SMS as a phone shows it, with what Twilio knows about it."""

    sid: str
    to: str
    from_: str
    body: str
    via: str  # "api" (our REST call), "twiml" (our reply to a webhook) or "inbound"
    segments: int
    status: str = "queued"
    error_code: int | None = None


@dataclass
class Exchange:
    """What happened when a resident's SMS reached our webhook."""

    status_code: int
    replies: list[Sms] = field(default_factory=list)
    sid: str = ""

    @property
    def text(self) -> str:
        return "\n".join(r.body for r in self.replies)


def new_sid(prefix: str = "SM") -> str:
    return prefix + secrets.token_hex(16)


class TwilioDouble:
    """Twilio in one process: start(), point our settings at it, drive residents."""

    def __init__(
        self,
        account_sid: str | None = None,
        auth_token: str | None = None,
        number: str = "+33757000100",
    ) -> None:
        self.account_sid = account_sid or new_sid("AC")
        self.auth_token = auth_token or secrets.token_hex(16)
        self.number = number
        self.port = 0
        self.webhook_url: str | None = None  # our PUBLIC_URL + "/sms"
        self.messages: list[Sms] = []
        self.inbox: dict[str, list[Sms]] = defaultdict(list)
        self.opted_out: set[str] = set()
        self.handle_opt_out = True
        self.callback_delay = 0.02
        self.api_calls: list[tuple[float, Sms]] = []  # (monotonic time, message) per create
        self.callbacks: list[tuple[str, dict[str, str], int]] = []
        self._faults: deque[int] = deque()
        self._delivery_faults: deque[tuple[str, int]] = deque()
        self._tasks: set[asyncio.Task[None]] = set()
        self._server: uvicorn.Server | None = None
        self._serve: asyncio.Task[None] | None = None
        self._client: httpx.AsyncClient | None = None
        self._numbers = itertools.count(1)

    # ---- server ---------------------------------------------------------------------------

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def app(self) -> Starlette:
        return Starlette(
            routes=[
                Route(
                    f"/{API_VERSION}/Accounts/{{account_sid}}/Messages.json",
                    self._create_message,
                    methods=["POST"],
                )
            ]
        )

    async def start(self, port: int = 0) -> None:
        sock = listening_socket("127.0.0.1", port)
        self.port = sock.getsockname()[1]
        self._server = uvicorn.Server(
            uvicorn.Config(self.app(), log_level="warning", lifespan="off", access_log=False)
        )
        self._serve = asyncio.create_task(self._server.serve(sockets=[sock]))
        self._client = httpx.AsyncClient(timeout=30)
        while not self._server.started:
            await asyncio.sleep(0.01)

    async def stop(self) -> None:
        await self.settle()
        if self._client is not None:
            await self._client.aclose()
        if self._server is not None:
            self._server.should_exit = True
        if self._serve is not None:
            with contextlib.suppress(asyncio.CancelledError):
                await self._serve

    async def settle(self) -> None:
        """Wait until every delivery report due so far has been posted."""
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)

    # ---- faults ----------------------------------------------------------------------------

    def fail_next(self, code: int) -> None:
        """The next REST call is refused with Twilio's error `code` (21610, 20429...)."""
        self._faults.append(code)

    def undeliver_next(self, code: int = 30003, status: str = "undelivered") -> None:
        """The next message is accepted, then reported undelivered (or failed) with `code`."""
        self._delivery_faults.append((status, code))

    # ---- the REST API ----------------------------------------------------------------------

    def _authorised(self, request: Request) -> bool:
        header = request.headers.get("authorization", "")
        if not header.lower().startswith("basic "):
            return False
        try:
            user, _, password = base64.b64decode(header[6:]).decode().partition(":")
        except (ValueError, UnicodeDecodeError):
            return False
        return (
            secrets.compare_digest(user, self.account_sid)
            and secrets.compare_digest(password, self.auth_token)
            and request.path_params["account_sid"] == self.account_sid
        )

    async def _create_message(self, request: Request) -> JSONResponse:
        if not self._authorised(request):
            return error_response(20003)
        form = await request.form()
        params = {k: v for k, v in form.items() if isinstance(v, str)}
        to, body = params.get("To", ""), params.get("Body", "")
        problem = self._problem(to, params.get("From", ""), body)
        if problem is not None:
            return error_response(problem, to=to)
        sms = Sms(new_sid(), to, self.number, body, "api", segments(body))
        self.messages.append(sms)
        self.api_calls.append((time.monotonic(), sms))
        self.inbox[to].append(sms)
        callback = params.get("StatusCallback")
        if callback:
            self._spawn(self._report(sms, callback))
        return JSONResponse(self._resource(sms), status_code=201)

    def _problem(self, to: str, from_: str, body: str) -> int | None:
        if self._faults:
            return self._faults.popleft()
        if not to:
            return 21604
        if not (to.startswith("+") and to[1:].isdigit() and 8 <= len(to) - 1 <= 15):
            return 21211
        if from_ != self.number:
            return 21606
        if not body:
            return 21602
        if len(body) > BODY_LIMIT:
            return 21617
        if self.handle_opt_out and to in self.opted_out:
            return 21610
        return None

    def _resource(self, sms: Sms) -> dict[str, Any]:
        now = formatdate(usegmt=True)
        base = f"/{API_VERSION}/Accounts/{self.account_sid}/Messages/{sms.sid}"
        return {
            "account_sid": self.account_sid,
            "api_version": API_VERSION,
            "body": sms.body,
            "date_created": now,
            "date_sent": None,
            "date_updated": now,
            "direction": "outbound-api",
            "error_code": None,
            "error_message": None,
            "from": sms.from_,
            "messaging_service_sid": None,
            "num_media": "0",
            "num_segments": str(sms.segments),
            "price": None,
            "price_unit": "USD",
            "sid": sms.sid,
            "status": "queued",
            "subresource_uris": {"media": f"{base}/Media.json"},
            "to": sms.to,
            "uri": f"{base}.json",
        }

    # ---- Twilio calling us -------------------------------------------------------------------

    def sign(self, url: str, params: dict[str, str]) -> str:
        """X-Twilio-Signature, computed as Twilio does (and twilio's RequestValidator checks)."""
        return str(RequestValidator(self.auth_token).compute_signature(url, params))

    async def post_signed(
        self, url: str, params: dict[str, str], signature: str | None = None
    ) -> httpx.Response:
        """Post form parameters to our server, signed (or with the given forged signature)."""
        assert self._client is not None, "start() the double first"
        headers = {
            "X-Twilio-Signature": signature if signature is not None else self.sign(url, params)
        }
        return await self._client.post(url, data=params, headers=headers)

    def inbound_params(self, from_: str, body: str, sid: str) -> dict[str, str]:
        """The parameters Twilio posts for an SMS to our number."""
        return {
            "ToCountry": "FR",
            "ToState": "",
            "SmsMessageSid": sid,
            "NumMedia": "0",
            "ToCity": "",
            "FromZip": "",
            "SmsSid": sid,
            "FromState": "",
            "SmsStatus": "received",
            "FromCity": "",
            "Body": body,
            "FromCountry": "FR",
            "To": self.number,
            "ToZip": "",
            "NumSegments": str(segments(body)),
            "MessageSid": sid,
            "AccountSid": self.account_sid,
            "From": from_,
            "ApiVersion": API_VERSION,
        }

    async def text(
        self,
        from_: str,
        body: str,
        *,
        sid: str | None = None,
        signature: str | None = None,
        url: str | None = None,
    ) -> Exchange:
        """A resident sends `body` to our number; returns our answer as their phone shows it."""
        target = url or self.webhook_url
        assert target is not None, "set webhook_url to PUBLIC_URL + '/sms'"
        sid = sid or new_sid()
        self._carrier_keywords(from_, body)
        response = await self.post_signed(target, self.inbound_params(from_, body, sid), signature)
        exchange = Exchange(response.status_code, sid=sid)
        if response.status_code == 200:
            for text in twiml_messages(response.text):
                reply = Sms(new_sid(), from_, self.number, text, "twiml", segments(text), "sent")
                self.messages.append(reply)
                self.inbox[from_].append(reply)
                exchange.replies.append(reply)
        return exchange

    def _carrier_keywords(self, from_: str, body: str) -> None:
        word = body.strip().upper()
        if self.handle_opt_out and word in CARRIER_STOP:
            self.opted_out.add(from_)
        elif word in CARRIER_START:
            self.opted_out.discard(from_)

    async def _report(self, sms: Sms, url: str) -> None:
        """Twilio's delivery reports for one message: sent, then delivered (or not)."""
        fault = self._delivery_faults.popleft() if self._delivery_faults else None
        steps: list[tuple[str, int | None]] = [("sent", None)]
        steps.append((fault[0], fault[1]) if fault else ("delivered", None))
        for status, code in steps:
            await asyncio.sleep(self.callback_delay)
            sms.status, sms.error_code = status, code
            params = {
                "SmsSid": sms.sid,
                "SmsStatus": status,
                "MessageStatus": status,
                "To": sms.to,
                "MessageSid": sms.sid,
                "AccountSid": self.account_sid,
                "From": sms.from_,
                "ApiVersion": API_VERSION,
            }
            if code is not None:
                params["ErrorCode"] = str(code)
            try:
                response = await self.post_signed(url, params)
                self.callbacks.append((sms.sid, params, response.status_code))
            except httpx.HTTPError:
                self.callbacks.append((sms.sid, params, 0))

    def _spawn(self, work: Any) -> None:
        task = asyncio.create_task(work)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    # ---- reading a phone's screen -----------------------------------------------------------

    def received(self, phone: str) -> list[str]:
        """Every SMS `phone` got from our number, oldest first."""
        return [m.body for m in self.inbox[phone]]


def error_response(code: int, *, to: str = "") -> JSONResponse:
    """Twilio's error body: code, message, more_info, status."""
    status, message = ERRORS.get(code, (400, "Error"))
    return JSONResponse(
        {
            "code": code,
            "message": message.format(to=to),
            "more_info": f"https://www.twilio.com/docs/errors/{code}",
            "status": status,
        },
        status_code=status,
    )


def twiml_messages(document: str) -> list[str]:
    """The <Message> texts of a TwiML answer."""
    try:
        root = ElementTree.fromstring(document)
    except ElementTree.ParseError:
        return []
    texts = []
    for message in root.iter("Message"):
        body = message.find("Body")
        texts.append((body.text if body is not None else message.text) or "")
    return texts
