"""Registering by SMS in as few paid messages as possible: the first name and the postcode
come in one message ("Camille 52100", even as the very first one), the language is read from
the words of the first message (ENGLISH / FRANCAIS switch it at any time), and interests are
not asked: INTERESTS chooses them once registered. What is asked next is read from what the
person record still lacks (bot.conversation.registering), so a registration interrupted by
STOP, or begun on Telegram, resumes where it stands."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from bot.conversation import registering
from bot.conversation.registering import Step
from bot.geo import Place
from bot.services import people, phones
from bot.services.people import Person
from handlers.sms import browse, replies
from handlers.sms.parse import (
    Command,
    Introduction,
    Kind,
    guess_language,
    parse_choices,
    parse_first_name,
    parse_introduction,
    parse_language,
    parse_postcode,
)
from handlers.sms.turn import IDLE, POSTER_MISSION, SmsTurn

# Conversation state: the interests question is open.
INTERESTS = "interests"
# Keywords that need a finished registration.
LATER = (
    Kind.MISSIONS,
    Kind.MY_MISSIONS,
    Kind.CANCEL,
    Kind.CANCEL_WITHOUT_NUMBER,
    Kind.MORE,
    Kind.INTERESTS,
)
# Kinds of message that may say who someone is or which interests they choose.
SAYINGS = (Kind.TEXT, Kind.NUMBER, Kind.SLOT)
NOTHING_SAID = Introduction(None, None)


def question(turn: SmsTurn, person: Person) -> str:
    """The question of the step `person` stands at."""
    if person.locale is None:
        return replies.welcome(turn.t)
    step = registering.step(person)
    if step == Step.NAME_AND_HOME:
        return replies.ask_introduction(turn.t)
    if step == Step.NAME:
        return replies.ask_first_name(turn.t)
    if step == Step.HOME:
        return replies.ask_home(turn.t, person.first_name)
    # Name and home known, registration not finished: someone who started before interests
    # were left for later (or who gave both on Telegram); any answer finishes it.
    return replies.ask_interests(turn.t)


async def first_message(turn: SmsTurn, command: Command, poster_mission: int | None) -> None:
    """A new number's first SMS (STOP aside): registration starts, and ends at once when the
    message already holds a first name and a postcode."""
    # Creating the contact claims nothing: the profile's change below commits the message,
    # and a retry after a failure in between finds the contact and comes back here.
    turn.contact = await phones.start_contact(turn.renfort.db, turn.phone)
    kept = {} if poster_mission is None else {POSTER_MISSION: poster_mission}
    await _introduced(turn, command, kept)


async def answer(turn: SmsTurn, command: Command) -> None:
    """The SMS answers the current registration question (or is a keyword too early)."""
    person = turn.person
    if person.locale is None:
        await _introduced(turn, command, turn.kept())
        return
    if command.kind in LATER and registering.step(person) != Step.FINISH:
        turn.say(replies.finish_registering_first(turn.t, question(turn, person)))
        return
    await _take(turn, command, turn.kept(), None, first=False)


async def _introduced(turn: SmsTurn, command: Command, kept: dict[str, Any]) -> None:
    """A message from someone whose language is not known yet: it says which."""
    locale = command.language if command.kind == Kind.LANGUAGE else None
    # '1' or '2' answers the bilingual question older versions asked.
    locale = locale or parse_language(command.text) or guess_language(command.text)
    locale = locale or turn.t.locale
    turn.speak(locale)
    await _take(turn, command, kept, locale, first=True)


async def _take(
    turn: SmsTurn, command: Command, kept: dict[str, Any], locale: str | None, *, first: bool
) -> None:
    """Keep what the message says about the person; finish, or ask what is still missing."""
    person = turn.person
    step = registering.step(person)
    text = " ".join(command.text.split()) if command.kind in SAYINGS else ""
    said = parse_introduction(text) if text else NOTHING_SAID
    name: str | None = None
    if step in (Step.NAME_AND_HOME, Step.NAME):
        name = said.first_name
        if name is None and step == Step.NAME and said.postcode is None:
            name = parse_first_name(text)
        # A first message says a name only beside a postcode: alone, 'Salut' is no name.
        if first and said.postcode is None:
            name = None
        # 'Non', 'OK': an answer meant for some other question, nobody's first name.
        if command.yes is not None:
            name = None
    home: Place | None = None
    unknown_place = False
    if step in (Step.NAME_AND_HOME, Step.HOME):
        place_text = said.postcode
        if place_text is None and step == Step.HOME and text:
            place_text = parse_postcode(text) or text
        if place_text is not None:
            found = await registering.resolve_home(turn.renfort.geocoder, place_text)
            home = found if isinstance(found, Place) else None
            unknown_place = home is None
    interests: list[str] = []
    if step == Step.FINISH and text:
        chosen = parse_choices(text, len(replies.DOMAIN_ORDER), replies.interest_labels(turn.t))
        interests = [replies.DOMAIN_ORDER[i - 1] for i in chosen or ()]
    if registering.step(person, first_name=name, home=home) == Step.FINISH:
        await _finish(turn, kept, name, home, locale, interests)
        return
    if name is None and home is None and locale is None:
        turn.say(_not_understood(turn, step, unknown_place))
        return
    person = await registering.save(
        turn.renfort.db,
        person.id,
        first_name=name,
        home=home,
        locale=locale,
        inbound=turn.goto(IDLE, **kept),
    )
    if unknown_place:
        turn.say(replies.unknown_home(turn.t))
    elif first and registering.step(person) == Step.NAME_AND_HOME:
        turn.say(replies.welcome(turn.t))
    else:
        turn.say(question(turn, person))


def _not_understood(turn: SmsTurn, step: Step, unknown_place: bool) -> str:
    if unknown_place or step == Step.HOME:
        return replies.unknown_home(turn.t)
    if step == Step.NAME:
        return replies.bad_first_name(turn.t)
    return replies.ask_introduction(turn.t)


async def _finish(
    turn: SmsTurn,
    kept: dict[str, Any],
    name: str | None,
    home: Place | None,
    locale: str | None,
    interests: list[str],
) -> None:
    person = await registering.finish(
        turn.renfort.db,
        turn.person,
        first_name=name,
        home=home,
        locale=locale,
        interests=interests,
        inbound=turn.goto(IDLE),
    )
    if turn.contact is not None:
        turn.contact = replace(turn.contact, person=person)
    mission_id = kept.get(POSTER_MISSION)
    if isinstance(mission_id, int) and await browse.poster_mission(turn, mission_id):
        return
    turn.say(replies.registered(turn.t, person.first_name, person.town or person.postcode or ""))


async def choose_language(turn: SmsTurn, locale: str) -> None:
    """Set the language; go on with registration, or confirm it to a registered person."""
    person = await people.update_profile(
        turn.renfort.db, turn.person.id, locale=locale, inbound=turn.goto(IDLE, **turn.kept())
    )
    turn.speak(locale)
    turn.say(replies.language_set(turn.t) if person.registered else question(turn, person))


def ask_interests(turn: SmsTurn) -> None:
    """INTERESTS: which domains the person would like missions in (none chosen: all)."""
    turn.goto(INTERESTS)
    turn.say(replies.ask_interests(turn.t))


async def interests_answer(turn: SmsTurn, command: Command) -> None:
    """The numbers (or names) of the domains chosen after INTERESTS."""
    labels = replies.interest_labels(turn.t)
    chosen = parse_choices(command.text, len(replies.DOMAIN_ORDER), labels)
    if not chosen:
        turn.say(replies.bad_interests(turn.t))
        return
    await people.update_profile(
        turn.renfort.db,
        turn.person.id,
        interests=[replies.DOMAIN_ORDER[i - 1] for i in chosen],
        inbound=turn.goto(IDLE),
    )
    turn.say(replies.interests_chosen(turn.t, [labels[i - 1] for i in chosen]))
