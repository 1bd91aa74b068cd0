"""/newmission: a coordinator creates and publishes a mission in their private chat.

Organisation (when they belong to several), then a template (title, description, domain,
duration and capacity filled in: place, start, Publish) or a title typed from scratch,
domain, place, then one or more slots (date and hours, then capacity: see
new_mission_slots), then Publish. Each step's answers
live in the stored conversation, so a restart or another worker picks the wizard up where
it was."""

from __future__ import annotations

import re

from telegram import Update

from bot.buttons import Button
from bot.domain import DOMAINS
from bot.geo import Geocoder, Place, fold
from bot.i18n import Translator
from bot.services import organisations, templates
from bot.services.errors import ServiceError
from bot.services.organisations import Organisation
from handlers.telegram import new_mission_conditions as conditions
from handlers.telegram import new_mission_slots as slots
from handlers.telegram import new_mission_templates as templating
from handlers.telegram.common import RenfortContext, answer_query, esc, refusal_text, reply
from handlers.telegram.flow import tapped_organisation
from handlers.telegram.new_mission_slots import (
    CANCEL,
    NM_CAPACITY,
    NM_MORE,
    NM_SLOT,
    cancel_row,
    goto,
    slot_prompt,
    still_at,
    text_of,
    unless_stale,
)

NM_ORGANISATION = "nm_organisation"
NM_TITLE = "nm_title"
NM_DOMAIN = "nm_domain"
NM_PLACE = "nm_place"
WIZARD_STATES = (
    NM_ORGANISATION,
    NM_TITLE,
    NM_DOMAIN,
    NM_PLACE,
    NM_SLOT,
    NM_CAPACITY,
    NM_MORE,
    conditions.NM_CONDITION,
)

PICK_ORGANISATION = "nm_pick_organisation"
PICK_DOMAIN = "nm_pick_domain"
PICK_REMOTE = "nm_remote"

TITLE_LENGTH = (3, 200)
POSTCODE = re.compile(r"(?<!\d)(\d{5})(?!\d)")


def not_member_text(t: Translator) -> str:
    return t._(
        "To create missions, first join your organisation: send /join followed by the"
        " invite code it gave you, for example /join K7M2PQ9X."
    )


async def new_mission_command(update: Update, context: RenfortContext) -> None:
    """/newmission: start the wizard (coordinators, in a private chat)."""
    t = context.turn.t
    if not context.turn.private:
        await reply(update, context, t._("Send /newmission to me in a private chat."))
        return
    mine = await organisations.memberships(context.renfort.db, context.turn.me.id)
    if not mine:
        await reply(update, context, not_member_text(t))
        return
    if len(mine) == 1:
        await _ask_title(update, context, mine[0].id, mine[0].name)
        return
    goto(context, NM_ORGANISATION, fresh=True)
    question = t._("For which organisation is the new mission?")
    await reply(update, context, question, _organisation_buttons(t, mine))


def _organisation_buttons(t: Translator, mine: list[Organisation]) -> list[list[Button]]:
    rows = [[Button(o.name, PICK_ORGANISATION, {"organisation_id": o.id})] for o in mine]
    return [*rows, cancel_row(t)]


async def pick_organisation(update: Update, context: RenfortContext) -> None:
    """The organisation button: check membership, then ask for the title."""
    if not await still_at(update, context, NM_ORGANISATION):
        return
    chosen = await tapped_organisation(context)
    await answer_query(update)
    if chosen is None:
        await reply(update, context, not_member_text(context.turn.t))
        return
    await _ask_title(update, context, chosen.id, chosen.name, edit=True)


async def _ask_title(
    update: Update, context: RenfortContext, organisation_id: int, name: str, *, edit: bool = False
) -> None:
    t = context.turn.t
    offered = await templates.templates_for(context.renfort.db, organisation_id)
    goto(context, NM_TITLE, fresh=True, organisation_id=organisation_id, organisation_name=name)
    text = t._(
        "New mission for <b>{organisation}</b>.\n\nTap a template to fill it in for you,"
        " or type the title of a new mission, for example: Poll assessor, polling station 3",
        organisation=esc(name),
    )
    buttons = [*templating.template_buttons(t, offered), cancel_row(t)]
    await reply(update, context, text, buttons, edit=edit)


async def from_scratch(update: Update, context: RenfortContext) -> None:
    """From scratch: ask for the title alone."""
    if not await still_at(update, context, NM_TITLE):
        return
    t = context.turn.t
    await answer_query(update)
    text = t._(
        "New mission for <b>{organisation}</b>.\n\nWhat is its title? For example:"
        " Poll assessor, polling station 3",
        organisation=esc(context.turn.data.get("organisation_name", "")),
    )
    await reply(update, context, text, [cancel_row(t)], edit=True)


async def pick_template(update: Update, context: RenfortContext) -> None:
    """A template: title, description, domain, duration and capacity are set; ask where."""
    if not await still_at(update, context, NM_TITLE):
        return
    t = context.turn.t
    payload = context.turn.payload
    await answer_query(update)
    organisation_id = int(context.turn.data.get("organisation_id", 0))
    try:
        chosen = await templates.get_template(
            context.renfort.db,
            int(payload.data.get("template_id", 0)) if payload else 0,
            organisation_id,
        )
    except ServiceError as error:
        await reply(update, context, refusal_text(t, error))
        return
    template = chosen.localised(t)
    goto(
        context,
        NM_PLACE,
        template_id=template.id,
        title=template.title,
        description=template.full_description(t),
        conditions=[template.prerequisites] if template.prerequisites else [],
        domain=template.domain,
        duration=template.duration_minutes,
        capacity=template.default_capacity,
    )
    lines = [f"<b>{esc(template.title)}</b> · {esc(t._(DOMAINS[template.domain]))}"]
    if template.prerequisites:
        lines.append(esc(t._("Prerequisite: {prerequisite}", prerequisite=template.prerequisites)))
    text = "\n".join(lines) + "\n\n" + _place_prompt(t)
    await reply(update, context, text, _place_buttons(t), edit=True)


async def on_organisation_text(update: Update, context: RenfortContext) -> None:
    """Typed text while the organisation buttons are shown: show them again."""
    t = context.turn.t
    mine = await organisations.memberships(context.renfort.db, context.turn.me.id)
    text = t._("Please tap the organisation the mission is for.")
    await reply(update, context, text, _organisation_buttons(t, mine))


async def on_title(update: Update, context: RenfortContext) -> None:
    """The title: a short line, then the domain buttons."""
    t = context.turn.t
    title = " ".join(text_of(update).split())
    low, high = TITLE_LENGTH
    if not low <= len(title) <= high:
        await reply(
            update,
            context,
            t._(
                "The title should be {low} to {high} characters long, for example:"
                " Food bank sorting, Saturday morning",
                low=low,
                high=high,
            ),
        )
        return
    goto(context, NM_DOMAIN, title=title)
    await reply(update, context, t._("Which domain is it in?"), _domain_buttons(t))


def _domain_buttons(t: Translator) -> list[list[Button]]:
    keys = list(DOMAINS)
    rows = [
        [Button(t._(DOMAINS[key]), PICK_DOMAIN, {"domain": key}) for key in keys[i : i + 2]]
        for i in range(0, len(keys), 2)
    ]
    return [*rows, cancel_row(t)]


async def on_domain_text(update: Update, context: RenfortContext) -> None:
    """Typed text while the domain buttons are shown: show them again."""
    t = context.turn.t
    await reply(update, context, t._("Please tap one of these domains."), _domain_buttons(t))


async def pick_domain(update: Update, context: RenfortContext) -> None:
    """The domain button, then ask where."""
    if not await still_at(update, context, NM_DOMAIN):
        return
    t = context.turn.t
    payload = context.turn.payload
    domain = payload.data.get("domain") if payload else None
    await answer_query(update)
    if not isinstance(domain, str) or domain not in DOMAINS:
        await reply(update, context, t._("Please tap one of these domains."), _domain_buttons(t))
        return
    goto(context, NM_PLACE, domain=domain)
    text = t._("Domain: {domain}", domain=esc(t._(DOMAINS[domain]))) + "\n\n" + _place_prompt(t)
    await reply(update, context, text, _place_buttons(t), edit=True)


def _place_prompt(t: Translator) -> str:
    return t._(
        "Where does it take place? Type the address with its postcode, for example:"
        " 12 rue de la République, 52100 Saint-Dizier. If it can be done from home,"
        " tap Remote."
    )


def _place_buttons(t: Translator) -> list[list[Button]]:
    return [[Button(t._("Remote"), PICK_REMOTE)], cancel_row(t)]


async def find_place(geocoder: Geocoder, text: str) -> Place | None:
    """The postcode if there is one, else the town after the last comma, else the whole."""
    found = POSTCODE.search(text)
    parts = [part.strip() for part in text.split(",") if part.strip()]
    candidates = [
        found.group(1) if found else "",
        POSTCODE.sub("", parts[-1]).strip() if parts else "",
        text,
    ]
    for query in dict.fromkeys(c for c in candidates if c):
        place = await geocoder.resolve(query)
        if place is not None:
            return place
    return None


async def on_place(update: Update, context: RenfortContext) -> None:
    """The typed address: resolve it to a town, then ask for the first slot."""
    t = context.turn.t
    address = " ".join(text_of(update).split())[:300]
    place = await find_place(context.renfort.geocoder, address) if address else None
    if place is None:
        await reply(
            update,
            context,
            t._(
                "I could not find that place. Type the address with its postcode, for"
                " example: 12 rue de la République, 52100 Saint-Dizier. Or tap Remote."
            ),
            _place_buttons(t),
        )
        return
    goto(
        context,
        NM_SLOT,
        remote=False,
        address=address,
        postcode=place.postcode or None,
        town=place.name,
        latitude=place.point.latitude,
        longitude=place.point.longitude,
    )
    if fold(place.name) in fold(address):
        where = t._("Place: {address}", address=esc(address))
    else:
        where = t._("Place: {address} ({town})", address=esc(address), town=esc(place.name))
    await reply(update, context, where + "\n\n" + slot_prompt(context, first=True))


async def pick_remote(update: Update, context: RenfortContext) -> None:
    """The Remote button: no place, then ask for the first slot."""
    if not await still_at(update, context, NM_PLACE):
        return
    t = context.turn.t
    await answer_query(update)
    goto(context, NM_SLOT, remote=True, address="", postcode=None, town=None)
    text = t._("Place: remote") + "\n\n" + slot_prompt(context, first=True)
    await reply(update, context, text, edit=True)


async def cancel(update: Update, context: RenfortContext) -> None:
    """The Cancel button: drop the wizard; nothing was published."""
    if not await still_at(update, context, *WIZARD_STATES):
        return
    await answer_query(update)
    goto(context, None)
    text = context.turn.t._("Cancelled: nothing was published. Send /newmission to start again.")
    await reply(update, context, text, edit=True)


STATES = {
    NM_ORGANISATION: unless_stale(on_organisation_text),
    NM_TITLE: unless_stale(on_title),
    NM_DOMAIN: unless_stale(on_domain_text),
    NM_PLACE: unless_stale(on_place),
    conditions.NM_CONDITION: unless_stale(conditions.on_condition),
    **slots.STATES,
}
ACTIONS = {
    PICK_ORGANISATION: pick_organisation,
    PICK_DOMAIN: pick_domain,
    PICK_REMOTE: pick_remote,
    templating.PICK_TEMPLATE: pick_template,
    templating.FROM_SCRATCH: from_scratch,
    CANCEL: cancel,
    slots.ADD_CONDITION: conditions.add_condition,
    **slots.ACTIONS,
}
