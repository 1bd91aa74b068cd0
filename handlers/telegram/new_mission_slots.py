"""The second half of /newmission: its slots (date and hours, then capacity, as many as
needed) and publishing; also the small helpers both halves of the wizard share."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from telegram import Update

from bot.buttons import Button
from bot.domain import DOMAINS, GeoPoint, MissionStatus
from bot.i18n import Translator
from bot.services import missions
from bot.services.errors import InvalidInput, ServiceError
from bot.services.missions import MAX_CAPACITY, MissionSpec, SlotSpec
from handlers.telegram.common import (
    RenfortContext,
    answer_query,
    esc,
    refusal_text,
    reply,
    typed_text,
)
from handlers.telegram.new_mission_templates import ACTIONS as TEMPLATE_ACTIONS
from handlers.telegram.new_mission_templates import save_offer
from handlers.telegram.slot_text import SlotTextError, parse_slot
from handlers.telegram.wizard import advance, at_step, expiring

NM_SLOT = "nm_slot"
NM_CAPACITY = "nm_capacity"
NM_MORE = "nm_more"
ADD_SLOT = "nm_add_slot"
PUBLISH = "nm_publish"
ADD_CONDITION = "nm_add_condition"  # answered in new_mission_conditions
CANCEL = "nm_cancel"


MAX_SLOTS = 20
MAX_CONDITIONS = 5
WIZARD_TTL = timedelta(hours=24)
# "4", "4 volunteers", "4 bénévoles"; not "12/06", which is a date.
CAPACITY = re.compile(r"(\d{1,6})(?:\s+\D*)?")


def slot_example(now: datetime, zone: ZoneInfo, *, start_only: bool = False) -> str:
    """A slot a week from now, typed the way the wizard reads it."""
    day = f"{(now.astimezone(zone) + timedelta(days=7)):%d/%m/%Y}"
    return f"{day} 8h" if start_only else f"{day} 8h-13h"


def duration_of(context: RenfortContext) -> timedelta | None:
    """A template's typical duration: then the start hour alone is enough."""
    minutes = context.turn.data.get("duration")
    return timedelta(minutes=int(minutes)) if minutes else None


def text_of(update: Update) -> str:
    return typed_text(update).strip()


def goto(
    context: RenfortContext, state: str | None, *, fresh: bool = False, **changes: Any
) -> dict[str, Any]:
    """Move the mission wizard on (see wizard.advance); returns the new answers."""
    return advance(context, state, fresh=fresh, **changes)


def zone_of(context: RenfortContext) -> ZoneInfo:
    return context.renfort.settings.timezone


def cancel_row(t: Translator) -> list[Button]:
    return [Button(t._("Cancel"), CANCEL)]


unless_stale = expiring(
    WIZARD_TTL,
    lambda t: t._(
        "Your unfinished mission from earlier was dropped. Send /newmission to start again."
    ),
)


async def still_at(update: Update, context: RenfortContext, *states: str) -> bool:
    """Whether a wizard button belongs to the current step (old buttons stay on screen)."""
    over = context.turn.t._("This step is over. Send /newmission to start again.")
    return await at_step(update, context, states, over)


def slot_prompt(context: RenfortContext, *, first: bool) -> str:
    t = context.turn.t
    duration = duration_of(context)
    if duration is not None:
        example = slot_example(context.turn.now, zone_of(context), start_only=True)
        hours = f"{duration.total_seconds() / 3600:g}"
        return t._(
            "When does it start? Type the date and the hour, for example: {example}. It lasts"
            " {hours} h; type an end hour too to change that.",
            example=example,
            hours=hours,
        )
    example = slot_example(context.turn.now, zone_of(context))
    if first:
        return t._(
            "When is the first slot? Type the date, then the start and end hours, for"
            " example: {example}",
            example=example,
        )
    return t._("When is the next slot? For example: {example}", example=example)


def slot_error_text(t: Translator, code: str, example: str) -> str:
    """A friendly explanation for each way a typed slot can be wrong, with an example."""
    reasons = {
        "no_date": t._("I could not find a date at the start."),
        "no_such_date": t._("That date does not exist."),
        "hours": t._("I need two hours: when the slot starts and when it ends."),
        "bad_time": t._("One of the hours is not a time of day."),
        "same_time": t._("The start and the end are the same hour."),
        "clock_gap": t._("That hour does not exist that day (the clocks go forward)."),
        "past": t._("That slot would start in the past."),
        "too_far": t._("That date is years away: please check the year."),
        "duplicate": t._("You already added this slot."),
    }
    return t._(
        "{reason} Type the date, then the start and end hours, for example: {example}",
        reason=reasons.get(code, reasons["no_date"]),
        example=example,
    )


async def on_slot(update: Update, context: RenfortContext) -> None:
    """The typed date and hours, then ask how many volunteers."""
    t = context.turn.t
    zone = zone_of(context)
    try:
        period = parse_slot(
            text_of(update), zone=zone, now=context.turn.now, duration=duration_of(context)
        )
        taken = {(s["starts_at"], s["ends_at"]) for s in context.turn.data.get("slots", [])}
        if (period.starts_at.isoformat(), period.ends_at.isoformat()) in taken:
            raise SlotTextError("duplicate")
    except SlotTextError as error:
        example = slot_example(context.turn.now, zone)
        await reply(update, context, slot_error_text(t, error.code, example))
        return
    pending = {"starts_at": period.starts_at.isoformat(), "ends_at": period.ends_at.isoformat()}
    if context.turn.data.get("capacity"):  # a template's: no need to ask
        await _add_slot(update, context, pending, int(context.turn.data["capacity"]))
        return
    goto(context, NM_CAPACITY, pending=pending)
    span = t.slot_span(period.starts_at, period.ends_at, zone)
    text = t._(
        "{slot}\n\nHow many volunteers do you need for this slot? Type a number, for example: 4",
        slot=esc(span),
    )
    await reply(update, context, text)


async def on_capacity(update: Update, context: RenfortContext) -> None:
    """The number of volunteers for the slot just typed (a new date and hours instead
    replaces that slot)."""
    t = context.turn.t
    text = text_of(update)
    match = CAPACITY.fullmatch(text)
    if match is None and _is_slot(context, text):
        await on_slot(update, context)
        return
    capacity = int(match.group(1)) if match else 0
    if not 1 <= capacity <= MAX_CAPACITY:
        await reply(
            update,
            context,
            t._(
                "Please type the number of volunteers needed, from 1 to {most}, for example:"
                " 4. To change the slot, type its date and hours again.",
                most=MAX_CAPACITY,
            ),
        )
        return
    await _add_slot(update, context, context.turn.data["pending"], capacity)


async def _add_slot(
    update: Update, context: RenfortContext, pending: dict[str, Any], capacity: int
) -> None:
    """The slot is complete: show the mission so far with Add another slot and Publish."""
    t = context.turn.t
    slots = [*context.turn.data.get("slots", []), {**pending, "capacity": capacity}]
    data = goto(context, NM_MORE, slots=slots, pending=None)
    text = summary(context, data) + "\n\n" + t._("Add another slot, or publish the mission?")
    if data.get("template_id"):
        text += "\n" + t._("To change the number of volunteers of the last slot, type it.")
    await reply(update, context, text, more_buttons(t, data))


def _is_slot(context: RenfortContext, text: str) -> bool:
    try:
        parse_slot(text, zone=zone_of(context), now=context.turn.now, duration=duration_of(context))
    except SlotTextError:
        return False
    return True


def more_buttons(t: Translator, data: dict[str, Any]) -> list[list[Button]]:
    """Add another slot, Publish, Add a condition: each while the mission so far allows it
    (the counts come from the wizard's data, whichever screen shows the buttons)."""
    slot_count, condition_count = len(data.get("slots") or []), len(data.get("conditions") or [])
    first = [Button(t._("➕ Add another slot"), ADD_SLOT)] if slot_count < MAX_SLOTS else []
    rows = [[*first, Button(t._("✅ Publish"), PUBLISH)]]
    if condition_count < MAX_CONDITIONS:
        rows.append([Button("☑️ " + t._("Add a condition for volunteers"), ADD_CONDITION)])
    return [*rows, cancel_row(t)]


def summary(context: RenfortContext, data: dict[str, Any]) -> str:
    """The mission as it will be published."""
    t, zone = context.turn.t, zone_of(context)
    where = t._("Remote") if data.get("remote") else esc(data.get("address", ""))
    domain = DOMAINS.get(str(data.get("domain")))
    lines = [
        f"<b>{esc(data.get('title', ''))}</b> · {esc(data.get('organisation_name', ''))}",
        f"{esc(t._(domain)) if domain else ''} · {where}",
        "",
    ]
    for slot in data.get("slots", []):
        span = t.slot_span(
            datetime.fromisoformat(slot["starts_at"]), datetime.fromisoformat(slot["ends_at"]), zone
        )
        volunteers = t.n_("{n} volunteer", "{n} volunteers", int(slot["capacity"]))
        lines.append(f"• {esc(span)} — {volunteers}")
    conditions = [str(c) for c in data.get("conditions") or []]
    if conditions:
        lines += ["", t._("Volunteers confirm before applying:")]
        lines += [f"☑️ {esc(c)}" for c in conditions]
    return "\n".join(lines)


async def on_more_text(update: Update, context: RenfortContext) -> None:
    """Typed text after a slot: another date and hours adds a slot, anything else gets the
    buttons again; from a template, a number changes the last slot's number of volunteers."""
    if len(context.turn.data.get("slots", [])) < MAX_SLOTS and _is_slot(context, text_of(update)):
        await on_slot(update, context)
        return
    number = CAPACITY.fullmatch(text_of(update))
    slots = list(context.turn.data.get("slots", []))
    wanted = int(number.group(1)) if number else 0
    if context.turn.data.get("template_id") and slots and 1 <= wanted <= MAX_CAPACITY:
        last = dict(slots.pop())
        del last["capacity"]
        goto(context, NM_MORE, slots=slots)
        await _add_slot(update, context, last, wanted)
        return
    t = context.turn.t
    buttons = more_buttons(t, context.turn.data)
    await reply(update, context, t._("Please tap Add another slot or Publish."), buttons)


async def add_slot(update: Update, context: RenfortContext) -> None:
    """The Add another slot button."""
    if not await still_at(update, context, NM_MORE):
        return
    await answer_query(update)
    goto(context, NM_SLOT)
    await reply(update, context, summary(context, context.turn.data), edit=True)
    await reply(update, context, slot_prompt(context, first=False))


def _spec(context: RenfortContext) -> MissionSpec:
    data = context.turn.data
    point = None
    if not data.get("remote"):
        point = GeoPoint(float(data["latitude"]), float(data["longitude"]))
    return MissionSpec(
        organisation_id=int(data["organisation_id"]),
        title=str(data["title"]),
        domain=str(data["domain"]),
        description=str(data.get("description") or ""),
        conditions=tuple(str(c) for c in data.get("conditions") or ()),
        address=str(data.get("address") or ""),
        postcode=data.get("postcode"),
        point=point,
        remote=bool(data.get("remote")),
        timezone=context.renfort.settings.renfort_timezone,
        slots=tuple(
            SlotSpec(
                datetime.fromisoformat(s["starts_at"]),
                datetime.fromisoformat(s["ends_at"]),
                int(s["capacity"]),
            )
            for s in data.get("slots", [])
        ),
        template_id=int(data["template_id"]) if data.get("template_id") else None,
    )


async def publish(update: Update, context: RenfortContext) -> None:
    """The Publish button: create the mission, published at once or sent for review."""
    if not await still_at(update, context, NM_MORE):
        return
    t = context.turn.t
    await answer_query(update)
    inbound = context.turn.inbound
    try:
        mission_id = await missions.create_mission(
            context.renfort.db,
            _spec(context),
            actor_id=context.turn.me.id,
            now=context.turn.now,
            inbound=inbound.goto(None),
        )
    except InvalidInput as error:
        # The transaction rolled back; keep the wizard where it was so nothing typed is lost.
        inbound.goto(NM_MORE, **context.turn.data)
        why = (
            t._("A slot has started in the meantime: cancel and start again with later dates.")
            if error.code == "slot_past"
            else t._("Something in this mission is not valid. Tap Cancel and start again.")
        )
        await reply(update, context, why, more_buttons(t, context.turn.data))
        return
    except ServiceError as error:
        inbound.goto(None)
        await reply(update, context, refusal_text(t, error), edit=True)
        return
    shown = summary(context, context.turn.data)
    offer, save = save_offer(t, mission_id, str(context.turn.data.get("organisation_name", "")))
    status = (await missions.mission_detail(context.renfort.db, mission_id)).status
    if status == MissionStatus.IN_REVIEW:
        done = t._(
            "Sent to the referent of your territory, who checks new missions before they are"
            " published. You will hear from them here."
        )
        await reply(update, context, shown + "\n\n" + done, edit=True)
        await reply(update, context, offer, save)
        return
    link = f"https://t.me/{context.bot.username}?start=m{mission_id}"
    done = t._(
        "Published. Volunteers can find it now with /missions. Applications will arrive in"
        " your organisation's admin group, or here while no group is linked.\n\nTo recruit"
        " more widely, share this link: {link}",
        link=link,
    )
    await reply(update, context, shown + "\n\n" + done, edit=True)
    await reply(update, context, offer, save)


STATES = {
    NM_SLOT: unless_stale(on_slot),
    NM_CAPACITY: unless_stale(on_capacity),
    NM_MORE: unless_stale(on_more_text),
}
ACTIONS = {ADD_SLOT: add_slot, PUBLISH: publish, **TEMPLATE_ACTIONS}
