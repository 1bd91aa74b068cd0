"""/edit, the slots: the list of a mission's slots, then per slot new Times, a new Capacity
(lowering it below the people holding a place asks whom to move back to the waiting list)
or Cancel slot; and Add slots, one per line or a whole series in one line ("every Tuesday
9:00-12:00 until 30 June"), shown as a list of dates to confirm before anything is made."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

from telegram import Update

from bot.buttons import Button
from bot.domain import MissionStatus, Period
from bot.i18n import Translator
from bot.services import mission_changes
from bot.services.errors import Conflict, ServiceError
from bot.services.missions import MAX_CAPACITY, MissionDetail, SlotView
from handlers.telegram.common import RenfortContext, answer_query, esc, reply
from handlers.telegram.mission_edit import (
    MISSION,
    _int,
    ask,
    ask_reason,
    mission_of,
    refusal,
    show_menu,
    told_text,
    unless_stale,
)
from handlers.telegram.new_mission_slots import slot_error_text, slot_example
from handlers.telegram.recurring_text import is_recurring, parse_recurring
from handlers.telegram.slot_text import SlotTextError, parse_slot
from handlers.telegram.wizard import advance

SLOTS = "ed.slots"
SLOT = "ed.slot"
TIMES = "ed.times"
CAPACITY = "ed.capacity"
CANCEL_SLOT = "ed.cancel_slot"
MOVE_PICK = "ed.move_pick"
MOVE_OK = "ed.move_ok"
ADD = "ed.add"
ADD_OK = "ed.add_ok"
ED_TIMES = "ed_times"
ED_CAPACITY = "ed_capacity"
ED_MOVE = "ed_move"
ED_ADD = "ed_add"
ED_ADD_CONFIRM = "ed_add_confirm"

MAX_LISTED = 40
NUMBER = re.compile(r"(\d{1,6})(?:\s+\D*)?")


def _span(t: Translator, mission: MissionDetail, starts_at: datetime, ends_at: datetime) -> str:
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


async def list_slots(update: Update, context: RenfortContext) -> None:
    """Slots: the mission's slots still ahead, each a button."""
    t, now = context.turn.t, context.turn.now
    await answer_query(update)
    advance(context, None)
    mission = await mission_of(update, context, _int(context, "m"))
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
            "🗓 " + esc(_span(t, mission, slot.starts_at, slot.ends_at)),
            t._("{taken} of {capacity} places taken", taken=slot.taken, capacity=slot.capacity),
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
    await answer_query(update)
    advance(context, None)
    found = await _mission_and_slot(update, context, _int(context, "m"), _int(context, "s"))
    if found is not None:
        text, rows = slot_menu(context.turn.t, *found)
        await reply(update, context, text, rows, edit=True)


async def ask_times(update: Update, context: RenfortContext) -> None:
    """Times: ask for the new date and hours (or the hours alone, same day)."""
    t = context.turn.t
    await answer_query(update)
    found = await _mission_and_slot(update, context, _int(context, "m"), _int(context, "s"))
    if found is None:
        return
    mission, slot = found
    advance(context, ED_TIMES, fresh=True, m=mission.id, s=slot.id)
    await ask(
        update,
        context,
        t._(
            "Reply with the new hours, for example 9h-14h (same day), or a date and hours,"
            " for example {example}.",
            example=slot_example(context.turn.now, mission.zone),
        ),
    )


def _text(update: Update) -> str:
    message = update.effective_message
    return (message.text or "").strip() if message else ""


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
        period = _new_period(_text(update), mission, slot, turn.now)
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
    span = _span(t, mission, period.starts_at, period.ends_at)
    await reply(
        update, context, t._("New time: {slot}", slot=esc(span)) + "\n" + told_text(t, changed)
    )


async def ask_capacity(update: Update, context: RenfortContext) -> None:
    """Capacity: ask for the new number of volunteers."""
    t = context.turn.t
    await answer_query(update)
    found = await _mission_and_slot(update, context, _int(context, "m"), _int(context, "s"))
    if found is None:
        return
    mission, slot = found
    advance(context, ED_CAPACITY, fresh=True, m=mission.id, s=slot.id)
    await ask(
        update,
        context,
        t._(
            "Reply with the number of volunteers needed (now {capacity}, {taken} taken).",
            capacity=slot.capacity,
            taken=slot.taken,
        ),
    )


async def on_capacity(update: Update, context: RenfortContext) -> None:
    """The new capacity: set it, or ask whom to move when it falls below the places taken."""
    t, turn = context.turn.t, context.turn
    match = NUMBER.fullmatch(_text(update))
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
    lines = [t._("Capacity now {capacity}.", capacity=result.slot.capacity)]
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
    application_id = _int(context, "a")
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
    await answer_query(update)
    found = await _mission_and_slot(update, context, _int(context, "m"), _int(context, "s"))
    if found is not None:
        mission, slot = found
        await ask_reason(update, context, "slot", slot.id, mission.id)


# ---- adding slots ----------------------------------------------------------------------


def add_prompt(t: Translator, example: str) -> str:
    return t._(
        "Reply with the new slots, one per line, for example: {example}\nOr a series in one"
        " line: every Tuesday 9:00-12:00 until 30 June (tous les mardis 9h-12h jusqu'au 30"
        " juin).",
        example=example,
    )


async def ask_new_slots(update: Update, context: RenfortContext) -> None:
    """Add slots: ask for them."""
    await answer_query(update)
    mission = await mission_of(update, context, _int(context, "m"))
    if mission is None:
        return
    advance(context, ED_ADD, fresh=True, m=mission.id)
    await ask(
        update, context, add_prompt(context.turn.t, slot_example(context.turn.now, mission.zone))
    )


def parse_new_slots(text: str, mission: MissionDetail, now: datetime) -> list[Period]:
    """Every slot typed: one per line, a line starting with 'every' or 'tous les' a series."""
    found: dict[tuple[datetime, datetime], Period] = {}
    for line in (line.strip() for line in text.splitlines()):
        if not line:
            continue
        if is_recurring(line):
            periods = parse_recurring(
                line, zone=mission.zone, now=now, most=mission_changes.MAX_NEW_SLOTS
            )
        else:
            periods = [parse_slot(line, zone=mission.zone, now=now)]
        for period in periods:
            found[(period.starts_at, period.ends_at)] = period
    if not found:
        raise SlotTextError("no_date")
    if len(found) > mission_changes.MAX_NEW_SLOTS:
        raise SlotTextError("too_many")
    return sorted(found.values(), key=lambda p: p.starts_at)


def series_error_text(t: Translator, code: str, example: str) -> str:
    reasons = {
        "no_until": t._("A series needs its last day, for example: until 30 June."),
        "until_before": t._("The last day comes before the first."),
        "no_days": t._("Which day of the week? For example: every Tuesday."),
        "too_many": t._(
            "That is more than {most} slots at once. Shorten the series.",
            most=mission_changes.MAX_NEW_SLOTS,
        ),
    }
    if code in reasons:
        return reasons[code] + "\n" + add_prompt(t, example)
    return slot_error_text(t, code, example)


async def on_new_slots(update: Update, context: RenfortContext) -> None:
    """The typed slots: show every date to confirm, with the number of volunteers each."""
    t, turn = context.turn.t, context.turn
    mission = await mission_of(update, context, int(turn.data.get("m", 0)))
    if mission is None:
        advance(context, None)
        return
    try:
        periods = parse_new_slots(_text(update), mission, turn.now)
    except SlotTextError as error:
        await ask(
            update, context, series_error_text(t, error.code, slot_example(turn.now, mission.zone))
        )
        return
    capacity = int(turn.data.get("c") or (mission.slots[-1].capacity if mission.slots else 1))
    pending = [[p.starts_at.isoformat(), p.ends_at.isoformat()] for p in periods]
    advance(context, ED_ADD_CONFIRM, slots=pending, c=max(capacity, 1))
    await _confirm(update, context, mission)


async def _confirm(update: Update, context: RenfortContext, mission: MissionDetail) -> None:
    t, data = context.turn.t, context.turn.data
    slots: list[list[str]] = data.get("slots", [])
    capacity = int(data["c"])
    lines = [
        t.n_(
            "<b>{mission}</b>: {n} new slot, {volunteers} each:",
            "<b>{mission}</b>: {n} new slots, {volunteers} each:",
            len(slots),
            mission=esc(mission.title),
            volunteers=t.n_("{n} volunteer", "{n} volunteers", capacity),
        )
    ]
    lines += [
        "• " + esc(_span(t, mission, datetime.fromisoformat(a), datetime.fromisoformat(b)))
        for a, b in slots
    ]
    lines += ["", t._("Reply with another number of volunteers to change it, or other dates.")]
    rows = [
        [
            Button(
                t.n_("✅ Create {n} slot", "✅ Create {n} slots", len(slots)),
                ADD_OK,
                {"m": mission.id},
            )
        ],
        [Button(t._("⬅️ Back"), MISSION, {"m": mission.id})],
    ]
    await reply(update, context, "\n".join(lines), rows)


async def on_confirm_text(update: Update, context: RenfortContext) -> None:
    """Typed while the list is shown: a number sets the volunteers per slot; dates replace
    the list."""
    turn = context.turn
    match = NUMBER.fullmatch(_text(update))
    if match is None:
        await on_new_slots(update, context)
        return
    capacity = int(match.group(1))
    if not 1 <= capacity <= MAX_CAPACITY:
        await ask(update, context, refusal(turn.t, ServiceError("capacity")))
        return
    mission = await mission_of(update, context, int(turn.data.get("m", 0)))
    if mission is None:
        return
    advance(context, ED_ADD_CONFIRM, c=capacity)
    await _confirm(update, context, mission)


async def create_slots(update: Update, context: RenfortContext) -> None:
    """Create: make every slot listed."""
    t, turn = context.turn.t, context.turn
    await answer_query(update)
    if turn.state != ED_ADD_CONFIRM or int(turn.data.get("m", -1)) != _int(context, "m"):
        await reply(update, context, t._("This step is over. Send /edit again."))
        return
    data: dict[str, Any] = turn.data
    periods = [
        Period(datetime.fromisoformat(a), datetime.fromisoformat(b)) for a, b in data["slots"]
    ]
    try:
        changed = await mission_changes.add_slots(
            context.renfort.db,
            actor_id=turn.me.id,
            mission_id=int(data["m"]),
            periods=periods,
            capacity=int(data["c"]),
            now=turn.now,
            inbound=turn.inbound.goto(None),
        )
    except ServiceError as error:
        await reply(update, context, refusal(t, error))
        return
    text = t.n_("{n} slot added.", "{n} slots added.", len(periods))
    if changed.status == MissionStatus.IN_REVIEW:
        text += "\n" + t._("The referent of your territory receives the change to check it.")
    await reply(update, context, text, edit=True)
    await show_menu(update, context, changed.mission_id, edit=False)


STATES = {
    ED_TIMES: unless_stale(on_times),
    ED_CAPACITY: unless_stale(on_capacity),
    ED_MOVE: unless_stale(on_move_text),
    ED_ADD: unless_stale(on_new_slots),
    ED_ADD_CONFIRM: unless_stale(on_confirm_text),
}
ACTIONS = {
    SLOTS: list_slots,
    SLOT: pick_slot,
    TIMES: ask_times,
    CAPACITY: ask_capacity,
    CANCEL_SLOT: cancel_slot,
    MOVE_PICK: pick_holder,
    MOVE_OK: move_holders,
    ADD: ask_new_slots,
    ADD_OK: create_slots,
}
