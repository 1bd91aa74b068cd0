"""The WhatsApp templates Renfort needs, made through Twilio's Content API.

Outside the 24-hour window WhatsApp only carries templates it approved: one per family of
notifications (reminders, attendance questions, callouts, offers, decisions) and language,
the notification's own SMS text as its one variable, YES/NO quick replies where the text
asks for them. Inside the window, three session contents (one to three quick replies,
titles and payloads as variables) turn a choice into buttons; they need no review.

`renfort whatsapp templates` creates what is missing and asks WhatsApp to review it, then
lists them all with WhatsApp's verdict; the dispatcher reads that list from the database."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from bot.config import SUPPORTED_LOCALES, Settings
from bot.i18n import N_, Translator
from bot.messaging.message import Choice
from bot.services import whatsapp
from bot.services.whatsapp import Template
from handlers.sms.render.shared import yes_no_choices
from storage.database import Database

# WhatsApp's category for messages about something the person asked for.
CATEGORY = "UTILITY"
SESSION = "session"  # the status of a content that WhatsApp does not review
MAX_CHOICES = 3


@dataclass(frozen=True)
class TemplateSpec:
    """One approved-template family: its name, heading, and whether it asks YES or NO."""

    name: str
    heading: str
    kinds: frozenset[str]
    yes_no: bool = False


SPECS: tuple[TemplateSpec, ...] = (
    TemplateSpec(
        "renfort_reminder",
        N_("Renfort reminder"),
        frozenset({"reminder_day_before", "reminder_hours_before", "feedback_request"}),
    ),
    TemplateSpec(
        "renfort_attendance", N_("Renfort: are you coming?"), frozenset({"attendance_check"}), True
    ),
    TemplateSpec(
        "renfort_callout",
        N_("Renfort: help needed"),
        frozenset({"callout", "territory_alert", "alert_offer"}),
        True,
    ),
    TemplateSpec("renfort_offer", N_("Renfort: a place for you"), frozenset({"offer_made"}), True),
    TemplateSpec(
        "renfort_decision",
        N_("Renfort: news about your missions"),
        frozenset(
            {
                "application_decided",
                "moved_to_waitlist",
                "mission_changed",
                "slot_moved",
                "slot_cancelled",
                "mission_cancelled",
                "offer_expired",
                "place_freed_soon",
                "relay_to_volunteer",
            }
        ),
    ),
)
KIND_TEMPLATE: dict[str, str] = {kind: spec.name for spec in SPECS for kind in spec.kinds}
CHOICE_CONTENTS: tuple[str, ...] = tuple(f"renfort_choices_{n}" for n in range(1, 4))


def template_name(kind: str) -> str | None:
    """The approved template a notification of `kind` goes as outside the window."""
    return KIND_TEMPLATE.get(kind)


def choices_name(count: int) -> str:
    """The session content showing `count` quick replies."""
    return CHOICE_CONTENTS[min(max(count, 1), MAX_CHOICES) - 1]


def flat(text: str) -> str:
    """A template variable on one line: WhatsApp refuses line breaks inside one."""
    return " / ".join(line.strip() for line in text.splitlines() if line.strip())


def template_variables(text: str) -> dict[str, str]:
    return {"1": flat(text)}


def choice_variables(text: str, choices: Sequence[Choice]) -> dict[str, str]:
    values = {"1": text}
    for i, choice in enumerate(choices[:MAX_CHOICES]):
        values[str(2 + 2 * i)], values[str(3 + 2 * i)] = choice.label, choice.reply
    return values


def content_request(name: str, t: Translator) -> dict[str, Any]:
    """What the Content API is asked to create for `name` in the language of `t`."""
    if name in CHOICE_CONTENTS:
        count = CHOICE_CONTENTS.index(name) + 1
        actions = [
            {"title": f"{{{{{2 + 2 * i}}}}}", "id": f"{{{{{3 + 2 * i}}}}}"} for i in range(count)
        ]
        samples = choice_variables("Renfort", [Choice(str(i), str(i)) for i in range(1, count + 1)])
        types: dict[str, Any] = {"twilio/quick-reply": {"body": "{{1}}", "actions": actions}}
        return {"friendly_name": name, "language": t.locale, "variables": samples, "types": types}
    spec = next(s for s in SPECS if s.name == name)
    footer = (
        t._("Tap a button or answer here.") if spec.yes_no else t._("Answer here, or send HELP.")
    )
    body = f"{t._(spec.heading)}\n\n{{{{1}}}}\n\n{footer}"
    if spec.yes_no:
        actions = [{"title": c.label, "id": c.reply} for c in yes_no_choices(t)]
        types = {"twilio/quick-reply": {"body": body, "actions": actions}}
    else:
        types = {"twilio/text": {"body": body}}
    sample = t._("your place on Sunday 13 June, 8am-1pm, polling station 3")
    return {"friendly_name": name, "language": t.locale, "variables": {"1": sample}, "types": types}


def needed(locales: tuple[str, ...]) -> list[tuple[str, str]]:
    """Every (name, language) Renfort uses."""
    names = [*CHOICE_CONTENTS, *(spec.name for spec in SPECS)]
    return [(name, locale) for name in names for locale in locales]


def reviewed(name: str) -> bool:
    return name not in CHOICE_CONTENTS


@dataclass(frozen=True)
class Remote:
    """What the Content API says of one content: its sid, and WhatsApp's review."""

    sid: str
    name: str
    language: str
    status: str


class ContentApi:
    """The few Content API calls the command makes, through twilio's (blocking) client: its
    JSON requests work there, the aiohttp one sends them form-encoded."""

    def __init__(self, client: Any) -> None:
        self.client = client

    def listed(self) -> dict[str, Remote]:
        found = {}
        for item in self.client.content.v1.content_and_approvals.list():
            review = item.approval_requests or {}
            status = str(review.get("status") or "unsubmitted")
            found[str(item.sid)] = Remote(
                str(item.sid), str(item.friendly_name), str(item.language), status
            )
        return found

    def create(self, request: Mapping[str, Any]) -> str:
        from twilio.rest.content.v1.content import ContentList

        created = self.client.content.v1.contents.create(
            ContentList.ContentCreateRequest(dict(request))
        )
        return str(created.sid)

    def ask_review(self, sid: str, name: str) -> str:
        from twilio.rest.content.v1.content.approval_create import ApprovalCreateList

        answer = self.client.content.v1.contents(sid).approval_create.create(
            ApprovalCreateList.ContentApprovalRequest({"name": name, "category": CATEGORY})
        )
        return str(answer.status or "received")


def synchronise(
    api: ContentApi,
    known: Mapping[tuple[str, str], Template],
    translator: Callable[[str], Translator],
    locales: tuple[str, ...],
) -> tuple[list[Template], list[Template]]:
    """Create what is missing (or was deleted at Twilio) and read every verdict; returns
    (all templates now, those created this time)."""
    remote = api.listed()
    by_name = {(r.name, r.language): r for r in remote.values()}
    everything, created = [], []
    for name, locale in needed(locales):
        have = known.get((name, locale))
        found = remote.get(have.content_sid) if have else by_name.get((name, locale))
        if found is not None:
            status = found.status if reviewed(name) else SESSION
            everything.append(Template(name, locale, found.sid, status))
            continue
        sid = api.create(content_request(name, translator(locale)))
        status = api.ask_review(sid, f"{name}_{locale}") if reviewed(name) else SESSION
        template = Template(name, locale, sid, status)
        everything.append(template)
        created.append(template)
    return everything, created


def content_client(settings: Settings) -> Any:
    """twilio's blocking client, pointed at TWILIO_API_URL when set (a double, a proxy)."""
    from twilio.rest import Client

    client = Client(settings.twilio_account_sid, settings.twilio_auth_token)
    if settings.twilio_api_url:
        client.content.base_url = settings.twilio_api_url
        client.edge = client.region = None
    return client


async def sync_templates(
    settings: Settings, db: Database, api: ContentApi | None = None
) -> tuple[list[Template], list[Template]]:
    """`renfort whatsapp templates`: create the missing ones, read every verdict, remember
    them all; returns (all templates, those created now)."""
    known = await whatsapp.templates(db)
    api = api or ContentApi(content_client(settings))
    # The blocking client runs beside the loop, which may be serving Twilio's double.
    everything, created = await asyncio.to_thread(
        synchronise, api, known, Translator, SUPPORTED_LOCALES
    )
    await whatsapp.save_templates(db, everything)
    return everything, created
