"""/callout: a coordinator alerts volunteers that people are needed now, in the admin group
or privately: mission, slot, how many people, then who to alert (callout_target).

Every step's answers live in the stored conversation (one per person, even in a group),
so a restart or another worker picks the wizard up where it was. In groups the bot only
sees commands and replies to its own messages, so every step offers buttons."""

from __future__ import annotations

import re
from typing import Any
from zoneinfo import ZoneInfo

from telegram import Update

from bot.buttons import Button
from bot.i18n import Translator
from bot.services import missions, organisations
from bot.services.callout_choices import upcoming_missions
from bot.services.errors import NotAllowed, ServiceError
from bot.services.organisations import Organisation
from handlers.telegram import callout_target as target
from handlers.telegram.callout_steps import (
    CANCEL,
    CO_MISSION,
    CO_NEEDED,
    CO_ORGANISATION,
    CO_SLOT,
    WIZARD_STATES,
    button,
    cancel_row,
    goto,
    heading,
    still_at,
    tap_please,
    unless_stale,
)
from handlers.telegram.common import (
    Callback,
    RenfortContext,
    answer_query,
    esc,
    refusal_text,
    reply,
    typed_text,
)
from handlers.telegram.flow import tapped_organisation

PICK_ORGANISATION = "co.organisation"
PICK_MISSION = "co.mission"
PICK_SLOT = "co.slot"
PICK_NEEDED = "co.needed"
PAGE_MISSIONS = "co.missions_page"
PAGE_SLOTS = "co.slots_page"

MISSIONS_PER_PAGE = 6
SLOTS_PER_PAGE = 8
NEEDED_CHOICES = (1, 2, 3, 5, 10)
MAX_NEEDED = 500
# "4", "4 people", "4 personnes"
NEEDED = re.compile(r"(\d{1,6})(?:\s+\D*)?")


async def callout_command(update: Update, context: RenfortContext) -> None:
    """/callout: start the wizard for the group's organisation, or the sender's own."""
    turn, t, db = context.turn, context.turn.t, context.renfort.db
    mine = await organisations.memberships(db, turn.me.id)
    if not turn.private:
        linked = await organisations.organisation_of_chat(db, turn.chat_id or 0)
        if linked is None:
            text = t._("This group is not an organisation's admin group yet: send /link first.")
            await reply(update, context, text)
            return
        if linked.id not in {o.id for o in mine}:
            await reply(update, context, _stranger_text(t, linked.name))
            return
        mine = [linked]
    if not mine:
        await reply(update, context, refusal_text(t, NotAllowed("not_member")))
        return
    if len(mine) == 1:
        await _ask_mission(update, context, mine[0].id, mine[0].name, fresh=True)
        return
    goto(context, CO_ORGANISATION, fresh=True)
    await reply(
        update, context, t._("Callout for which organisation?"), _organisations(context, mine)
    )


def _stranger_text(t: Translator, organisation_name: str) -> str:
    return t._(
        "Only coordinators of {organisation} can launch a callout. If you are one, send me"
        " /join with your invite code in a private chat.",
        organisation=esc(organisation_name),
    )


def _organisations(context: RenfortContext, mine: list[Organisation]) -> list[list[Button]]:
    rows = [[button(context, o.name, PICK_ORGANISATION, organisation_id=o.id)] for o in mine]
    return [*rows, cancel_row(context)]


async def pick_organisation(update: Update, context: RenfortContext) -> None:
    """The organisation button: the tapper must still be one of its coordinators."""
    if not await still_at(update, context, CO_ORGANISATION):
        return
    chosen = await tapped_organisation(context)
    await answer_query(update)
    if chosen is None:
        goto(context, None)
        await reply(update, context, refusal_text(context.turn.t, NotAllowed("not_member")))
        return
    await _ask_mission(update, context, chosen.id, chosen.name, fresh=True, edit=True)


async def on_organisation_text(update: Update, context: RenfortContext) -> None:
    """Typed text while the organisation buttons are shown: show them again."""
    mine = await organisations.memberships(context.renfort.db, context.turn.me.id)
    text = context.turn.t._("Please tap the organisation the callout is for.")
    await reply(update, context, text, _organisations(context, mine))


async def _ask_mission(
    update: Update,
    context: RenfortContext,
    organisation_id: int,
    organisation_name: str,
    *,
    fresh: bool = False,
    offset: int = 0,
    edit: bool = False,
) -> None:
    t = context.turn.t
    page = await upcoming_missions(
        context.renfort.db,
        organisation_id=organisation_id,
        now=context.turn.now,
        offset=offset,
        limit=MISSIONS_PER_PAGE,
    )
    if page.total == 0:
        goto(context, None)
        text = t._(
            "{organisation} has no published mission with a slot to come. Publish one with"
            " /newmission (in a private chat), then send /callout again.",
            organisation=esc(organisation_name),
        )
        await reply(update, context, text, edit=edit)
        return
    goto(
        context,
        CO_MISSION,
        fresh=fresh,
        organisation_id=organisation_id,
        organisation_name=organisation_name,
    )
    rows = []
    for mission in page.missions:
        when = t.short_date(mission.next_start.astimezone(ZoneInfo(mission.timezone)))
        label = f"{mission.title} · {when}"
        rows.append([button(context, label, PICK_MISSION, mission_id=mission.id)])
    rows.append(_pager(context, PAGE_MISSIONS, offset, page.total, MISSIONS_PER_PAGE))
    text = "🚨 " + t._(
        "<b>Callout</b> · {organisation}\n\nWhich mission needs people?",
        organisation=esc(organisation_name),
    )
    await reply(update, context, text, [*rows, cancel_row(context)], edit=edit)


def _pager(
    context: RenfortContext, action: str, offset: int, total: int, size: int, **data: Any
) -> list[Button]:
    t = context.turn.t
    row = []
    if offset > 0:
        previous = max(0, offset - size)
        row.append(button(context, t._("« Previous"), action, offset=previous, **data))
    if offset + size < total:
        row.append(button(context, t._("More »"), action, offset=offset + size, **data))
    return row


async def page_missions(update: Update, context: RenfortContext) -> None:
    """Previous or More under the missions."""
    if not await still_at(update, context, CO_MISSION, CO_SLOT):
        return
    await answer_query(update)
    payload = context.turn.payload
    offset = payload.data.get("offset", 0) if payload else 0
    data = context.turn.data
    await _ask_mission(
        update,
        context,
        int(data["organisation_id"]),
        str(data["organisation_name"]),
        offset=max(0, int(offset)),
        edit=True,
    )


async def pick_mission(update: Update, context: RenfortContext) -> None:
    """A mission tapped: its slots to come (straight on when there is only one)."""
    if not await still_at(update, context, CO_MISSION):
        return
    await answer_query(update)
    payload = context.turn.payload
    mission_id = int(payload.data.get("mission_id", 0)) if payload else 0
    await _ask_slot(update, context, mission_id, offset=0)


async def _ask_slot(update: Update, context: RenfortContext, mission_id: int, offset: int) -> None:
    t = context.turn.t
    try:
        detail = await missions.mission_detail(context.renfort.db, mission_id)
    except ServiceError as error:
        await reply(update, context, refusal_text(t, error), edit=True)
        return
    if detail.organisation_id != context.turn.data.get("organisation_id"):
        await reply(update, context, refusal_text(t, NotAllowed("not_member")), edit=True)
        return
    coming = [s for s in detail.slots if s.starts_at > context.turn.now]
    if not coming:
        await reply(update, context, refusal_text(t, ServiceError("slot_started")), edit=True)
        return
    goto(context, CO_SLOT, mission_id=detail.id, mission_title=detail.title)
    if len(coming) == 1:
        await _chosen_slot(update, context, coming[0].id)
        return
    zone = detail.zone
    rows = [
        [
            button(
                context,
                f"{t.short_date(s.starts_at.astimezone(zone))} "
                f"{t.clock(s.starts_at.astimezone(zone))}–{t.clock(s.ends_at.astimezone(zone))}"
                f" · {s.taken}/{s.capacity}",
                PICK_SLOT,
                slot_id=s.id,
            )
        ]
        for s in coming[offset : offset + SLOTS_PER_PAGE]
    ]
    pager = _pager(context, PAGE_SLOTS, offset, len(coming), SLOTS_PER_PAGE, mission_id=detail.id)
    back = button(context, t._("« Missions"), PAGE_MISSIONS, offset=0)
    text = "🚨 " + t._("<b>{mission}</b>\n\nWhich slot?", mission=esc(detail.title))
    await reply(update, context, text, [*rows, pager, [back], cancel_row(context)], edit=True)


async def page_slots(update: Update, context: RenfortContext) -> None:
    """Previous or More under the slots."""
    if not await still_at(update, context, CO_SLOT):
        return
    await answer_query(update)
    payload = context.turn.payload
    data = payload.data if payload else {}
    await _ask_slot(update, context, int(data.get("mission_id", 0)), int(data.get("offset", 0)))


async def pick_slot(update: Update, context: RenfortContext) -> None:
    """A slot tapped: how many people are needed."""
    if not await still_at(update, context, CO_SLOT):
        return
    await answer_query(update)
    payload = context.turn.payload
    await _chosen_slot(update, context, int(payload.data.get("slot_id", 0)) if payload else 0)


async def _chosen_slot(update: Update, context: RenfortContext, slot_id: int) -> None:
    t = context.turn.t
    try:
        detail = await missions.mission_of_slot(context.renfort.db, slot_id)
    except ServiceError as error:
        await reply(update, context, refusal_text(t, error), edit=True)
        return
    slot = next((s for s in detail.slots if s.id == slot_id), None)
    if slot is None or detail.organisation_id != context.turn.data.get("organisation_id"):
        await reply(update, context, refusal_text(t, ServiceError("slot_not_found")), edit=True)
        return
    goto(
        context,
        CO_NEEDED,
        mission_id=detail.id,
        mission_title=detail.title,
        slot_id=slot.id,
        starts_at=slot.starts_at.isoformat(),
        ends_at=slot.ends_at.isoformat(),
        timezone=detail.timezone,
    )
    await reply(update, context, _needed_question(context), _needed_buttons(context), edit=True)


def _needed_question(context: RenfortContext) -> str:
    t = context.turn.t
    ask = t._("How many people do you need? Tap a number or type it.")
    if not context.turn.private:
        ask = t._(
            "How many people do you need? Tap a number, or type it as a reply to this message."
        )
    return heading(context) + "\n\n" + ask


def _needed_buttons(context: RenfortContext) -> list[list[Button]]:
    row = [button(context, str(n), PICK_NEEDED, needed=n) for n in NEEDED_CHOICES]
    return [row, cancel_row(context)]


async def pick_needed(update: Update, context: RenfortContext) -> None:
    """A number tapped: on to the targeting."""
    if not await still_at(update, context, CO_NEEDED):
        return
    await answer_query(update)
    payload = context.turn.payload
    await target.start(update, context, int(payload.data.get("needed", 1)) if payload else 1)


async def on_needed_text(update: Update, context: RenfortContext) -> None:
    """A typed number of people."""
    t = context.turn.t
    match = NEEDED.fullmatch(typed_text(update).strip())
    needed = int(match.group(1)) if match else 0
    if not 1 <= needed <= MAX_NEEDED:
        text = t._(
            "Please type how many people you need, a number from 1 to {most}, for example: 4.",
            most=MAX_NEEDED,
        )
        await reply(update, context, text, _needed_buttons(context))
        return
    await target.start(update, context, needed, edit=False)


async def cancel(update: Update, context: RenfortContext) -> None:
    """The Cancel button: drop the wizard; nobody was alerted."""
    if not await still_at(update, context, *WIZARD_STATES):
        return
    await answer_query(update)
    goto(context, None)
    text = context.turn.t._("Cancelled: nobody was alerted. Send /callout to start again.")
    await reply(update, context, text, edit=True)


STATES: dict[str, Callback] = {
    CO_ORGANISATION: unless_stale(on_organisation_text),
    CO_MISSION: unless_stale(tap_please),
    CO_SLOT: unless_stale(tap_please),
    CO_NEEDED: unless_stale(on_needed_text),
    **target.STATES,
}
ACTIONS: dict[str, Callback] = {
    PICK_ORGANISATION: pick_organisation,
    PICK_MISSION: pick_mission,
    PICK_SLOT: pick_slot,
    PICK_NEEDED: pick_needed,
    PAGE_MISSIONS: page_missions,
    PAGE_SLOTS: page_slots,
    CANCEL: cancel,
    **target.ACTIONS,
}
