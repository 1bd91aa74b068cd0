"""Registering by SMS: language, first name, postcode, interests, one question per SMS.
Which question comes next is read from what the person record still lacks, so a
registration interrupted by STOP, or begun on Telegram, resumes where it stands."""

from __future__ import annotations

from bot.domain import DEFAULT_RADIUS_KM
from bot.services import people
from bot.services.people import Person
from bot.sms import replies
from handlers.sms import browse
from handlers.sms.parse import (
    Command,
    Kind,
    parse_choices,
    parse_first_name,
    parse_language,
    parse_postcode,
)
from handlers.sms.turn import IDLE, POSTER_MISSION, SmsTurn

LANGUAGE_STEP, NAME_STEP, HOME_STEP, INTERESTS_STEP = "language", "name", "home", "interests"
# Longer than any French commune's name: anything beyond is not a place.
PLACE_MAX = 60
# Keywords that need a finished registration.
LATER = (Kind.MISSIONS, Kind.MY_MISSIONS, Kind.CANCEL, Kind.CANCEL_WITHOUT_NUMBER, Kind.MORE)


def next_step(person: Person) -> str:
    if person.locale is None:
        return LANGUAGE_STEP
    if not person.first_name:
        return NAME_STEP
    if person.home is None:
        return HOME_STEP
    return INTERESTS_STEP


def question(turn: SmsTurn, person: Person) -> str:
    """The question of the step `person` stands at."""
    step = next_step(person)
    if step == LANGUAGE_STEP:
        return replies.WELCOME
    if step == NAME_STEP:
        return replies.ask_first_name(turn.t)
    if step == HOME_STEP:
        return replies.ask_home(turn.t, person.first_name)
    return replies.ask_interests(turn.t)


async def answer(turn: SmsTurn, command: Command) -> None:
    """The SMS is the answer to the current registration question (or a keyword too early)."""
    person = turn.person
    step = next_step(person)
    if command.kind in LATER:
        turn.say(replies.finish_registering_first(turn.t, _reasked(turn, person)))
        return
    if step == LANGUAGE_STEP:
        await _language(turn, command)
    elif step == NAME_STEP:
        await _first_name(turn, command)
    elif step == HOME_STEP:
        await _home(turn, command)
    else:
        await _interests(turn, command)


def _reasked(turn: SmsTurn, person: Person) -> str:
    if next_step(person) == LANGUAGE_STEP:
        return replies.LANGUAGE_QUESTION
    return question(turn, person)


async def _language(turn: SmsTurn, command: Command) -> None:
    locale = parse_language(command.text)
    if locale is None:
        turn.say(replies.LANGUAGE_QUESTION)
        return
    await choose_language(turn, locale)


async def choose_language(turn: SmsTurn, locale: str) -> None:
    """Set the language; go on with registration, or confirm it to a registered person."""
    person = await people.update_profile(
        turn.renfort.db, turn.person.id, locale=locale, inbound=turn.goto(IDLE, **turn.kept())
    )
    turn.speak(locale)
    turn.say(replies.language_set(turn.t) if person.registered else question(turn, person))


async def _first_name(turn: SmsTurn, command: Command) -> None:
    name = parse_first_name(command.text)
    if name is None:
        turn.say(replies.bad_first_name(turn.t))
        return
    person = await people.update_profile(
        turn.renfort.db, turn.person.id, first_name=name, inbound=turn.goto(IDLE, **turn.kept())
    )
    turn.say(question(turn, person))


async def _home(turn: SmsTurn, command: Command) -> None:
    text = " ".join(command.text.split())
    place = None
    if text and len(text) <= PLACE_MAX:
        place = await turn.renfort.geocoder.resolve(parse_postcode(text) or text)
    if place is None:
        turn.say(replies.unknown_home(turn.t))
        return
    person = await people.update_profile(
        turn.renfort.db, turn.person.id, home=place, inbound=turn.goto(IDLE, **turn.kept())
    )
    turn.say(question(turn, person))


async def _interests(turn: SmsTurn, command: Command) -> None:
    chosen = parse_choices(command.text, len(replies.DOMAIN_ORDER), replies.interest_labels(turn.t))
    if not chosen:
        turn.say(replies.bad_interests(turn.t))
        return
    person = await people.update_profile(
        turn.renfort.db,
        turn.person.id,
        interests=[replies.DOMAIN_ORDER[i - 1] for i in chosen],
        search_radius_km=turn.person.search_radius_km or DEFAULT_RADIUS_KM,
        complete_registration=True,
        inbound=turn.goto(IDLE),
    )
    mission_id = turn.data.get(POSTER_MISSION)
    if isinstance(mission_id, int) and await browse.poster_mission(turn, mission_id):
        return
    turn.say(replies.registered(turn.t, person.first_name, person.town or person.postcode or ""))
