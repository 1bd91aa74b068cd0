"""/edit, Add slots: one per line, or a whole series in one line ("every Tuesday
9:00-12:00 until 30 June", "tous les mardis 9h-12h jusqu'au 30 juin"), shown as the list of
its dates with the number of volunteers each, to confirm before anything is made."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from telegram import Update

from bot.buttons import Button
from bot.domain import MissionStatus, Period
from bot.i18n import Translator
from bot.services import mission_changes
from bot.services.errors import ServiceError
from bot.services.missions import MAX_CAPACITY, MissionDetail
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
    mission_of,
    refusal,
    show_menu,
    unless_stale,
)
from handlers.telegram.mission_edit_slots import NUMBER, local_span
from handlers.telegram.new_mission_slots import slot_error_text, slot_example
from handlers.telegram.recurring_text import is_recurring, parse_recurring
from handlers.telegram.slot_text import SlotTextError, parse_slot
from handlers.telegram.wizard import advance

ADD = "ed.add"
ADD_OK = "ed.add_ok"
ED_ADD = "ed_add"
ED_ADD_CONFIRM = "ed_add_confirm"


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
    mission = await mission_of(update, context, payload_int(context, "m"))
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
        periods = parse_new_slots(typed_text(update).strip(), mission, turn.now)
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
        "• " + esc(local_span(t, mission, datetime.fromisoformat(a), datetime.fromisoformat(b)))
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
    match = NUMBER.fullmatch(typed_text(update).strip())
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
    if turn.state != ED_ADD_CONFIRM or int(turn.data.get("m", -1)) != payload_int(context, "m"):
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


STATES = {ED_ADD: unless_stale(on_new_slots), ED_ADD_CONFIRM: unless_stale(on_confirm_text)}
ACTIONS = {ADD: ask_new_slots, ADD_OK: create_slots}
