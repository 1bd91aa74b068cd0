"""Text people type, made safe to store and to echo back.

Every text that comes in (a chat message, a profile name, an SMS, a spreadsheet cell) goes
through `clean_text` before anything keeps it: control characters break PostgreSQL (NUL),
terminals and logs, and nobody means to type them. Every text echoed back to a person goes
through `shorten`, so that someone else's 4,000-character answer cannot push our message
over Telegram's limit."""

from __future__ import annotations

import unicodedata

ELLIPSIS = "…"
# Characters that shape a line rather than draw one; kept because a relay message or a
# description may span several lines.
_KEPT_CONTROLS = frozenset("\n\t")
# Typical lengths for what is echoed inside a longer message.
NAME_ECHO = 64
PLACE_ECHO = 80


def _unwanted(char: str) -> bool:
    if char in _KEPT_CONTROLS:
        return False
    category = unicodedata.category(char)
    # Cc: C0/C1 controls incl. NUL; Cs: lone surrogates (not encodable in UTF-8);
    # Cn: unassigned code points and non-characters (U+FFFE, U+FFFF…).
    return category in ("Cc", "Cs", "Cn")


def clean_text(text: str) -> str:
    """`text` without control characters; Windows line ends become plain ones."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    if text.isprintable():  # the usual case, checked in C
        return text
    return "".join(c for c in text if not _unwanted(c))


def shorten(text: str, limit: int) -> str:
    """`text` cut to at most `limit` characters, an ellipsis showing where it was cut."""
    if len(text) <= limit:
        return text
    cut = text[: max(limit - 1, 0)].rstrip()
    return cut + ELLIPSIS


def one_line(text: str, limit: int) -> str:
    """`text` with its line breaks and runs of spaces folded, then shortened: for a name, a
    place or a title shown inside a sentence."""
    return shorten(" ".join(text.split()), limit)
