"""Notifications and replies on WhatsApp, through the same Twilio account as SMS.

A message is the SMS engine's text; when it declares at most three choices (YES or NO, a
short numbered menu) it goes with that many quick replies, whose payload is what the person
would have typed, so a tap reaches the conversation as the typed word or number would.
Longer menus stay numbered in the text. A message about a place (a reminder, a mission's
page) goes with WhatsApp's location pin when it goes free-form without quick replies; a
template cannot carry one, nor can quick replies, and the text says the address anyway.

WhatsApp carries a free-form message only within 24 hours of the person's last message.
Outside that window a notification goes as its family's approved template; without one
(none made, or refused) it goes by SMS from TWILIO_FROM_NUMBER. The outbox row says which:
its channel is `whatsapp` or `sms`, and `whatsapp_sent_total{path}` counts free-form,
template and SMS sends, and the replies sent through the REST API for their quick replies
or their place."""

from __future__ import annotations

import functools
import json
import logging
import time
from collections.abc import Mapping, Sequence
from typing import Any

from bot.i18n import Translator
from bot.messaging import outbox
from bot.messaging.channel import (
    Address,
    Notice,
    Outcome,
    Rejected,
    Sent,
    Transient,
    Unreachable,
)
from bot.messaging.dispatcher import MAX_ATTEMPTS
from bot.messaging.message import Choice, Document, Message, Pin
from bot.messaging.pins import map_url
from bot.messaging.ratelimit import RateLimiter
from bot.runtime import Renfort
from bot.services import phones, whatsapp
from handlers.sms.documents import document_link
from handlers.sms.render import notification_message
from handlers.sms.sender import SmsChannel, no_chat_window, twilio_outcome
from handlers.whatsapp.templates import (
    choice_variables,
    choices_name,
    template_name,
    template_variables,
)

log = logging.getLogger(__name__)
NAME = whatsapp.NAME
PREFIX = "whatsapp:"
MAX_CHOICES = 3
TITLE_CHARS = 20  # WhatsApp cuts a quick reply's title beyond this
LABEL_CHARS = 100  # a location's label: longer is only cut on the phone
TEMPLATES_FRESH_SECONDS = 60.0
OUTSIDE_WINDOW = 63016
OPTED_OUT = frozenset({21610, 63024})  # unsubscribed; not a WhatsApp user
# The documents WhatsApp attaches (PDF and Office files); any other, a JSON export say, would
# be refused after the reply: it goes as its link, as by SMS.
ATTACHABLE = frozenset(
    {
        "application/pdf",
        "application/msword",
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        "application/vnd.openxmlformats-officedocument.presentationml.presentation",
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    }
)


def quick_replies(choices: Sequence[Choice]) -> tuple[Choice, ...]:
    """The choices a person could type, as quick replies, titles cut to fit; none for a
    longer menu, which the text already numbers."""
    typed = [c for c in choices if c.reply]
    if len(typed) > MAX_CHOICES:
        return ()
    return tuple(Choice(_title(c.label), c.reply) for c in typed)


def _title(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= TITLE_CHARS else text[: TITLE_CHARS - 1].rstrip() + "…"


def location(pin: Pin) -> str:
    """The pin as Twilio's PersistentAction: geo:LATITUDE,LONGITUDE|LABEL. The label is
    the address, what one looks for on arriving; the text around it names the mission."""
    label = " ".join((pin.address or pin.name).replace("|", " ").split())[:LABEL_CHARS]
    return f"geo:{pin.latitude},{pin.longitude}|{label}"


def address_of(phone: str) -> str:
    return PREFIX + phone


class WhatsAppChannel:
    """Sends notifications on WhatsApp, and the replies that carry quick replies."""

    def __init__(
        self, renfort: Renfort, sms: SmsChannel, *, limiter: RateLimiter | None = None
    ) -> None:
        settings = renfort.settings
        if not settings.whatsapp_enabled or settings.twilio_whatsapp_from is None:
            raise ValueError("WhatsApp needs TWILIO_WHATSAPP_FROM and the SMS settings")
        self.renfort = renfort
        self.sms = sms
        self.sender = settings.twilio_whatsapp_from
        self.limiter = limiter or RateLimiter(settings.sms_rate, no_chat_window)
        self._templates: dict[tuple[str, str], whatsapp.Template] = {}
        self._loaded_at: float | None = None

    # ---- the dispatcher's side ---------------------------------------------------------

    def render(self, kind: str, payload: Mapping[str, Any], t: Translator) -> Message:
        message = notification_message(kind, payload, t, self.renfort.now())
        return Message(message.text, quick_replies(message.choices), message.place)

    async def send(self, address: Address, message: Message, notice: Notice) -> Outcome:
        """Free-form inside the window, else the approved template of `notice`'s kind in
        its language, else SMS."""
        phone = str(address)
        if await whatsapp.window_open(self.renfort.db, phone, self.renfort.now()):
            return self._counted("freeform", await self._free_form(phone, message, notice.locale))
        template = await self._template(template_name(notice.kind), notice.locale)
        if template is not None:
            outcome = await self._create(
                phone,
                content_sid=template.content_sid,
                content_variables=json.dumps(template_variables(message.text)),
            )
            return self._counted("template", outcome)
        outcome = await self.sms.send(phone, Message(message.text))
        if isinstance(outcome, Sent):
            outcome = Sent(outcome.provider_id, via="sms")
        return self._counted("sms", outcome)

    # ---- a reply to someone who just wrote -----------------------------------------------

    async def reply(self, phone: str, answer: Message | None) -> str | None:
        """Answer `phone`: with quick replies when the answer offers a short choice, or with
        its place (either sent here), else plain; returns what is left to answer in TwiML."""
        if answer is None or not answer.text:
            return None
        if answer.document is not None:
            return await self._with_document(phone, answer, answer.document)
        choices = quick_replies(answer.choices)
        if not choices and answer.place is None:
            return answer.text
        # The session contents are alike in every language: any will do.
        locale = self.renfort.settings.renfort_locale
        outcome = await self._free_form(phone, Message(answer.text, choices, answer.place), locale)
        if isinstance(outcome, Sent):
            self._counted("quick_reply" if choices else "place", outcome)
            return None
        log.info("reply not sent with its extras (%s); answering in plain text", outcome)
        return answer.text

    async def _with_document(self, phone: str, answer: Message, document: Document) -> str | None:
        """The document itself, its text the caption: Twilio fetches the file from its link
        (free-form: the person just wrote). A type WhatsApp does not attach, or a send that
        fails, goes as its link in words."""
        link = await document_link(self.renfort, phone, document)
        if link is None:
            return answer.text
        if document.media_type not in ATTACHABLE:
            return link.sms_text()
        outcome = await self._create(phone, body=answer.text, media_url=[link.url])
        if isinstance(outcome, Sent):
            self._counted("document", outcome)
            return None
        log.info("document not sent as a file (%s); answering with its link", outcome)
        return link.sms_text()

    # ---- sending -----------------------------------------------------------------------

    async def _free_form(self, phone: str, message: Message, locale: str) -> Outcome:
        """`message` as it is, its choices all quick replies; `locale` picks their content.
        Quick replies cannot carry a location pin: their text then ends with a link to the
        map, which WhatsApp makes tappable."""
        if message.choices:
            content = await self._template(choices_name(len(message.choices)), locale)
            if content is not None:
                text = message.text
                if message.place is not None:
                    text += "\n📍 " + map_url(message.place)
                return await self._create(
                    phone,
                    content_sid=content.content_sid,
                    content_variables=json.dumps(choice_variables(text, message.choices)),
                )
        if message.place is not None:
            return await self._create(
                phone, body=message.text, persistent_action=[location(message.place)]
            )
        return await self._create(phone, body=message.text)

    async def _create(self, phone: str, **content: str | list[str]) -> Outcome:
        return await twilio_outcome(
            lambda: self.sms.client().messages.create_async(
                to=address_of(phone),
                from_=self.sender,
                status_callback=self.sms.status_callback,
                **content,
            ),
            functools.partial(self._refused, phone),
        )

    async def _refused(self, phone: str, status: int, code: int | None, message: str) -> Outcome:
        description = f"twilio {code or status}: {message}"[:300]
        if code in OPTED_OUT:
            await phones.opt_out(self.renfort.db, phone)
            return Unreachable(description)
        if status == 429 or status >= 500 or status in (401, 403):
            return Transient(description)
        return Rejected(description)

    def _counted(self, path: str, outcome: Outcome) -> Outcome:
        if isinstance(outcome, Sent):
            self.renfort.metrics.count(
                "whatsapp_sent_total",
                help_text=(
                    "WhatsApp notifications by path"
                    " (freeform, template, quick_reply, place, document, sms)"
                ),
                path=path,
            )
        return outcome

    async def _template(self, name: str | None, locale: str) -> whatsapp.Template | None:
        """The usable content of `name` in `locale` (templates: only once approved)."""
        if name is None:
            return None
        now = time.monotonic()
        if self._loaded_at is None or now - self._loaded_at > TEMPLATES_FRESH_SECONDS:
            self._templates = await whatsapp.templates(self.renfort.db)
            self._loaded_at = now
        found = self._templates.get((name, locale))
        if found is None:
            return None
        if found.status == "session" or found.usable_outside_window:
            return found
        return None


async def window_closed(renfort: Renfort, message_sid: str, to: str | None) -> None:
    """Twilio reports 63016: the person's window had closed after all. Their window is
    closed in our records too and the notification goes again: as a template, or by SMS."""
    phone = phones.inbound_sender(to[len(PREFIX) :]) if to and to.startswith(PREFIX) else None
    if phone is None:
        return
    await whatsapp.close_window(renfort.db, phone)
    async with renfort.db.transaction("whatsapp_outside_window") as conn:
        # A template WhatsApp refuses the same way must not go round forever.
        await outbox.send_again(
            conn, message_sid, channel=NAME, now=renfort.now(), max_attempts=MAX_ATTEMPTS
        )
    renfort.outbox_ready.set()
