"""/edit, the slots: the list of a mission's slots, then per slot new Times, a new Capacity
(lowering it below the people holding a place asks whom to move back to the waiting list)
or Cancel slot. Adding slots is in mission_edit_new_slots."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import datetime

from telegram import Update

from bot.buttons import Button
from bot.domain import Period
from bot.i18n import Translator
from bot.services import mission_changes
from bot.services.errors import Conflict, ServiceError
from bot.services.missions import MAX_CAPACITY, MissionDetail, SlotView
from handlers.telegram.common import (
    RenfortContext,
    answer_query,
    esc,
    payload_int,
    reply,
    typed_text,
)
from handlers.telegram.mission_edit import (
    MISSION,
    ask,
    ask_reason,
    mission_of,
    refusal,
    told_text,
    unless_stale,
)
from handlers.telegram.new_mission_slots import slot_error_text, slot_example
from handlers.telegram.slot_text import SlotTextError, parse_slot
from handlers.telegram.wizard import advance

SLOTS = "ed.slots"
SLOT = "ed.slot"
TIMES = "ed.times"
CAPACITY = "ed.capacity"
CANCEL_SLOT = "ed.cancel_slot"
MOVE_PICK = "ed.move_pick"
MOVE_OK = "ed.move_ok"
ED_TIMES = "ed_times"
ED_CAPACITY = "ed_capacity"
ED_MOVE = "ed_move"

MAX_LISTED = 40
NUMBER = re.compile(r"(\d{1,6})(?:\s+\D*)?")


def local_span(
    t: Translator, mission: MissionDetail, starts_at: datetime, ends_at: datetime
) -> str:
    return t.slot_span(starts_at, ends_at, mission.zone)


def _slot_in(mission: MissionDetail, slot_id: int) -> SlotView | None:
    return next((s for s in mission.slots if s.id == slot_id), None)


async def _mission_and_slot(
    update: Update, context: RenfortContext, mission_id: int, slot_id: int
) -> tuple[MissionDetail, SlotView] | None:
    mission = await mission_of(update, context, mission_id)
    if mission is None:
        return None
    slot = _slot_in(mission, slot_id)
    if slot is None:
        await reply(update, context, refusal(context.turn.t, ServiceError("slot_not_found")))
        return None
    return mission, slot


async def _tapped_slot(
    update: Update, context: RenfortContext
) -> tuple[MissionDetail, SlotView] | None:
    """The mission and slot a tapped button names, the tap answered."""
    await answer_query(update)
    return await _mission_and_slot(
        update, context, payload_int(context, "m"), payload_int(context, "s")
    )


async def _ask_about_slot(
    update: Update,
    context: RenfortContext,
    state: str,
    question: Callable[[MissionDetail, SlotView], str],
) -> None:
    """The tapped slot's next step: wait for the answer to `question` about it."""
    found = await _tapped_slot(update, context)
    if found is None:
        return
    mission, slot = found
    advance(context, state, fresh=True, m=mission.id, s=slot.id)
    await ask(update, context, question(mission, slot))


async def list_slots(update: Update, context: RenfortContext) -> None:
    """Slots: the mission's slots still ahead, each a button."""
    t, now = context.turn.t, context.turn.now
    await answer_query(update)
    advance(context, None)
    mission = await mission_of(update, context, payload_int(context, "m"))
    if mission is None:
        return
    ahead = [s for s in mission.slots if s.starts_at > now][:MAX_LISTED]
    rows = [
        [
            Button(
                f"{t.short_date(s.starts_at.astimezone(mission.zone))} "
                f"{t.clock(s.starts_at.astimezone(mission.zone))} · {s.taken}/{s.capacity}",
                SLOT,
                {"m": mission.id, "s": s.id},
            )
        ]
        for s in ahead
    ]
    rows.append([Button(t._("⬅️ Back"), MISSION, {"m": mission.id})])
    text = (
        t._("<b>{mission}</b>: which slot?", mission=esc(mission.title))
        if ahead
        else t._("<b>{mission}</b> has no slot ahead.", mission=esc(mission.title))
    )
    await reply(update, context, text, rows, edit=True)


def slot_menu(
    t: Translator, mission: MissionDetail, slot: SlotView
) -> tuple[str, list[list[Button]]]:
    ids = {"m": mission.id, "s": slot.id}
    text = "\n".join(
        [
            f"<b>{esc(mission.title)}</b>",
            "🗓 " + esc(local_span(t, mission, slot.starts_at, slot.ends_at)),
            t._("Places taken: {taken} of {capacity}", taken=slot.taken, capacity=slot.capacity),
        ]
    )
    rows = [
        [Button(t._("Times"), TIMES, ids), Button(t._("Capacity"), CAPACITY, ids)],
        [Button(t._("🚫 Cancel slot"), CANCEL_SLOT, ids)],
        [Button(t._("⬅️ Back"), SLOTS, {"m": mission.id})],
    ]
    return text, rows


async def pick_slot(update: Update, context: RenfortContext) -> None:
    """A slot: Times, Capacity, Cancel slot."""
    advance(context, None)
    found = await _tapped_slot(update, context)
    if found is not None:
        text, rows = slot_menu(context.turn.t, *found)
        await reply(update, context, text, rows, edit=True)


async def ask_times(update: Update, context: RenfortContext) -> None:
    """Times: ask for the new date and hours (or the hours alone, same day)."""
    t = context.turn.t
    await _ask_about_slot(
        update,
        context,
        ED_TIMES,
        lambda mission, _slot: t._(
            "Reply with the new hours, for example 9h-14h (same day), or a date and hours,"
            " for example {example}.",
            example=slot_example(context.turn.now, mission.zone),
        ),
    )


def _new_period(text: str, mission: MissionDetail, slot: SlotView, now: datetime) -> Period:
    """Hours alone keep the slot's day; a date and hours move it to that day."""
    try:
        return parse_slot(text, zone=mission.zone, now=now)
    except SlotTextError as error:
        if error.code != "no_date":
            raise
    day = f"{slot.starts_at.astimezone(mission.zone):%d/%m/%Y}"
    return parse_slot(f"{day} {text}", zone=mission.zone, now=now)


async def on_times(update: Update, context: RenfortContext) -> None:
    """The new times: move the slot; its people are told and their reminders follow."""
    t, turn = context.turn.t, context.turn
    found = await _mission_and_slot(
        update, context, int(turn.data.get("m", 0)), int(turn.data.get("s", 0))
    )
    if found is None:
        advance(context, None)
        return
    mission, slot = found
    try:
        period = _new_period(typed_text(update).strip(), mission, slot, turn.now)
    except SlotTextError as error:
        example = slot_example(turn.now, mission.zone)
        await ask(update, context, slot_error_text(t, error.code, example))
        return
    try:
        changed = await mission_changes.move_slot(
            context.renfort.db,
            actor_id=turn.me.id,
            slot_id=slot.id,
            period=period,
            now=turn.now,
            inbound=turn.inbound.goto(None),
        )
    except ServiceError as error:
        turn.inbound.goto(ED_TIMES, **turn.data)
        await ask(update, context, refusal(t, error))
        return
    context.renfort.notify_outbox()
    span = local_span(t, mission, period.starts_at, period.ends_at)
    await reply(
        update, context, t._("New time: {slot}", slot=esc(span)) + "\n" + told_text(t, changed)
    )


async def ask_capacity(update: Update, context: RenfortContext) -> None:
    """Capacity: ask for the new number of volunteers."""
    t = context.turn.t
    await _ask_about_slot(
        update,
        context,
        ED_CAPACITY,
        lambda _mission, slot: t._(
            "Reply with the number of volunteers needed (now {capacity}, {taken} taken).",
            capacity=slot.capacity,
            taken=slot.taken,
        ),
    )


async def on_capacity(update: Update, context: RenfortContext) -> None:
    """The new capacity: set it, or ask whom to move when it falls below the places taken."""
    t, turn = context.turn.t, context.turn
    match = NUMBER.fullmatch(typed_text(update).strip())
    capacity = int(match.group(1)) if match else 0
    if not 1 <= capacity <= MAX_CAPACITY:
        await ask(update, context, refusal(t, ServiceError("capacity")))
        return
    await _set_capacity(
        update, context, int(turn.data.get("m", 0)), int(turn.data.get("s", 0)), capacity, []
    )


async def _set_capacity(
    update: Update,
    context: RenfortContext,
    mission_id: int,
    slot_id: int,
    capacity: int,
    move: list[int],
    *,
    edit: bool = False,
) -> None:
    t, turn = context.turn.t, context.turn
    try:
        result = await mission_changes.change_capacity(
            context.renfort.db,
            actor_id=turn.me.id,
            slot_id=slot_id,
            capacity=capacity,
            move=move,
            now=turn.now,
            inbound=turn.inbound.goto(None),
        )
    except Conflict as error:
        if error.code != "choose_who_moves":
            await reply(update, context, refusal(t, error))
            return
        # Nothing was written: the turn records only the new step of the conversation.
        advance(context, ED_MOVE, fresh=True, m=mission_id, s=slot_id, c=capacity, chosen=[])
        await _ask_whom(update, context, int(error.details.get("to_move", 1)), edit=edit)
        return
    except ServiceError as error:
        await reply(update, context, refusal(t, error))
        return
    context.renfort.notify_outbox()
    lines = [t.n_("Capacity now {n} place.", "Capacity now {n} places.", result.slot.capacity)]
    if result.offered:
        lines.append(
            t.n_(
                "{n} new place offered to the waiting list.",
                "{n} new places offered to the waiting list.",
                result.offered,
            )
        )
    if result.moved:
        lines.append(
            t._("Back on the waiting list, and told: {names}.", names=esc(", ".join(result.moved)))
        )
    await reply(update, context, "\n".join(lines), edit=edit)


async def _ask_whom(update: Update, context: RenfortContext, to_move: int, *, edit: bool) -> None:
    """Buttons with the holders' first names, the most recent first, to pick whom to move."""
    t, data = context.turn.t, context.turn.data
    holders = await mission_changes.holders_of(
        context.renfort.db, actor_id=context.turn.me.id, slot_id=int(data["s"])
    )
    chosen = set(data.get("chosen", []))
    rows = [
        [
            Button(
                ("✓ " if h.application_id in chosen else "") + h.first_name,
                MOVE_PICK,
                {"a": h.application_id},
            )
        ]
        for h in holders
    ]
    rows.append([Button(t._("Move {n} to the waiting list", n=len(chosen)), MOVE_OK)])
    rows.append([Button(t._("⬅️ Back"), SLOT, {"m": int(data["m"]), "s": int(data["s"])})])
    text = t.n_(
        "{n} person holds a place too many for {capacity} places. Whom do you move back to"
        " the top of the waiting list? They will be told.",
        "{n} people hold a place too many for {capacity} places. Whom do you move back to"
        " the top of the waiting list? They will be told.",
        to_move,
        capacity=int(data["c"]),
    )
    await reply(update, context, text, rows, edit=edit)


async def pick_holder(update: Update, context: RenfortContext) -> None:
    """A holder's name: chosen, or not any more."""
    await answer_query(update)
    if context.turn.state != ED_MOVE:
        await reply(update, context, context.turn.t._("This step is over. Send /edit again."))
        return
    application_id = payload_int(context, "a")
    chosen = list(context.turn.data.get("chosen", []))
    if application_id in chosen:
        chosen.remove(application_id)
    else:
        chosen.append(application_id)
    advance(context, ED_MOVE, chosen=chosen)
    needed = await _still_needed(context)
    await _ask_whom(update, context, needed, edit=True)


async def _still_needed(context: RenfortContext) -> int:
    data = context.turn.data
    holders = await mission_changes.holders_of(
        context.renfort.db, actor_id=context.turn.me.id, slot_id=int(data["s"])
    )
    return max(len(holders) - int(data["c"]), 1)


async def move_holders(update: Update, context: RenfortContext) -> None:
    """Move: lower the capacity, the chosen people going back to the waiting list."""
    await answer_query(update)
    if context.turn.state != ED_MOVE:
        await reply(update, context, context.turn.t._("This step is over. Send /edit again."))
        return
    data = context.turn.data
    await _set_capacity(
        update,
        context,
        int(data["m"]),
        int(data["s"]),
        int(data["c"]),
        [int(a) for a in data.get("chosen", [])],
        edit=True,
    )


async def on_move_text(update: Update, context: RenfortContext) -> None:
    """Typed text while the names are shown: show them again."""
    await _ask_whom(update, context, await _still_needed(context), edit=False)


async def cancel_slot(update: Update, context: RenfortContext) -> None:
    """Cancel slot: ask why first."""
    found = await _tapped_slot(update, context)
    if found is not None:
        mission, slot = found
        await ask_reason(update, context, "slot", slot.id, mission.id)


STATES = {
    ED_TIMES: unless_stale(on_times),
    ED_CAPACITY: unless_stale(on_capacity),
    ED_MOVE: unless_stale(on_move_text),
}
ACTIONS = {
    SLOTS: list_slots,
    SLOT: pick_slot,
    TIMES: ask_times,
    CAPACITY: ask_capacity,
    CANCEL_SLOT: cancel_slot,
    MOVE_PICK: pick_holder,
    MOVE_OK: move_holders,
}
