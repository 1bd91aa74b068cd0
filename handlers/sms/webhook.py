"""Twilio's webhooks: POST /sms (an SMS to our number, or a WhatsApp message to our
WhatsApp sender: `From: whatsapp:+33…`, a quick-reply tap carrying ButtonPayload; the answer
goes back as TwiML, or with its quick replies through the REST API) and POST /sms/status
(delivery reports, both channels). Both are signed by Twilio with the auth token over the
URL it called, which is our PUBLIC_URL, whatever a proxy in front of us shows: an unsigned
or forged request gets 403 and touches nothing."""

from __future__ import annotations

import logging
import re

from starlette.datastructures import MultiDict
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route
from twilio.request_validator import RequestValidator, get_signature_algorithm
from twilio.twiml.messaging_response import MessagingResponse

from bot.config import WHATSAPP_PREFIX
from bot.messaging.message import Message
from bot.runtime import Renfort
from bot.services.phones import inbound_sender
from bot.services.whatsapp import NAME as CHANNEL_WHATSAPP
from handlers.sms.conversation import SmsConversations
from handlers.sms.documents import document_link
from handlers.sms.sender import STATUS_PATH, SmsChannel, mark_number, wait_and_record_delivery
from handlers.whatsapp.sender import OUTSIDE_WINDOW, WhatsAppChannel, window_closed

log = logging.getLogger(__name__)
INBOUND_PATH = "/sms"
SIGNATURE_HEADER = "X-Twilio-Signature"
SETTINGS_HEADER = "X-Twilio-Webhooks-Signature-Settings"
MAX_FIELDS = 100
# Twilio's ids are two letters and 32 hex digits; anything else cannot be one of its calls
# (and would not fit the column that remembers which messages were answered).
MESSAGE_SID = re.compile(r"[A-Za-z]{2}[0-9A-Za-z]{1,62}")
DELIVERY_STATUS = re.compile(r"[a-z_]{1,20}")  # delivered, undelivered, partially_delivered…


def twiml(reply: str | None) -> Response:
    """Our answer as TwiML; an empty <Response/> sends nothing."""
    response = MessagingResponse()
    if reply:
        response.message(reply)
    return Response(str(response), media_type="application/xml")


async def sms_reply(renfort: Renfort, phone: str, answer: Message | None) -> str | None:
    """The answer as one SMS says it: a document it carries becomes a link to it."""
    if answer is None:
        return None
    if answer.document is None:
        return answer.text
    link = await document_link(renfort, phone, answer.document)
    return answer.text if link is None else link.sms_text()


def forbidden() -> Response:
    return PlainTextResponse("Forbidden", status_code=403)


def twilio_routes(
    renfort: Renfort, channel: SmsChannel | None = None, whatsapp: WhatsAppChannel | None = None
) -> list[Route]:
    """The two webhook routes, for `build_web_app(extra_routes=...)`."""
    settings = renfort.settings
    if not settings.sms_enabled or not settings.public_url:
        raise ValueError("Twilio's webhooks need the Twilio settings and PUBLIC_URL")
    public_url = settings.public_url
    account_sid = settings.twilio_account_sid
    validator = RequestValidator(settings.twilio_auth_token)
    conversations = SmsConversations(renfort)

    async def signed_form(request: Request) -> MultiDict | None:
        """The posted parameters if Twilio signed them for our public URL, else None."""
        signature = request.headers.get(SIGNATURE_HEADER)
        if not signature:
            return None
        try:
            form = await request.form(max_fields=MAX_FIELDS)
        except Exception as error:  # a malformed body is a forgery as far as we care
            log.info("unreadable webhook body: %s", error)
            return None
        params = MultiDict([(k, v) for k, v in form.multi_items() if isinstance(v, str)])
        url = public_url + request.url.path
        if request.url.query:
            url += "?" + request.url.query
        settings_header = request.headers.get(SETTINGS_HEADER)
        try:
            if settings_header:
                algorithm = get_signature_algorithm(settings_header)
                valid = validator.validate(url, params, signature, algorithm)
            else:
                valid = validator.validate(url, params, signature)
        except (ValueError, TypeError) as error:
            log.info("webhook signature not checkable: %s", error)
            valid = False
        if not valid or params.get("AccountSid") != account_sid:
            renfort.metrics.count(
                "webhook_forbidden_total", help_text="Refused webhook calls", channel="sms"
            )
            return None
        return params

    async def inbound_sms(request: Request) -> Response:
        """An SMS to our number: answer it (TwiML), at most once per MessageSid."""
        params = await signed_form(request)
        if params is None:
            return forbidden()
        sid = params.get("MessageSid") or params.get("SmsSid") or ""
        if not MESSAGE_SID.fullmatch(sid):
            log.warning("inbound SMS with an unusable message id refused")
            return PlainTextResponse("Bad MessageSid", status_code=400)
        origin = params.get("From", "")
        on_whatsapp = origin.startswith(WHATSAPP_PREFIX)
        if on_whatsapp:
            origin = origin[len(WHATSAPP_PREFIX) :]
        sender = inbound_sender(origin)
        if sender is None or (on_whatsapp and whatsapp is None):
            # The number itself stays out of the log: it is personal data.
            log.warning("inbound message %s without a usable sender, not answered", sid)
            return twiml(None)
        if not on_whatsapp:
            reply = await sms_reply(
                renfort, sender, await conversations.answer(sender, params.get("Body", ""), sid)
            )
            if channel is not None:
                channel.count_reply(sender, reply)
            return twiml(reply)
        assert whatsapp is not None
        # A tap: its payload is the word or number the engine reads; its title tells a tap
        # on an older message, whose numbers meant other missions, from one on the last.
        payload = params.get("ButtonPayload")
        body = payload or params.get("Body", "")
        tapped = params.get("ButtonText", "") if payload else None
        answer = await conversations.answer(sender, body, sid, CHANNEL_WHATSAPP, tapped)
        try:
            return twiml(await whatsapp.reply(sender, answer))
        except Exception:
            log.exception("quick replies to %s could not be sent", sid)
            return twiml(answer.text if answer else None)

    async def delivery_status(request: Request) -> Response:
        """Twilio's report on an SMS we sent: queued, sent, delivered, undelivered, failed."""
        params = await signed_form(request)
        if params is None:
            return forbidden()
        sid = params.get("MessageSid") or params.get("SmsSid") or ""
        status = (params.get("MessageStatus") or params.get("SmsStatus") or "").lower()
        error = params.get("ErrorCode") or None
        # Only Twilio's words and numbers are kept: anything else is no report of ours.
        if not MESSAGE_SID.fullmatch(sid) or not DELIVERY_STATUS.fullmatch(status):
            log.info("delivery report with an unknown id or status ignored")
            return Response(status_code=204)
        if error is not None and not (error.isascii() and error.isdigit() and len(error) <= 10):
            error = None
        try:
            found = await wait_and_record_delivery(renfort, sid, status, error)
            if not found:
                log.info("delivery report for unknown message %s (%s)", sid, status)
            await mark_number(renfort, params.get("To"), error)
            if error == str(OUTSIDE_WINDOW):
                await window_closed(renfort, sid, params.get("To"))
        except Exception:
            log.exception("delivery report %s could not be recorded", sid)
            return PlainTextResponse("Try again later", status_code=503)
        return Response(status_code=204)

    return [
        Route(INBOUND_PATH, inbound_sms, methods=["POST"]),
        Route(STATUS_PATH, delivery_status, methods=["POST"]),
    ]
