"""Understanding what people really type in an SMS: any case, with or without accents,
stray spaces and punctuation, digits or number words, French or English keywords."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum

# Carrier keywords (Twilio's defaults, and ARRET as French operators use it): a whole
# message made of one of them stops every SMS until an opt-in keyword comes back.
STOP_WORDS = frozenset(
    {"STOP", "STOPALL", "STOP ALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT", "ARRET"}
)
START_WORDS = frozenset({"START", "UNSTOP", "YES", "OUI"})
HELP_WORDS = frozenset({"HELP", "AIDE", "INFO", "INFOS", "MENU"})
MISSIONS_WORDS = frozenset({"MISSIONS", "MISSION"})
MY_MISSIONS_WORDS = frozenset(
    {"MES MISSIONS", "MY MISSIONS", "MESMISSIONS", "MYMISSIONS", "MES MISSION", "MY MISSION"}
)
MORE_WORDS = frozenset({"SUITE", "LA SUITE", "MORE", "PLUS", "NEXT"})
LANGUAGE_WORDS = ("LANGUAGE", "LANGUE", "LANG")
BARE_CANCEL_WORDS = frozenset({"ANNULER", "ANNULE", "ANNULATION"})
YES_WORDS = frozenset(
    {"OUI", "O", "YES", "Y", "OK", "OKAY", "D ACCORD", "DACCORD", "OUAIS", "YEP", "YEAH"}
)
NO_WORDS = frozenset({"NON", "N", "NO", "NOPE", "PAS"})
ALL_WORDS = frozenset({"TOUT", "TOUS", "TOUTES", "ALL", "EVERYTHING", "0"})
# A whole message made of one of these switches the language at any point.
SWITCH_WORDS = {
    "fr": frozenset({"FRANCAIS", "FRANCAISE", "FRENCH"}),
    "en": frozenset({"ENGLISH", "ANGLAIS"}),
}
INTERESTS_WORDS = frozenset({"INTERETS", "INTERET", "INTERESTS", "INTEREST", "THEMES", "TOPICS"})
LANGUAGES = {
    "fr": frozenset({"FR", "FRA", "FRANCAIS", "FRANCAISE", "FRENCH"}),
    "en": frozenset({"EN", "ENG", "ENGLISH", "ANGLAIS", "UK", "GB"}),
}
NUMBER_WORDS = {
    "ZERO": 0,
    "UN": 1,
    "UNE": 1,
    "ONE": 1,
    "DEUX": 2,
    "TWO": 2,
    "TROIS": 3,
    "THREE": 3,
    "QUATRE": 4,
    "FOUR": 4,
    "CINQ": 5,
    "FIVE": 5,
    "SIX": 6,
    "SEPT": 7,
    "SEVEN": 7,
    "HUIT": 8,
    "EIGHT": 8,
    "NEUF": 9,
    "NINE": 9,
    "DIX": 10,
    "TEN": 10,
}
MAX_NUMBER = 9999
NAME_MAX = 40
# What people put before their name although we only asked for it.
NAME_PREFIXES = (
    "JE M APPELLE ",
    "MOI C EST ",
    "C EST ",
    "MY NAME IS ",
    "I AM ",
    "I M ",
    "JE SUIS ",
)
# Greetings that open a first message before the name: 'Bonjour, Camille 52100'.
GREETINGS = frozenset(
    {
        "BONJOUR",
        "BONSOIR",
        "SALUT",
        "COUCOU",
        "HELLO",
        "HI",
        "HEY",
        "HIYA",
        "GOOD MORNING",
        "GOOD AFTERNOON",
        "GOOD EVENING",
        "MORNING",
    }
)
# Words that tell an English first message from a French one (French unless told).
ENGLISH_WORDS = frozenset(
    {
        "HI",
        "HELLO",
        "HEY",
        "HIYA",
        "I",
        "IM",
        "MY",
        "NAME",
        "IS",
        "HELP",
        "PLEASE",
        "THANKS",
        "THANK",
        "YOU",
        "WANT",
        "WOULD",
        "LIKE",
        "VOLUNTEER",
        "VOLUNTEERING",
        "ENGLISH",
        "GOOD",
        "MORNING",
        "AFTERNOON",
        "EVENING",
        "THE",
        "AND",
        "CAN",
        "HOW",
        "WHAT",
        "JOIN",
        "YES",
    }
)
FRENCH_WORDS = frozenset(
    {
        "BONJOUR",
        "BONSOIR",
        "SALUT",
        "COUCOU",
        "JE",
        "SUIS",
        "MOI",
        "EST",
        "APPELLE",
        "MERCI",
        "OUI",
        "AIDE",
        "AIDER",
        "POUR",
        "BENEVOLE",
        "BENEVOLAT",
        "FRANCAIS",
        "ET",
        "VOUDRAIS",
        "VEUX",
        "AVEC",
        "VOUS",
        "NOUS",
    }
)
# Words that are no first name, though they may sit beside one in a first message.
NOT_A_NAME = (
    ENGLISH_WORDS
    | FRENCH_WORDS
    | {
        "C",
        "M",
        "J",
        "HABITE",
        "LIVE",
        "CODE",
        "POSTAL",
        "POSTCODE",
        "ZIP",
    }
)

_NUMBER = re.compile(r"^(?:(?:N|NO|NUM|NUMERO|NR|NUMBER) ?)?(\d{1,6})$")
_CANCEL = re.compile(r"^(?:ANNULER|ANNULE|ANNULATION|CANCEL) ?(?:(?:N|NO|NUMERO) ?)?(\d{1,6})$")
_POSTCODE = re.compile(r"^(\d{2}) ?(\d{3})$")
# A postcode inside a longer message: five digits, or '52 100', standing alone (a comma
# before it, typed without a space after a name, is no decimal point).
_POSTCODE_INSIDE = re.compile(r"(?<!\d)(?<!\d[.,])(\d{2}) ?(\d{3})(?![\d.,]*\d)")
# '2.1', '2,1', '2 1': mission 2 of the list, its slot 1.
_SLOT = re.compile(r"^(\d{1,3}) (\d{1,3})$")
_LETTERS_OF_NAME = re.compile(r"[^\w\s'\-]|[\d_]")


class Kind(StrEnum):
    EMPTY = "empty"
    STOP = "stop"
    START = "start"
    HELP = "help"
    LANGUAGE = "language"
    MISSIONS = "missions"
    MY_MISSIONS = "my_missions"
    CANCEL = "cancel"
    CANCEL_WITHOUT_NUMBER = "cancel_without_number"
    MORE = "more"
    NUMBER = "number"
    SLOT = "slot"  # a mission's number and one of its slots' ('2.1')
    INTERESTS = "interests"
    TEXT = "text"


@dataclass(frozen=True)
class Command:
    """One SMS understood: its kind, number (and slot number), language, yes/no reading and
    trimmed text."""

    kind: Kind
    text: str = ""
    number: int | None = None
    language: str | None = None
    yes: bool | None = None
    slot: int | None = None


def fold(text: str) -> str:
    """Upper case, no accents, punctuation as spaces, single spaces: 'Arrêt !' -> 'ARRET'."""
    decomposed = unicodedata.normalize("NFKD", text)
    plain = "".join(c for c in decomposed if not unicodedata.combining(c)).upper()
    kept = "".join(c if c.isascii() and c.isalnum() else " " for c in plain)
    return " ".join(kept.split())


def parse_number(text: str) -> int | None:
    """'1', '1.', ' 1 ', 'n°1', '#1', 'un', 'one' -> 1."""
    folded = fold(text)
    if folded in NUMBER_WORDS:
        return NUMBER_WORDS[folded]
    match = _NUMBER.match(folded)
    if match is None:
        return None
    value = int(match.group(1))
    return value if value <= MAX_NUMBER else None


def parse_yes_no(text: str) -> bool | None:
    """'oui', 'OUI', 'o', 'yes', 'y', 'ok', '👍' -> True; 'non', 'n', 'no' -> False."""
    if text.strip() in ("👍", "👌", "✅"):
        return True
    folded = fold(text)
    if folded in YES_WORDS:
        return True
    if folded in NO_WORDS:
        return False
    return None


def parse_language(text: str) -> str | None:
    """'1', 'fr', 'Français' -> 'fr'; '2', 'en', 'english' -> 'en'."""
    folded = fold(text)
    for locale, words in LANGUAGES.items():
        if folded in words:
            return locale
    number = parse_number(text)
    return {1: "fr", 2: "en"}.get(number) if number is not None else None


def parse_command(text: str) -> Command:
    """The keyword, number or free text in one SMS; never raises."""
    raw = text.strip()
    folded = fold(raw)
    yes = parse_yes_no(raw)
    if not folded:
        if raw in ("?", "??"):
            return Command(Kind.HELP, raw)
        if raw == "+":
            return Command(Kind.MORE, raw)
        return Command(Kind.EMPTY if not raw else Kind.TEXT, raw, yes=yes)
    if folded in STOP_WORDS:
        return Command(Kind.STOP, raw)
    if folded in START_WORDS:
        return Command(Kind.START, raw, yes=yes)
    if folded in HELP_WORDS:
        return Command(Kind.HELP, raw)
    for word in LANGUAGE_WORDS:
        if folded == word or folded.startswith(word + " "):
            rest = folded[len(word) :].strip()
            return Command(Kind.LANGUAGE, raw, language=parse_language(rest) if rest else None)
    for locale, words in SWITCH_WORDS.items():
        if folded in words:
            return Command(Kind.LANGUAGE, raw, language=locale)
    if folded in INTERESTS_WORDS:
        return Command(Kind.INTERESTS, raw)
    if folded in MY_MISSIONS_WORDS:
        return Command(Kind.MY_MISSIONS, raw)
    if folded in MISSIONS_WORDS:
        return Command(Kind.MISSIONS, raw)
    cancel = _CANCEL.match(folded)
    if cancel is not None:
        return Command(Kind.CANCEL, raw, number=min(int(cancel.group(1)), MAX_NUMBER + 1))
    if folded in BARE_CANCEL_WORDS:
        return Command(Kind.CANCEL_WITHOUT_NUMBER, raw)
    if folded in MORE_WORDS:
        return Command(Kind.MORE, raw)
    number = parse_number(raw)
    if number is not None:
        return Command(Kind.NUMBER, raw, number=number, yes=yes)
    slot = _SLOT.match(folded)
    if slot is not None:
        return Command(Kind.SLOT, raw, number=int(slot.group(1)), slot=int(slot.group(2)))
    return Command(Kind.TEXT, raw, yes=yes)


def parse_choices(text: str, count: int, labels: Sequence[str] = ()) -> list[int] | None:
    """'1 3', '1,3 et 5', '135', 'tout', '0', 'sport' -> choices among 1..count, or None."""
    folded = fold(text)
    tokens = [t for t in folded.split() if t not in ("ET", "AND")]
    if not tokens:
        return None
    if any(t in ALL_WORDS for t in tokens):
        return list(range(1, count + 1))
    folded_labels = [fold(label) for label in labels]
    chosen: set[int] = set()
    for token in tokens:
        picked = _choice(token, count, folded_labels)
        if picked is None:
            return None
        chosen.update(picked)
    return sorted(chosen)


def _choice(token: str, count: int, labels: Sequence[str]) -> set[int] | None:
    if token.isdigit():
        value = int(token)
        if 1 <= value <= count:
            return {value}
        # '135' from someone who typed their choices without spaces (choices are one digit).
        digits = {int(d) for d in token}
        if count < 10 and all(1 <= d <= count for d in digits):
            return digits
        return None
    if token in NUMBER_WORDS and 1 <= NUMBER_WORDS[token] <= count:
        return {NUMBER_WORDS[token]}
    if len(token) >= 3:
        matches = {i for i, label in enumerate(labels, 1) if label.startswith(token)}
        if len(matches) == 1:
            return matches
    return None


def parse_postcode(text: str) -> str | None:
    """'52100', '52 100' -> '52100'."""
    match = _POSTCODE.match(" ".join(text.split()))
    return None if match is None else match.group(1) + match.group(2)


def parse_first_name(text: str) -> str | None:
    """'camille', 'JEAN-PIERRE 😊', "je m'appelle Zoé" -> 'Camille', 'Jean-Pierre', 'Zoé'."""
    # Composed, so that an accent sent apart from its letter stays on it.
    cleaned = unicodedata.normalize("NFC", text).replace("’", "'").strip()
    folded = fold(cleaned) + " "
    for prefix in NAME_PREFIXES:
        if folded.startswith(prefix):
            cleaned = _drop_words(cleaned, prefix.count(" "))
            break
    cleaned = " ".join(_LETTERS_OF_NAME.sub(" ", cleaned).split()).strip("'- ")
    if not cleaned or len(cleaned) > NAME_MAX or len(cleaned.split()) > 3:
        return None
    if not any(c.isalpha() for c in cleaned):
        return None
    if cleaned.islower() or cleaned.isupper():
        cleaned = cleaned.title()
    return cleaned


def _drop_words(text: str, count: int) -> str:
    """`text` without its first `count` words ('m'appelle' counts as two, like the fold)."""
    words = re.split(r"[\s']+", text, maxsplit=count)
    return words[-1] if len(words) > count else ""


def guess_language(text: str) -> str | None:
    """The language a first message is written in: 'hi I'm Sam' -> 'en', 'Bonjour' -> 'fr',
    'Camille 52100' -> None (its words do not tell)."""
    words = fold(text).split()
    english = sum(w in ENGLISH_WORDS for w in words)
    french = sum(w in FRENCH_WORDS for w in words)
    if english > french:
        return "en"
    return "fr" if french else None


@dataclass(frozen=True)
class Introduction:
    """What a person said about themselves in one message: 'Je suis Camille, 52100'."""

    first_name: str | None
    postcode: str | None


def parse_introduction(text: str) -> Introduction:
    """'Camille 52100', 'Je suis Camille, 52 100', "hi I'm Sam 75011" -> the name and the
    postcode, each None when missing; words like 'bonjour' or 'je veux aider' are no name."""
    cleaned = text.replace("’", "'").strip()
    postcodes = list(_POSTCODE_INSIDE.finditer(cleaned))
    if len(postcodes) != 1:
        return Introduction(_name_among(_without_greeting(cleaned)), None)
    found = postcodes[0]
    postcode = found.group(1) + found.group(2)
    # A French address puts the town after the postcode ('Camille, 52100 Saint-Dizier'):
    # what follows the postcode is the name only when nothing but a greeting precedes it.
    before = _without_greeting(cleaned[: found.start()])
    said = before if fold(before) else _without_greeting(cleaned[found.end() :])
    return Introduction(_name_among(said), postcode)


def _without_greeting(text: str) -> str:
    rest = text.strip(" ,.;:!-")
    folded = fold(rest)
    for greeting in sorted(GREETINGS, key=len, reverse=True):
        if folded == greeting or folded.startswith(greeting + " "):
            rest = _drop_words(rest, greeting.count(" ") + 1)
            break
    return rest.strip(" ,.;:!-")


def _name_among(text: str) -> str | None:
    """The first name in what remains of an introduction, once greetings are dropped."""
    name = parse_first_name(text)
    if name is None or len(name.split()) > 2:
        return None
    if any(word in NOT_A_NAME for word in fold(name).split()):
        return None
    return name
