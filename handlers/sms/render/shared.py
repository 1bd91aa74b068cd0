"""What the SMS texts of every family share: one SMS at most (values cut to fit), the
slot's dates and the place, and the renderer's shape."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from bot.i18n import Translator
from bot.messaging.message import Choice, Message
from bot.notifications.facts import Placed, Timed
from handlers.sms import dates
from handlers.sms.gsm7 import SINGLE_GSM7, SINGLE_UCS2, fit_encoding, is_gsm7, length, segments

# A kind's SMS renderer: its notification, the reader's words, today (dates read shorter);
# it returns its text, or a Message when the text asks the reader to choose.
Renderer = Callable[[Any, Translator, date | None], str | Message]

ELLIPSIS = "..."
SHORTEST = 12  # a value cut below this stops saying anything


def shorten(value: str, size: int) -> str:
    """`value` in at most `size` characters, marked as cut."""
    value = " ".join(value.split())
    if len(value) <= size:
        return value
    return value[: max(size - len(ELLIPSIS), 1)].rstrip(" ,.-") + ELLIPSIS


def fit(
    build: Callable[[Mapping[str, str]], str],
    values: Mapping[str, str],
    shrinkable: Sequence[str] = (),
    shortest: int = SHORTEST,
) -> str:
    """`build(values)` in its cheapest encoding, `shrinkable` values cut until it fits one SMS."""
    current = {k: " ".join(v.split()) if k in shrinkable else v for k, v in values.items()}
    while True:
        text = fit_encoding(build(current))
        if segments(text) == 1:
            return text
        limit = SINGLE_GSM7 if is_gsm7(text) else SINGLE_UCS2
        candidates = [k for k in shrinkable if len(current[k]) > shortest]
        if not candidates:
            return text
        # The longest values give up characters first, down to a common length, so no
        # single one is cut to nothing while another stays whole.
        level = _level([len(current[k]) for k in candidates], length(text) - limit, shortest)
        for key in candidates:
            if len(current[key]) > level:
                current[key] = shorten(current[key], level)


def _level(lengths: Sequence[int], overflow: int, shortest: int) -> int:
    """The largest common length whose cuts free `overflow` characters (or `shortest`)."""
    for level in range(max(lengths) - 1, shortest, -1):
        if sum(n - level for n in lengths if n > level) >= max(overflow, 1):
            return level
    return shortest


def today_of(now: datetime | None) -> date | None:
    return None if now is None else now.date()


def when(n: Timed, t: Translator, today: date | None) -> str:
    """The slot of a notification: 'dim. 13 juin 8h-13h'."""
    return dates.span(
        t.locale,
        n.starts_at,
        n.ends_at,
        ZoneInfo(n.timezone),
        today,
    )


def place(n: Placed, t: Translator) -> str:
    if n.remote:
        return t._("remote")
    return str(n.address or t._("address to be confirmed"))


def yes_no_choices(t: Translator) -> tuple[Choice, Choice]:
    """YES and NO in the reader's language, as the engine reads them typed."""
    return Choice(t._("Yes"), t._("YES")), Choice(t._("No"), t._("NO"))


def yes_no(t: Translator, text: str) -> Message:
    """`text`, a question answered with YES or NO."""
    return Message(text, yes_no_choices(t))
