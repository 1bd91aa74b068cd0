"""/edit: a coordinator changes a mission already made, in the admin group or privately.

/edit lists the organisation's missions; a mission's menu offers Title, Description,
Address, Slots (then per slot: Times, Capacity, Cancel slot; see mission_edit_slots), Add
slots and Cancel mission. Every button carries the mission or slot it is about, and every
step checks that the tapper coordinates that organisation; typed answers are asked as
replies to the bot (ForceReply), the only text a bot in privacy mode sees in a group. What
is being typed lives in the stored conversation, one per person even in a group."""

from __future__ import annotations

from datetime import timedelta

from telegram import Update

from bot.buttons import Button
from bot.domain import CANCEL_REASONS, MissionStatus
from bot.i18n import Translator
from bot.services import mission_changes, missions
from bot.services.errors import ServiceError
from bot.services.missions import MissionDetail
from bot.services.organisations import Organisation
from handlers.telegram.common import (
    RenfortContext,
    answer_query,
    esc,
    payload_int,
    refusal_text,
    reply,
    typed_text,
)
from handlers.telegram.exports import organisations_here
from handlers.telegram.new_mission import find_place
from handlers.telegram.relay import force_reply
from handlers.telegram.wizard import advance, expiring

# Button actions.
LIST = "ed.list"
MISSION = "ed.mission"
FIELD = "ed.field"
CANCEL_MISSION = "ed.cancel_mission"
REASON = "ed.reason"
DONE = "ed.done"
# Conversation states: what the coordinator is typing.
ED_FIELD = "ed_field"
ED_REASON = "ed_reason"

MAX_LISTED = 30
EDIT_TTL = timedelta(hours=6)
FIELDS = ("title", "description", "address")

unless_stale = expiring(
    EDIT_TTL, lambda t: t._("This change was left unfinished and is dropped. Send /edit again.")
)


def refusal(t: Translator, error: ServiceError) -> str:
    """A refusal of the mission_changes service in the coordinator's words."""
    d = error.details
    messages = {
        "not_member": t._("Only coordinators of this organisation can change its missions."),
        "mission_closed": t._("This mission is closed or cancelled; it cannot change any more."),
        "title": t._("The title should be 3 to 200 characters long."),
        "place": t._("I could not find that place. Type the address with its postcode."),
        "capacity": t._("Please type a number of volunteers from 1 to 10000."),
        "slot_past": t._("That time is already past."),
        "slot_order": t._("The end must come after the start."),
        "slot_started": t._("This slot has already started; it cannot change any more."),
        "slot_over": t._("This slot is already over."),
        "slots_exist": t._("These slots exist already."),
        "too_many_slots": t._(
            "That is more than {most} slots at once. Shorten the series.", most=d.get("most", 60)
        ),
        "reason": t._("Please give a reason."),
        "reason_length": t._(
            "Please keep the reason under {most} characters: everyone concerned reads it, some"
            " by SMS.",
            most=d.get("most", 300),
        ),
        "description_length": t._(
            "Please keep the description under {most} characters.", most=d.get("most", 2000)
        ),
        "nothing_to_change": t._("Nothing to change."),
    }
    return messages.get(error.code) or refusal_text(t, error)


async def ask(update: Update, context: RenfortContext, text: str) -> None:
    """Ask for typed text: in a group, as a message the coordinator replies to."""
    if context.turn.private:
        await reply(update, context, text)
    else:
        await force_reply(update, context, text)


async def edit_command(update: Update, context: RenfortContext) -> None:
    """/edit: the organisation's missions, to pick the one to change."""
    advance(context, None)
    for organisation in await organisations_here(update, context, refusal):
        await _list(update, context, organisation, edit=False)


async def _list(
    update: Update, context: RenfortContext, organisation: Organisation, *, edit: bool
) -> None:
    t, turn = context.turn.t, context.turn
    found = await mission_changes.editable_missions(
        context.renfort.db, actor_id=turn.me.id, organisation_id=organisation.id, now=turn.now
    )
    if not found:
        text = t._("{organisation} has no mission to change.", organisation=esc(organisation.name))
        await reply(update, context, text, edit=edit)
        return
    rows = []
    for mission in found[:MAX_LISTED]:
        zone = context.renfort.settings.timezone
        when = (
            t.short_date(mission.next_start.astimezone(zone)) if mission.next_start else t._("past")
        )
        rows.append([Button(f"{mission.title} · {when}", MISSION, {"m": mission.id})])
    text = t._(
        "✏️ Which mission of {organisation} do you want to change?",
        organisation=esc(organisation.name),
    )
    await reply(update, context, text, rows, edit=edit)


async def list_missions(update: Update, context: RenfortContext) -> None:
    """The Edit button under /roster, or Back from a mission's menu."""
    organisation_id = payload_int(context, "o")
    await answer_query(update)
    mine = context.turn.memberships
    chosen = next((o for o in mine if o.id == organisation_id), None)
    if chosen is None:
        await reply(update, context, refusal(context.turn.t, ServiceError("not_member")))
        return
    advance(context, None)
    await _list(update, context, chosen, edit=True)


async def mission_of(
    update: Update, context: RenfortContext, mission_id: int
) -> MissionDetail | None:
    """The mission, if the tapper coordinates its organisation; else they are told."""
    t = context.turn.t
    try:
        mission = await missions.mission_detail(context.renfort.db, mission_id)
    except ServiceError as error:
        await reply(update, context, refusal(t, error))
        return None
    mine = context.turn.memberships
    if mission.organisation_id not in {o.id for o in mine}:
        await reply(update, context, refusal(t, ServiceError("not_member")))
        return None
    if mission.status not in (
        MissionStatus.DRAFT,
        MissionStatus.IN_REVIEW,
        MissionStatus.PUBLISHED,
    ):
        await reply(update, context, refusal(t, ServiceError("mission_closed")))
        return None
    return mission


def menu_text(t: Translator, mission: MissionDetail) -> str:
    where = t._("Remote") if mission.remote else esc(mission.address)
    upcoming = len(mission.slots)
    lines = [
        f"✏️ <b>{esc(mission.title)}</b> · {esc(mission.organisation_name)}",
        f"📍 {where}",
        t.n_("{n} slot", "{n} slots", upcoming),
    ]
    if mission.status == MissionStatus.IN_REVIEW:
        lines.append(t._("In review: the referent will see your changes before publishing."))
    lines += ["", t._("What do you want to change?")]
    return "\n".join(lines)


def menu_buttons(t: Translator, mission: MissionDetail) -> list[list[Button]]:
    m = {"m": mission.id}
    return [
        [
            Button(t._("Title"), FIELD, m | {"f": "title"}),
            Button(t._("Description"), FIELD, m | {"f": "description"}),
            Button(t._("Address"), FIELD, m | {"f": "address"}),
        ],
        [Button(t._("🗓 Slots"), "ed.slots", m), Button(t._("➕ Add slots"), "ed.add", m)],
        [Button(t._("🚫 Cancel mission"), CANCEL_MISSION, m)],
        [
            Button(t._("⬅️ Missions"), LIST, {"o": mission.organisation_id}),
            Button(t._("Done"), DONE),
        ],
    ]


async def show_menu(
    update: Update, context: RenfortContext, mission_id: int, *, edit: bool
) -> None:
    mission = await mission_of(update, context, mission_id)
    if mission is None:
        return
    t = context.turn.t
    await reply(update, context, menu_text(t, mission), menu_buttons(t, mission), edit=edit)


async def pick_mission(update: Update, context: RenfortContext) -> None:
    """A mission in the list: its menu."""
    await answer_query(update)
    advance(context, None)
    await show_menu(update, context, payload_int(context, "m"), edit=True)


async def pick_field(update: Update, context: RenfortContext) -> None:
    """Title, Description or Address: ask for the new one."""
    t = context.turn.t
    await answer_query(update)
    payload = context.turn.payload
    field = payload.data.get("f") if payload else None
    mission = await mission_of(update, context, payload_int(context, "m"))
    if mission is None or field not in FIELDS:
        return
    advance(context, ED_FIELD, fresh=True, m=mission.id, f=field)
    questions = {
        "title": t._("Reply with the new title (now: {current}).", current=esc(mission.title)),
        "description": t._("Reply with the new description."),
        "address": t._(
            "Reply with the new address and its postcode, for example: 12 rue de la"
            " République, 52100 Saint-Dizier."
        ),
    }
    await ask(update, context, questions[str(field)])


def told_text(t: Translator, changed: mission_changes.Changed) -> str:
    text = t.n_(
        "Saved. {n} person concerned is told.",
        "Saved. {n} people concerned are told.",
        changed.told,
    )
    if changed.status == MissionStatus.IN_REVIEW:
        text += "\n" + t._("The referent of your territory receives the change to check it.")
    return text


async def on_field(update: Update, context: RenfortContext) -> None:
    """The new title, description or address."""
    t, turn = context.turn.t, context.turn
    text = typed_text(update).strip()
    mission_id, field = int(turn.data.get("m", 0)), str(turn.data.get("f", ""))
    if not text:
        await ask(update, context, t._("Please reply with text."))
        return
    place = None
    if field == "address":
        found = await find_place(context.renfort.geocoder, text)
        if found is None:
            await ask(update, context, refusal(t, ServiceError("place")))
            return
        place = mission_changes.NewPlace(
            address=text, postcode=found.postcode or None, point=found.point
        )
    try:
        changed = await mission_changes.edit_mission(
            context.renfort.db,
            actor_id=turn.me.id,
            mission_id=mission_id,
            now=turn.now,
            title=text if field == "title" else None,
            description=text if field == "description" else None,
            place=place,
            inbound=turn.inbound.goto(None),
        )
    except ServiceError as error:
        turn.inbound.goto(ED_FIELD, **turn.data)
        await ask(update, context, refusal(t, error))
        return
    context.renfort.notify_outbox()
    await reply(update, context, told_text(t, changed))
    await show_menu(update, context, mission_id, edit=False)


async def ask_reason(
    update: Update, context: RenfortContext, target: str, target_id: int, mission_id: int
) -> None:
    """Why cancel: a reason from the buttons, or the coordinator's own words as a reply."""
    t = context.turn.t
    advance(context, ED_REASON, fresh=True, on=target, id=target_id, m=mission_id)
    keep = [Button(t._("⬅️ Keep it"), MISSION, {"m": mission_id})]
    rows = [
        [Button(t._(label), REASON, {"k": key, "on": target, "id": target_id})]
        for key, label in CANCEL_REASONS.items()
    ]
    question = (
        t._("Why is this slot cancelled? Everyone concerned will read the reason.")
        if target == "slot"
        else t._("Why is the whole mission cancelled? Everyone concerned will read the reason.")
    )
    await reply(update, context, question, [*rows, keep], edit=True)
    await ask(update, context, t._("Tap a reason above, or reply with your own words."))


async def cancel_mission(update: Update, context: RenfortContext) -> None:
    """Cancel mission: ask why first."""
    await answer_query(update)
    mission = await mission_of(update, context, payload_int(context, "m"))
    if mission is not None:
        await ask_reason(update, context, "mission", mission.id, mission.id)


async def _cancel(
    update: Update,
    context: RenfortContext,
    target: str,
    target_id: int,
    reason: str,
    *,
    edit: bool = False,
) -> None:
    """Cancel the slot or the mission; with `edit`, the reason question shows the outcome
    (only once it happened, so a stranger's tap leaves it alone)."""
    t, turn = context.turn.t, context.turn
    db = context.renfort.db
    try:
        if target == "slot":
            changed = await mission_changes.cancel_slot(
                db,
                actor_id=turn.me.id,
                slot_id=target_id,
                reason=reason,
                now=turn.now,
                inbound=turn.inbound.goto(None),
            )
        else:
            changed = await mission_changes.cancel_mission(
                db,
                actor_id=turn.me.id,
                mission_id=target_id,
                reason=reason,
                now=turn.now,
                inbound=turn.inbound.goto(None),
            )
    except ServiceError as error:
        if turn.state == ED_REASON and not edit:  # typed words: let them be typed again
            turn.inbound.goto(ED_REASON, **turn.data)
            await ask(update, context, refusal(t, error))
            return
        await reply(update, context, refusal(t, error))
        return
    context.renfort.notify_outbox()
    label = t._(CANCEL_REASONS[reason]) if reason in CANCEL_REASONS else reason
    done = "\n".join(
        [
            (t._("Slot cancelled.") if target == "slot" else t._("Mission cancelled."))
            + " "
            + t.n_("{n} person concerned is told.", "{n} people concerned are told.", changed.told),
            t._("Reason: {reason}", reason=esc(label)),
        ]
    )
    await reply(update, context, done, edit=edit)


async def pick_reason(update: Update, context: RenfortContext) -> None:
    """A reason button: cancel the slot or the mission it was asked for."""
    await answer_query(update)
    payload = context.turn.payload
    key = payload.data.get("k") if payload else None
    target = payload.data.get("on") if payload else None
    if key not in CANCEL_REASONS or target not in ("slot", "mission"):
        return
    await _cancel(update, context, str(target), payload_int(context, "id"), str(key), edit=True)


async def on_reason(update: Update, context: RenfortContext) -> None:
    """The coordinator's own words for the cancellation."""
    text = typed_text(update).strip()
    data = context.turn.data
    if not text:
        await ask(
            update, context, context.turn.t._("Tap a reason above, or reply with your own words.")
        )
        return
    await _cancel(update, context, str(data.get("on")), int(data.get("id", 0)), text)


async def done(update: Update, context: RenfortContext) -> None:
    """Done: close the menu."""
    await answer_query(update)
    advance(context, None)
    await reply(update, context, context.turn.t._("Done."), edit=True)


STATES = {ED_FIELD: unless_stale(on_field), ED_REASON: unless_stale(on_reason)}
ACTIONS = {
    LIST: list_missions,
    MISSION: pick_mission,
    FIELD: pick_field,
    CANCEL_MISSION: cancel_mission,
    REASON: pick_reason,
    DONE: done,
}
