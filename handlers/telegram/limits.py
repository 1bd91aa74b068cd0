"""Telegram refuses a text over 4096 characters ("message is too long"), which would leave
the person with nothing: long answers (a big roster, a list with long titles) are split
into several messages at line ends (an edit keeps the first and sends the others), or cut
when only one message can go (an outbox row). Our texts are Telegram HTML whose tags never
span lines, so a cut at a line end keeps them balanced."""

from __future__ import annotations

import html
import re

from bot.text import ELLIPSIS

MAX_TEXT = 4096
_TAG = re.compile(r"<[^>]*>")


def _flatten(line: str, limit: int) -> str:
    """One line too long by itself: its plain text, cut, escaped again."""
    plain = html.unescape(_TAG.sub("", line))
    # Escaping may lengthen the text again (& is 5 characters escaped): shrink until it fits.
    size = limit - 1
    while size > 0:
        cut = html.escape(plain[:size].rstrip(), quote=False) + ELLIPSIS
        if len(cut) <= limit:
            return cut
        size = min(size - 1, size * limit // len(cut))
    return ELLIPSIS


def split_html(text: str, limit: int = MAX_TEXT) -> list[str]:
    """`text` as one or more messages of at most `limit` characters, split at line ends."""
    if len(text) <= limit:
        return [text]
    parts: list[str] = []
    current: list[str] = []
    size = 0
    for line in text.split("\n"):
        if len(line) > limit:
            line = _flatten(line, limit)
        extra = len(line) + (1 if current else 0)
        if current and size + extra > limit:
            parts.append("\n".join(current))
            current, size = [], 0
            extra = len(line)
        current.append(line)
        size += extra
    if current:
        parts.append("\n".join(current))
    return [part for part in parts if part.strip()] or [text[: limit - 1] + ELLIPSIS]


def fit_html(text: str, limit: int = MAX_TEXT) -> str:
    """`text` as one message: the lines that fit, then an ellipsis."""
    if len(text) <= limit:
        return text
    first = split_html(text, limit - 2)[0]
    return first + "\n" + ELLIPSIS
