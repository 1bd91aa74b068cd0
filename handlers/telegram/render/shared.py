"""What every Telegram renderer shares: the rendered message, the slot and place lines, and
the escaping of values that came from a person (names, titles, addresses); only our own
markup is HTML."""

from __future__ import annotations

import html
from collections.abc import Callable
from typing import Any
from zoneinfo import ZoneInfo

from bot.actions import APPROVE, REFUSE
from bot.buttons import Button
from bot.i18n import Translator
from bot.messaging.message import Message
from bot.notifications.facts import Placed, Timed

# A kind's renderer takes that kind's notification (see the catalogue's test).
Renderer = Callable[[Any, Translator], Message]


def esc(value: object) -> str:
    """Escape a value for Telegram's HTML parse mode."""
    return html.escape(str(value), quote=False)


def slot_text(n: Timed, t: Translator) -> str:
    """The slot's day and hours in its own time zone (escaped)."""
    return esc(t.slot_span(n.starts_at, n.ends_at, ZoneInfo(n.timezone)))


def place_text(n: Placed, t: Translator) -> str:
    """Where the mission happens (escaped), or that it is remote."""
    if n.remote:
        return t._("Remote")
    return esc(n.address or t._("Address to be confirmed"))


def answer_buttons(
    yes: tuple[str, str], no: tuple[str, str], data: dict[str, Any]
) -> list[list[Button]]:
    """The ✅ and ❌ pair under a question the person answers with one tap: each a label and
    its action, both carrying the same data."""
    return [[Button("✅ " + yes[0], yes[1], data), Button("❌ " + no[0], no[1], data)]]


def decision_buttons(t: Translator, application_id: int) -> list[list[Button]]:
    """Approve / Refuse under an application (the admin group's handlers answer them)."""
    data = {"application_id": application_id}
    return [[Button(t._("✅ Approve"), APPROVE, data), Button(t._("❌ Refuse"), REFUSE, data)]]
