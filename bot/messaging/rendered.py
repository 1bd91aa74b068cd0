"""What every Telegram renderer shares: the rendered message and the escaping of values
that came from a person (names, titles, addresses); only our own markup is HTML."""

from __future__ import annotations

import html
from dataclasses import dataclass, field

from bot.buttons import Button


@dataclass(frozen=True)
class Rendered:
    """A notification ready for a channel: HTML text and rows of buttons."""

    text: str
    buttons: list[list[Button]] = field(default_factory=list)


def esc(value: object) -> str:
    """Escape a value for Telegram's HTML parse mode."""
    return html.escape(str(value), quote=False)
