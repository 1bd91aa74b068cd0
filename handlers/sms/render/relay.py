"""SMS texts of relayed messages: an organisation's message to a volunteer, in two parts at
most (a long text is cut, and says so), and a volunteer's answer for a coordinator without
Telegram. Registered in sms.render.RENDERERS."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

from bot.i18n import Translator
from bot.notifications.relay import RelayToOrganisation, RelayToVolunteer
from handlers.sms.gsm7 import fit_encoding, segments
from handlers.sms.render.shared import Renderer

MAX_PARTS = 2
ORGANISATION_CHARS = 40
ELLIPSIS = "..."


def _cut(value: str, size: int) -> str:
    value = " ".join(value.split())
    if len(value) <= size:
        return value
    return value[: max(size - len(ELLIPSIS), 1)].rstrip(" ,.-") + ELLIPSIS


def _fitting(build: Callable[[str], str], text: str) -> str:
    """`build(text)` in at most two parts, `text` cut (as little as possible) to fit."""
    message = fit_encoding(build(text))
    if segments(message) <= MAX_PARTS:
        return message
    low, high = 1, len(text)
    while low < high:  # the longest cut that fits
        middle = (low + high + 1) // 2
        if segments(fit_encoding(build(_cut(text, middle)))) <= MAX_PARTS:
            low = middle
        else:
            high = middle - 1
    return fit_encoding(build(_cut(text, low)))


def relay_to_volunteer(n: RelayToVolunteer, t: Translator, today: date | None) -> str:
    organisation = _cut(str(n.organisation_name or ""), ORGANISATION_CHARS)
    text = " ".join(str(n.text or "").split()) or t._("(message deleted)")

    def build(body: str) -> str:
        return t._(
            "Renfort – {organisation}: {text} (reply to answer)",
            organisation=organisation,
            text=body,
        )

    return _fitting(build, text)


def relay_to_organisation(n: RelayToOrganisation, t: Translator, today: date | None) -> str:
    name = _cut(str(n.volunteer_name or t._("A volunteer")), 30)
    text = " ".join(str(n.text or "").split()) or t._("(message deleted)")

    def build(body: str) -> str:
        return t._("Renfort: {name} answered: {text}", name=name, text=body)

    return _fitting(build, text)


RELAY_RENDERERS: dict[str, Renderer] = {
    RelayToVolunteer.kind: relay_to_volunteer,
    RelayToOrganisation.kind: relay_to_organisation,
}
