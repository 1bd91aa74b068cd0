"""A local server that speaks enough of Twilio for the sandbox and the tests.

It plays both sides Twilio plays: the REST API our SmsChannel calls (Messages.json with
Basic auth, Twilio's JSON answers and error bodies), and the webhooks Twilio posts to us
(an SMS from a resident, delivery reports), signed like Twilio signs them. Every message
that reaches a phone is kept, so a test can read a resident's screen.

It speaks WhatsApp too: `whatsapp:` addresses, quick-reply taps (ButtonPayload, ButtonText),
the Content API (contents, their WhatsApp approval) and messages sent by ContentSid, and the
24-hour window: a free-form message to someone who has not written for a day is accepted,
then fails with 63016, as Twilio does. A message with MediaUrl keeps its URLs, and the double
fetches each file as Twilio would before delivering it, keeping what it got."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import itertools
import json
import re
import secrets
import time
import xml.etree.ElementTree as ElementTree
from collections import defaultdict, deque
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.utils import formatdate
from typing import Any

import httpx
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from twilio.request_validator import RequestValidator

from bot.sockets import listening_socket
from handlers.sms.gsm7 import segments
from handlers.sms.webhook import INBOUND_PATH

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
    21656: (400, "The ContentVariables Parameter is invalid."),
    20404: (404, "The requested resource was not found"),
    63016: (
        400,
        "Failed to send freeform message because you are outside the allowed window."
        " If you are using WhatsApp, please use a Message Template.",
    ),
}
WHATSAPP = "whatsapp:"
WINDOW = timedelta(hours=24)
OUTSIDE_WINDOW = 63016
CONTENT_PREFIX = "/v1"
_VARIABLE = re.compile(r"\{\{\s*([0-9A-Za-z_]+)\s*\}\}")


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
    content_sid: str | None = None
    buttons: list[tuple[str, str]] = field(default_factory=list)  # (title, id) quick replies
    media_urls: list[str] = field(default_factory=list)  # MediaUrl: the files it carries
    media: list[Media] = field(default_factory=list)  # each file as Twilio fetched it
    # Rich actions beside the text, as sent: "geo:LAT,LON|LABEL" is a WhatsApp location pin.
    persistent_actions: list[str] = field(default_factory=list)

    @property
    def whatsapp(self) -> bool:
        return self.to.startswith(WHATSAPP) or self.from_.startswith(WHATSAPP)


@dataclass(frozen=True)
class Media:
    """A file Twilio fetched from a message's MediaUrl before handing it to the phone."""

    url: str
    status_code: int
    content_type: str
    content: bytes


@dataclass
class Content:
    """A Content API resource, and what WhatsApp decided about it."""

    sid: str
    friendly_name: str
    language: str
    variables: dict[str, str]
    types: dict[str, Any]
    approval_name: str = ""
    category: str = ""
    approval: str = "unsubmitted"  # received, pending, approved, rejected
    rejection_reason: str = ""

    def body_and_buttons(self, values: dict[str, str]) -> tuple[str, list[tuple[str, str]]]:
        """The text and quick replies a phone shows, variables filled in."""

        def fill(text: str) -> str:
            return _VARIABLE.sub(lambda m: values.get(m[1], self.variables.get(m[1], "")), text)

        for kind in ("twilio/quick-reply", "twilio/text"):
            shape = self.types.get(kind)
            if isinstance(shape, dict):
                buttons = [
                    (fill(str(a.get("title", ""))), fill(str(a.get("id", ""))))
                    for a in shape.get("actions") or []
                ]
                return fill(str(shape.get("body", ""))), buttons
        return "", []


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
        whatsapp_number: str = "whatsapp:+33757000200",
    ) -> None:
        self.account_sid = account_sid or new_sid("AC")
        self.auth_token = auth_token or secrets.token_hex(16)
        self.number = number
        self.whatsapp_number = whatsapp_number
        self.contents: dict[str, Content] = {}
        # WhatsApp's review of a template: approved at once unless a test says otherwise.
        self.approve_templates = True
        # Each WhatsApp user's last message to us (the 24-hour window), on `clock`.
        self.last_inbound: dict[str, datetime] = {}
        self.clock: Callable[[], datetime] = lambda: datetime.now(UTC)
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

    def renfort_settings(self, http_port: int, *, whatsapp: bool = True) -> dict[str, Any]:
        """Renfort's settings that send through this double and have it post inbound messages
        and delivery reports to Renfort listening on `http_port`."""
        public_url = f"http://127.0.0.1:{http_port}"
        self.webhook_url = public_url + INBOUND_PATH
        settings: dict[str, Any] = {
            "http_port": http_port,
            "public_url": public_url,
            "twilio_account_sid": self.account_sid,
            "twilio_auth_token": self.auth_token,
            "twilio_from_number": self.number,
            "twilio_api_url": self.base_url,
        }
        if whatsapp:
            settings["twilio_whatsapp_from"] = self.whatsapp_number
        return settings

    def app(self) -> Starlette:
        return Starlette(
            routes=[
                Route(
                    f"/{API_VERSION}/Accounts/{{account_sid}}/Messages.json",
                    self._create_message,
                    methods=["POST"],
                ),
                Route(f"{CONTENT_PREFIX}/Content", self._create_content, methods=["POST"]),
                Route(f"{CONTENT_PREFIX}/Content", self._list_contents, methods=["GET"]),
                Route(f"{CONTENT_PREFIX}/ContentAndApprovals", self._list_approvals),
                Route(
                    f"{CONTENT_PREFIX}/Content/{{sid}}/ApprovalRequests/whatsapp",
                    self._request_approval,
                    methods=["POST"],
                ),
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
            and request.path_params.get("account_sid", self.account_sid) == self.account_sid
        )

    async def _create_message(self, request: Request) -> JSONResponse:
        if not self._authorised(request):
            return error_response(20003)
        form = await request.form()
        params = {k: v for k, v in form.items() if isinstance(v, str)}
        to, body = params.get("To", ""), params.get("Body", "")
        from_ = params.get("From", "")
        media_urls = [v for v in form.getlist("MediaUrl") if isinstance(v, str)]
        buttons: list[tuple[str, str]] = []
        content = self.contents.get(params.get("ContentSid", ""))
        if params.get("ContentSid") and content is None:
            return error_response(20404, to=to)
        if content is not None:
            try:
                values = json.loads(params.get("ContentVariables") or "{}")
            except ValueError:
                return error_response(21656, to=to)
            if not isinstance(values, dict):
                return error_response(21656, to=to)
            body, buttons = content.body_and_buttons({str(k): str(v) for k, v in values.items()})
        problem = self._problem(to, from_, body, has_media=bool(media_urls))
        if problem is not None:
            return error_response(problem, to=to)
        sender = self.whatsapp_number if to.startswith(WHATSAPP) else self.number
        sms = Sms(new_sid(), to, sender, body, "api", segments(body))
        sms.content_sid, sms.buttons = (content.sid if content else None), buttons
        sms.media_urls = media_urls
        sms.persistent_actions = [a for a in form.getlist("PersistentAction") if isinstance(a, str)]
        self.messages.append(sms)
        self.api_calls.append((time.monotonic(), sms))
        fault = None
        if to.startswith(WHATSAPP) and not self._may_reach(to, content):
            # Accepted, then failed: Twilio learns from WhatsApp that the window is closed.
            fault = ("failed", OUTSIDE_WINDOW)
            sms.status, sms.error_code = fault
        else:
            self.inbox[to].append(sms)
        if media_urls and fault is None:
            self._spawn(self._fetch_media(sms))
        callback = params.get("StatusCallback")
        if callback:
            self._spawn(self._report(sms, callback, fault))
        return JSONResponse(self._resource(sms), status_code=201)

    def _may_reach(self, to: str, content: Content | None) -> bool:
        """Inside the 24-hour window anything goes; outside it only an approved template."""
        seen = self.last_inbound.get(to)
        if seen is not None and self.clock() - seen < WINDOW:
            return True
        return content is not None and content.approval == "approved"

    def _problem(self, to: str, from_: str, body: str, *, has_media: bool = False) -> int | None:
        if self._faults:
            return self._faults.popleft()
        if not to:
            return 21604
        whatsapp = to.startswith(WHATSAPP)
        number = to[len(WHATSAPP) :] if whatsapp else to
        if not (number.startswith("+") and number[1:].isdigit() and 8 <= len(number) - 1 <= 15):
            return 21211
        if from_ != (self.whatsapp_number if whatsapp else self.number):
            return 21606
        if not body and not has_media:
            return 21602
        if len(body) > BODY_LIMIT:
            return 21617
        if self.handle_opt_out and to in self.opted_out:
            return 21610
        return None

    # ---- the Content API ---------------------------------------------------------------------

    async def _create_content(self, request: Request) -> Response:
        if not self._authorised(request):
            return error_response(20003)
        try:
            document = json.loads(await request.body())
        except ValueError:
            return error_response(21656)
        if not isinstance(document, dict) or not isinstance(document.get("types"), dict):
            return error_response(21656)
        content = Content(
            new_sid("HX"),
            str(document.get("friendly_name") or ""),
            str(document.get("language") or "en"),
            {str(k): str(v) for k, v in (document.get("variables") or {}).items()},
            document["types"],
        )
        self.contents[content.sid] = content
        return JSONResponse(self._content_resource(content), status_code=201)

    async def _list_contents(self, request: Request) -> Response:
        if not self._authorised(request):
            return error_response(20003)
        items = [self._content_resource(c) for c in self.contents.values()]
        return JSONResponse({"contents": items, "meta": _meta("contents", request)})

    async def _list_approvals(self, request: Request) -> Response:
        if not self._authorised(request):
            return error_response(20003)
        items = []
        for content in self.contents.values():
            item = self._content_resource(content)
            item["approval_requests"] = {
                "name": content.approval_name,
                "category": content.category,
                "content_type": next(iter(content.types), ""),
                "status": content.approval,
                "rejection_reason": content.rejection_reason,
                "allow_category_change": True,
            }
            items.append(item)
        return JSONResponse({"contents": items, "meta": _meta("contents", request)})

    async def _request_approval(self, request: Request) -> Response:
        if not self._authorised(request):
            return error_response(20003)
        content = self.contents.get(request.path_params["sid"])
        if content is None:
            return error_response(20404)
        try:
            document = json.loads(await request.body())
        except ValueError:
            return error_response(21656)
        content.approval_name = str(document.get("name") or "")
        content.category = str(document.get("category") or "")
        content.approval = "approved" if self.approve_templates else "pending"
        return JSONResponse(
            {
                "name": content.approval_name,
                "category": content.category,
                "content_type": next(iter(content.types), ""),
                "status": "received",
                "rejection_reason": "",
                "allow_category_change": True,
            },
            status_code=201,
        )

    def reject(self, friendly_name: str, reason: str = "INVALID_FORMAT") -> None:
        """WhatsApp refuses the templates of this name (every language)."""
        for content in self.contents.values():
            if content.friendly_name == friendly_name:
                content.approval, content.rejection_reason = "rejected", reason

    def _content_resource(self, content: Content) -> dict[str, Any]:
        now = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        return {
            "sid": content.sid,
            "account_sid": self.account_sid,
            "friendly_name": content.friendly_name,
            "language": content.language,
            "variables": content.variables,
            "types": content.types,
            "date_created": now,
            "date_updated": now,
            "url": f"https://content.twilio.com/v1/Content/{content.sid}",
            "links": {},
        }

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
            "num_media": str(len(sms.media_urls)),
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

    def whatsapp_params(
        self, phone: str, body: str, sid: str, button: tuple[str, str] | None = None
    ) -> dict[str, str]:
        """The parameters Twilio posts for a WhatsApp message (a tap carries its button)."""
        params = {
            "SmsMessageSid": sid,
            "NumMedia": "0",
            "ProfileName": "Camille",
            "MessageType": "button" if button else "text",
            "SmsSid": sid,
            "WaId": phone.lstrip("+"),
            "SmsStatus": "received",
            "Body": body,
            "To": self.whatsapp_number,
            "NumSegments": "1",
            "ReferralNumMedia": "0",
            "MessageSid": sid,
            "AccountSid": self.account_sid,
            "From": WHATSAPP + phone,
            "ApiVersion": API_VERSION,
        }
        if button is not None:
            params["ButtonText"], params["ButtonPayload"] = button
        return params

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
        sid = sid or new_sid()
        self._carrier_keywords(from_, body)
        params = self.inbound_params(from_, body, sid)
        return await self._deliver(from_, self.number, params, signature, url)

    async def whatsapp(
        self,
        phone: str,
        body: str,
        *,
        button: tuple[str, str] | None = None,
        sid: str | None = None,
        signature: str | None = None,
    ) -> Exchange:
        """A resident writes (or taps a quick reply) on WhatsApp from `phone` (E.164); returns
        our answers: the TwiML reply and any message sent to them meanwhile."""
        sid = sid or new_sid()
        address = WHATSAPP + phone
        self.last_inbound[address] = self.clock()
        params = self.whatsapp_params(phone, body, sid, button)
        before = len(self.inbox[address])
        exchange = await self._deliver(address, self.whatsapp_number, params, signature, None)
        exchange.replies = [*self.inbox[address][before:]]
        return exchange

    async def tap(self, phone: str, title: str) -> Exchange:
        """The resident taps the quick reply `title` of the last message offering it."""
        address = WHATSAPP + phone
        for message in reversed(self.inbox[address]):
            for shown, payload in message.buttons:
                if shown == title:
                    return await self.whatsapp(phone, shown, button=(shown, payload))
        raise AssertionError(f"no quick reply {title!r} on {address}'s screen")

    async def _deliver(
        self,
        from_: str,
        to: str,
        params: dict[str, str],
        signature: str | None,
        url: str | None,
    ) -> Exchange:
        target = url or self.webhook_url
        assert target is not None, "set webhook_url to PUBLIC_URL + '/sms'"
        response = await self.post_signed(target, params, signature)
        exchange = Exchange(response.status_code, sid=params["MessageSid"])
        if response.status_code == 200:
            for text in twiml_messages(response.text):
                reply = Sms(new_sid(), from_, to, text, "twiml", segments(text), "sent")
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

    async def _report(self, sms: Sms, url: str, fault: tuple[str, int] | None = None) -> None:
        """Twilio's delivery reports for one message: sent, then delivered (or not)."""
        if fault is None and self._delivery_faults:
            fault = self._delivery_faults.popleft()
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

    async def _fetch_media(self, sms: Sms) -> None:
        """Twilio fetches each file from its public URL once it accepted the message; the
        phone shows what came back (a test reads it after `settle()`)."""
        assert self._client is not None
        for url in sms.media_urls:
            try:
                response = await self._client.get(url)
            except httpx.HTTPError:
                sms.media.append(Media(url, 0, "", b""))
                continue
            kind = response.headers.get("content-type", "")
            sms.media.append(Media(url, response.status_code, kind, response.content))

    def _spawn(self, work: Any) -> None:
        task = asyncio.create_task(work)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    # ---- reading a phone's screen -----------------------------------------------------------

    def received(self, phone: str) -> list[str]:
        """Every SMS `phone` got from our number, oldest first."""
        return [m.body for m in self.inbox[phone]]

    def on_whatsapp(self, phone: str) -> list[Sms]:
        """Every WhatsApp message `phone` (E.164) got from us, oldest first."""
        return list(self.inbox[WHATSAPP + phone])


def _meta(key: str, request: Request) -> dict[str, Any]:
    return {
        "page": 0,
        "page_size": 50,
        "first_page_url": str(request.url),
        "previous_page_url": None,
        "url": str(request.url),
        "next_page_url": None,
        "key": key,
    }


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
