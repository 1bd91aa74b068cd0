"""GSM-7: which characters an SMS can carry cheaply, how many parts a text costs, and how
to bring French text back into GSM-7 when its accents would cost a second part.

One character outside GSM-7 switches the whole SMS to UCS-2: 70 characters instead of 160
(67 instead of 153 per part once split). Operators bill per part."""

from __future__ import annotations

import unicodedata
from functools import cache

GSM7_BASIC = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
# Reached through an escape character: each costs two septets.
GSM7_EXTENDED = frozenset("^{}\\[~]|€\f")

SINGLE_GSM7, PART_GSM7 = 160, 153
SINGLE_UCS2, PART_UCS2 = 70, 67

# What a French (or pasted) text holds that GSM-7 lacks, and its closest GSM-7 spelling.
# Accented capitals and lower-case letters without an entry fall back to their base letter.
_REPLACEMENTS = {
    "ç": "c",
    "œ": "oe",
    "Œ": "OE",
    "’": "'",
    "‘": "'",
    "‚": "'",
    "′": "'",
    "`": "'",
    "´": "'",
    "“": '"',
    "”": '"',
    "„": '"',
    "«": '"',
    "»": '"',
    "″": '"',
    "…": "...",
    "–": "-",
    "—": "-",
    "‒": "-",
    "―": "-",
    "−": "-",
    "‐": "-",
    "‑": "-",
    "•": "-",
    "·": "-",
    "°": "o",
    "×": "x",
    "⁄": "/",
    "\t": " ",
    "\u00a0": " ",  # no-break space
    "\u202f": " ",  # narrow no-break space (French punctuation, CLDR times)
    "\u2007": " ",
    "\u2009": " ",
    "\u200a": " ",
    "\u2002": " ",
    "\u2003": " ",
    "\u2028": "\n",
    "\u2029": "\n",
    "\u200b": "",
    "\u200c": "",
    "\u200d": "",
    "\u2060": "",
    "\ufe0f": "",  # emoji presentation selector
    "\ufeff": "",
}
UNKNOWN = "?"


def is_gsm7(text: str) -> bool:
    """Whether every character of `text` exists in GSM-7 (basic or extended)."""
    return all(c in GSM7_BASIC or c in GSM7_EXTENDED for c in text)


def _septets(char: str) -> int:
    return 2 if char in GSM7_EXTENDED else 1


def _utf16_units(char: str) -> int:
    return 2 if ord(char) > 0xFFFF else 1


def segments(text: str) -> int:
    """How many SMS parts `text` costs (an empty text still costs one)."""
    gsm = is_gsm7(text)
    size = _septets if gsm else _utf16_units
    single, part = (SINGLE_GSM7, PART_GSM7) if gsm else (SINGLE_UCS2, PART_UCS2)
    total = sum(size(c) for c in text)
    if total <= single:
        return 1
    # Split as handsets do: an escaped character or a surrogate pair never straddles parts.
    count, used = 1, 0
    for char in text:
        cost = size(char)
        if used + cost > part:
            count, used = count + 1, 0
        used += cost
    return count


def length(text: str) -> int:
    """Characters as the encoding counts them (septets for GSM-7, UTF-16 units for UCS-2)."""
    size = _septets if is_gsm7(text) else _utf16_units
    return sum(size(c) for c in text)


@cache
def _transliterate_char(char: str) -> str:
    if char in GSM7_BASIC or char in GSM7_EXTENDED:
        return char
    if char in _REPLACEMENTS:
        return _REPLACEMENTS[char]
    decomposed = unicodedata.normalize("NFKD", char)
    kept = "".join(
        c if c in GSM7_BASIC or c in GSM7_EXTENDED else _REPLACEMENTS.get(c, "")
        for c in decomposed
        if not unicodedata.combining(c)
    )
    if kept:
        return kept
    category = unicodedata.category(char)
    if category.startswith(("L", "N")):
        return UNKNOWN  # a letter of another script: show that something was there
    if category == "Zs":
        return " "
    return ""  # emoji, symbols, controls: nothing a reader would miss


def transliterate(text: str) -> str:
    """`text` in GSM-7 only: ê→e, ç→c, œ→oe, ’→', «»→", …→..., dashes→-, emoji dropped."""
    return "".join(_transliterate_char(c) for c in text)


def fit_encoding(text: str) -> str:
    """The cheapest spelling of `text`: itself if GSM-7 or one UCS-2 part, else GSM-7."""
    if is_gsm7(text) or sum(_utf16_units(c) for c in text) <= SINGLE_UCS2:
        return text
    return transliterate(text)
