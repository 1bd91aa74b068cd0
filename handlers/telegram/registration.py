"""The volunteer registers: first name, home area, interests.

Every step is a conversation state in the database, so a restart between two messages
resumes at the same step; the steps' questions are reused by the profile. Which step follows
the name is read from what the person record still lacks (bot.conversation.registering), as
on a phone: a home already known, shared early or kept from a phone, is not asked again."""

from __future__ import annotations

from typing import Any

from telegram import ReplyKeyboardRemove, Update

from bot.buttons import Button
from bot.config import SUPPORTED_LOCALES
from bot.conversation import registering
from bot.conversation.registering import Step, UnknownPlace
from bot.domain import DOMAINS, GeoPoint
from bot.geo import Place
from bot.services import people
from bot.services.people import Person
from bot.text import NAME_ECHO, PLACE_ECHO, one_line
from handlers.telegram.common import (
    RenfortContext,
    Turn,
    answer_query,
    esc,
    refresh_person,
    reply,
)
from handlers.telegram.flow import (
    INTERESTS_SAVED,
    PICK_SLOT,
    SET_LANGUAGE,
    checked,
    commands_text,
    home_area,
    interests_text,
    location_keyboard,
    message_text,
    moving,
    radius_text,
    send_with_keyboard,
)

REG_NAME, REG_PLACE, REG_INTERESTS = "reg:name", "reg:place", "reg:interests"
REGISTRATION_STATES = (REG_NAME, REG_PLACE, REG_INTERESTS)

KEEP_NAME = "vol.keep_name"
TOGGLE_INTEREST = "vol.interest"
INTERESTS_DONE = "vol.interests_done"

# The interests keyboard serves registration and the profile; Done differs.
REGISTERING, EDITING = "reg", "profile"
DONE_ACTIONS = {REGISTERING: INTERESTS_DONE, EDITING: INTERESTS_SAVED}
BUTTON_TITLE_ECHO = 48  # a button shows one short line

# Telegram's state for each step the person record puts someone at. A missing name is asked
# at Telegram's own name step, which also has the person confirm the name Telegram gave.
STEP_STATES = {
    Step.NAME_AND_HOME: REG_NAME,
    Step.NAME: REG_NAME,
    Step.HOME: REG_PLACE,
    Step.FINISH: REG_INTERESTS,
}


def after_name(person: Person, *, first_name: str | None = None, home: Place | None = None) -> str:
    """The state once the name is confirmed, counting what was just said: the home if the
    record lacks one, else the interests."""
    return STEP_STATES[registering.step(person, first_name=first_name, home=home)]


def standing(turn: Turn) -> str:
    """The step someone registering is at: Telegram's name confirmation, or past it what
    their record still lacks (it may have gained a home since, from a phone)."""
    return REG_NAME if turn.state == REG_NAME else after_name(turn.me)


async def start_registration(update: Update, context: RenfortContext) -> None:
    """Welcome a newcomer, take them back to their step, or greet a registered volunteer."""
    turn = context.turn
    t, me = turn.t, turn.me
    if me.registered:
        turn.inbound.goto(None)
        await reply(
            update,
            context,
            t._("Welcome back, {name}! 👋", name=esc(me.first_name))
            + "\n\n"
            + commands_text(t, registered=True),
        )
        return
    if turn.state in REGISTRATION_STATES:
        await resume(update, context)
        return
    turn.inbound.goto(REG_NAME)
    await reply(
        update,
        context,
        t._(
            "👋 Welcome to Renfort! Local organisations — town halls, associations, public "
            "services — need a hand, and I bring their missions to you."
        ),
    )
    await ask_name(update, context)


async def ask_to_register(
    update: Update, context: RenfortContext, slot_id: int, title: str
) -> None:
    """Someone not registered picked a slot: register first, then offer that slot again."""
    turn = context.turn
    begun = turn.state in REGISTRATION_STATES
    state = turn.state if begun and turn.state else REG_NAME
    data = (turn.data if begun else {}) | {"then": {"slot": slot_id, "title": title}}
    turn.inbound.goto(state, **data)
    turn.state, turn.data = state, turn.inbound.next_data
    await reply(
        update, context, turn.t._("Before you apply, let's finish your registration: one minute.")
    )
    await resume(update, context)


async def resume(update: Update, context: RenfortContext) -> None:
    """Ask again the question of the step they are at."""
    turn = context.turn
    state = standing(turn)
    if state != turn.state:
        turn.inbound.goto(state, **turn.data)
        turn.state = state
    await ask(update, context, state)


async def ask(update: Update, context: RenfortContext, state: str) -> None:
    """The question of a registration step."""
    if state == REG_PLACE:
        await ask_place(update, context)
    elif state == REG_INTERESTS:
        await ask_interests(update, context, REGISTERING)
    else:
        await ask_name(update, context)


async def ask_name(update: Update, context: RenfortContext) -> None:
    """The first-name question, with the name Telegram gave us as a one-tap answer."""
    t = context.turn.t
    other = next(loc for loc in SUPPORTED_LOCALES if loc != t.locale)
    name = one_line(context.turn.me.first_name, NAME_ECHO)
    buttons = [
        [Button(t._("Keep «{name}»", name=name), KEEP_NAME)],
        [Button("🌐 " + t.language_name(other), SET_LANGUAGE, {"locale": other})],
    ]
    await reply(
        update, context, t._("What is your first name? Tap the button or type it."), buttons
    )


async def ask_place(update: Update, context: RenfortContext) -> None:
    t = context.turn.t
    await send_with_keyboard(
        update,
        context,
        t._(
            "Where do you live? Type your postcode or your town, or share your location with "
            "the button below. I only use it to show the missions nearest to you."
        ),
        location_keyboard(t),
    )


async def ask_interests(
    update: Update, context: RenfortContext, mode: str, *, edit: bool = False
) -> None:
    t, chosen = context.turn.t, set(context.turn.me.interests)
    rows = [
        [Button(checked(t._(label), key in chosen), TOGGLE_INTEREST, {"d": key, "m": mode})]
        for key, label in DOMAINS.items()
    ]
    rows.append([Button("✅ " + t._("Done"), DONE_ACTIONS.get(mode, INTERESTS_DONE))])
    text = t._("What do you like to do? Tap everything that appeals to you, then Done.")
    await reply(update, context, text, rows, edit=edit)


async def keep_name(update: Update, context: RenfortContext) -> None:
    """Keep the first name Telegram gave us and go on to what the record still lacks."""
    await answer_query(update)
    turn = context.turn
    if turn.me.registered or turn.state != REG_NAME:
        await start_registration(update, context)
        return
    state = after_name(turn.me)
    turn.inbound.goto(state, **turn.data)
    text = turn.t._("Nice to meet you, {name}!", name=esc(turn.me.first_name))
    await reply(update, context, text, edit=True)
    await ask(update, context, state)


async def name_typed(update: Update, context: RenfortContext) -> None:
    """The first name the newcomer typed instead of keeping Telegram's."""
    turn, typed = context.turn, message_text(update)
    state = after_name(turn.me, first_name=typed)
    with moving(turn, state, **turn.data) as inbound:
        await registering.save(context.renfort.db, turn.me.id, first_name=typed, inbound=inbound)
    me = await refresh_person(context)
    await reply(update, context, turn.t._("Nice to meet you, {name}!", name=esc(me.first_name)))
    await ask(update, context, state)


async def read_place(update: Update, context: RenfortContext) -> Place | None:
    """The typed postcode or town; unknown, it asks again kindly and gives None."""
    t = context.turn.t
    found = await registering.resolve_home(context.renfort.geocoder, message_text(update))
    if isinstance(found, UnknownPlace):
        await send_with_keyboard(
            update,
            context,
            t._(
                "Sorry, I don't know «{place}». Try a 5-digit postcode (like 52100) or the "
                "name of your town, or share your location with the button below.",
                place=esc(one_line(found.typed, PLACE_ECHO)),
            ),
            location_keyboard(t),
        )
        return None
    return found


def shared_place(point: GeoPoint) -> Place:
    """A shared location has no town name; the profile says 'the location you shared'."""
    return Place(name="", postcode="", point=point)


async def store_home(
    update: Update,
    context: RenfortContext,
    place: Place,
    next_state: str | None,
    data: dict[str, Any],
) -> Person:
    """Save the home area, move the conversation on, and put the location keyboard away."""
    turn = context.turn
    with moving(turn, next_state, **data) as inbound:
        await registering.save(context.renfort.db, turn.me.id, home=place, inbound=inbound)
    me = await refresh_person(context)
    text = turn.t._("📍 Home area: {place}. Noted!", place=home_area(turn.t, me))
    await send_with_keyboard(update, context, text, ReplyKeyboardRemove())
    return me


async def place_typed(update: Update, context: RenfortContext) -> None:
    """Where the newcomer lives, typed."""
    place = await read_place(update, context)
    if place is not None:
        await home_given(update, context, place)


async def location_shared(update: Update, context: RenfortContext, point: GeoPoint) -> None:
    """Where the newcomer lives, shared with Telegram's location button."""
    await home_given(update, context, shared_place(point))


async def home_given(update: Update, context: RenfortContext, place: Place) -> None:
    """The home answers the place question; a name still missing is asked next."""
    turn = context.turn
    state = after_name(turn.me, home=place)
    await store_home(update, context, place, state, turn.data)
    await ask(update, context, state)


async def toggle_interest(update: Update, context: RenfortContext) -> None:
    """Tick or untick one domain of action."""
    await answer_query(update)
    turn = context.turn
    assert turn.payload is not None
    domain, mode = str(turn.payload.data.get("d")), str(turn.payload.data.get("m"))
    if domain not in DOMAINS:
        return
    chosen = set(turn.me.interests) ^ {domain}
    await people.update_profile(
        context.renfort.db, turn.me.id, interests=sorted(chosen), inbound=turn.inbound
    )
    await refresh_person(context)
    await ask_interests(update, context, mode, edit=True)


async def interests_done(update: Update, context: RenfortContext) -> None:
    """Done with interests: registration is complete (nothing ticked: every domain)."""
    await answer_query(update)
    turn = context.turn
    if turn.me.registered or turn.state != REG_INTERESTS or standing(turn) != REG_INTERESTS:
        await start_registration(update, context)
        return
    then: dict[str, Any] = dict(turn.data.get("then") or {})
    with moving(turn, None) as inbound:
        await registering.finish(context.renfort.db, turn.me, inbound=inbound)
    me = await refresh_person(context)
    t = turn.t
    text = "\n".join(
        [
            t._("🎉 You are registered, {name}!", name=esc(me.first_name)),
            "",
            t._("📍 Home area: {place}", place=home_area(t, me)),
            t._("❤️ Interests: {interests}", interests=interests_text(t, me)),
            t._("🔎 Search radius: {radius}", radius=radius_text(t, me.search_radius_km)),
            "",
            t._(
                "Next: send /missions to find missions near you. /profile changes your "
                "details, /lang the language."
            ),
        ]
    )
    buttons = []
    if "slot" in then:
        title = one_line(str(then.get("title", "")), BUTTON_TITLE_ECHO)
        label = "➡️ " + t._("Continue with «{title}»", title=title)
        buttons.append([Button(label, PICK_SLOT, {"slot": int(then["slot"])})])
    await reply(update, context, text, buttons, edit=True)
