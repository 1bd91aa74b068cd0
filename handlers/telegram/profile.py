"""The volunteer sees what is stored about them and changes any of it, language included."""

from __future__ import annotations

from telegram import Update

from bot.buttons import Button
from bot.config import SUPPORTED_LOCALES
from bot.domain import DOMAINS, RADII, GeoPoint
from bot.services import people
from handlers.telegram import phone, phone_consent, registration
from handlers.telegram.common import RenfortContext, answer_query, esc, refresh_person, reply
from handlers.telegram.flow import (
    PROFILE_NAME,
    PROFILE_PLACE,
    SET_LANGUAGE,
    checked,
    home_area,
    interests_text,
    leave_profile_edit,
    message_text,
    moving,
    radius_button,
    radius_text,
)

EDIT_FIELD = "vol.edit"
SET_RADIUS = "vol.profile_radius"


async def profile_command(update: Update, context: RenfortContext) -> None:
    """Show what we know about the volunteer, with a button to change each part."""
    if not context.turn.me.registered:
        await registration.start_registration(update, context)
        return
    leave_profile_edit(context.turn)
    await show_profile(update, context)


async def show_profile(update: Update, context: RenfortContext, *, edit: bool = False) -> None:
    t, me = context.turn.t, context.turn.me
    text = "\n".join(
        [
            "<b>" + t._("Your profile") + "</b>",
            t._("👤 Name: {name}", name=esc(me.first_name)),
            t._("📍 Home area: {place}", place=home_area(t, me)),
            t._("❤️ Interests: {interests}", interests=interests_text(t, me)),
            t._("🌐 Language: {language}", language=t.language_name(t.locale)),
            t._("🔎 Search radius: {radius}", radius=radius_text(t, me.search_radius_km)),
            t._(
                "📱 SMS when Telegram cannot reach you: yes (organisations see the number"
                " only if you allow them)"
            )
            if me.has_phone
            else t._("📱 SMS when Telegram cannot reach you: no number given"),
        ]
    )
    buttons = [
        [
            Button("👤 " + t._("Name"), EDIT_FIELD, {"f": "name"}),
            Button("📍 " + t._("Home area"), EDIT_FIELD, {"f": "place"}),
        ],
        [
            Button("❤️ " + t._("Interests"), EDIT_FIELD, {"f": "interests"}),
            Button("🔎 " + t._("Radius"), EDIT_FIELD, {"f": "radius"}),
        ],
        [
            Button("🌐 " + t._("Language"), EDIT_FIELD, {"f": "language"}),
            Button("📱 " + t._("Phone for SMS"), EDIT_FIELD, {"f": "phone"}),
        ],
    ]
    if me.has_phone:
        buttons.append([Button("👁 " + t._("Who sees my number"), phone_consent.MENU)])
    await reply(update, context, text, buttons, edit=edit)


async def edit_field(update: Update, context: RenfortContext) -> None:
    """One of the profile's change buttons."""
    await answer_query(update)
    turn = context.turn
    assert turn.payload is not None
    t, field = turn.t, turn.payload.data.get("f")
    if field == "name":
        turn.inbound.goto(PROFILE_NAME)
        await reply(update, context, t._("Type your first name."))
    elif field == "place":
        turn.inbound.goto(PROFILE_PLACE)
        await registration.ask_place(update, context)
    elif field == "interests":
        await registration.ask_interests(update, context, registration.EDITING, edit=True)
    elif field == "radius":
        current = turn.me.search_radius_km
        row = [
            Button(checked(radius_button(t, r), r == current), SET_RADIUS, {"km": r}) for r in RADII
        ]
        await reply(update, context, t._("Show me missions within:"), [row], edit=True)
    elif field == "phone":
        await phone.ask_for_phone(update, context)
    else:
        await language_menu(update, context, edit=True, from_profile=True)


async def name_typed(update: Update, context: RenfortContext) -> None:
    """A new first name typed from the profile."""
    with moving(context.turn, None) as inbound:
        await people.update_profile(
            context.renfort.db, context.turn.me.id, first_name=message_text(update), inbound=inbound
        )
    await refresh_person(context)
    await show_profile(update, context)


async def place_typed(update: Update, context: RenfortContext) -> None:
    """A new home area typed from the profile."""
    place = await registration.read_place(update, context)
    if place is not None:
        await registration.store_home(update, context, place, None, {})
        await show_profile(update, context)


async def location_shared(update: Update, context: RenfortContext, point: GeoPoint) -> None:
    """A new home area shared from the profile."""
    await registration.store_home(update, context, registration.shared_place(point), None, {})
    await show_profile(update, context)


async def interests_saved(update: Update, context: RenfortContext) -> None:
    """Done after changing interests: back to the profile. None ticked means every kind, as
    at registration: a callout reaches only those interested in its domain, and the
    profile says "everything"."""
    await answer_query(update)
    turn = context.turn
    if not turn.me.interests:
        await people.update_profile(
            context.renfort.db, turn.me.id, interests=list(DOMAINS), inbound=turn.inbound
        )
        await refresh_person(context)
    await show_profile(update, context, edit=True)


async def set_radius(update: Update, context: RenfortContext) -> None:
    """The search radius chosen from the profile."""
    await save_radius(update, context)
    await show_profile(update, context, edit=True)


async def save_radius(update: Update, context: RenfortContext) -> None:
    """Remember the radius on the tapped button (None: everywhere) on the person."""
    await answer_query(update)
    turn = context.turn
    assert turn.payload is not None
    radius = turn.payload.data.get("km")
    await people.update_profile(
        context.renfort.db,
        turn.me.id,
        search_radius_km=None if radius is None else int(radius),
        inbound=turn.inbound,
    )
    await refresh_person(context)


async def lang_command(update: Update, context: RenfortContext) -> None:
    """Offer the languages."""
    leave_profile_edit(context.turn)
    await language_menu(update, context)


async def language_menu(
    update: Update, context: RenfortContext, *, edit: bool = False, from_profile: bool = False
) -> None:
    t = context.turn.t
    row = [
        Button(
            checked(t.language_name(loc), loc == t.locale),
            SET_LANGUAGE,
            {"locale": loc, "profile": from_profile},
        )
        for loc in SUPPORTED_LOCALES
    ]
    await reply(update, context, t._("Choose your language:"), [row], edit=edit)


async def set_language(update: Update, context: RenfortContext) -> None:
    """Switch language and answer in the new one; a newcomer gets their question again."""
    await answer_query(update)
    turn = context.turn
    assert turn.payload is not None
    locale = str(turn.payload.data.get("locale"))
    if locale not in SUPPORTED_LOCALES:
        return
    await people.update_profile(context.renfort.db, turn.me.id, locale=locale, inbound=turn.inbound)
    me = await refresh_person(context)
    if me.registered and turn.payload.data.get("profile"):
        await show_profile(update, context, edit=True)
        return
    t = turn.t
    text = t._("✓ I will speak {language} with you.", language=t.language_name(locale))
    await reply(update, context, text, edit=True)
    if not me.registered and turn.state in registration.REGISTRATION_STATES:
        await registration.resume(update, context)
