"""Finding a mission by SMS: MISSIONS lists the nearest, numbered; a number shows one with
its slots, numbered too; a slot number applies. Each line of the list also says which slot
its date is ('2.1': mission 2, slot 1), so applying takes one message after the list.
Numbers keep their meaning across pages (MORE / SUITE), since the ids they stand for are
kept in the conversation."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from bot.conversation import applying, discovering
from bot.conversation.discovering import MINE, NoSuchSlot, Unlisted
from bot.services import keywords
from bot.services.errors import ServiceError
from bot.services.missions import Cursor
from handlers.sms import replies
from handlers.sms.turn import CONDITION, LIST, MISSION, SmsTurn

FETCH = 6  # missions read per page; an SMS shows two to four of them


async def first_page(turn: SmsTurn) -> None:
    """MISSIONS: the nearest missions matching the person's interests, full ones last."""
    await _list_page(turn, after=None, shown=[], everything=False)


async def next_page(turn: SmsTurn) -> None:
    """MORE after a list."""
    data = turn.data
    await _list_page(
        turn,
        after=Cursor.of(data.get("after")),
        shown=[int(i) for i in data.get("missions", [])],
        everything=bool(data.get("everything", False)),
    )


async def _list_page(
    turn: SmsTurn, *, after: Cursor | None, shown: list[int], everything: bool
) -> None:
    # No filter to change by SMS: better to show what exists than nothing at all.
    page = await discovering.discover(
        turn.renfort.db,
        turn.person,
        now=turn.now,
        zone=turn.renfort.settings.timezone,
        limit=FETCH,
        domain=None if everything else MINE,
        after=after,
        widen=True,
    )
    if not page.cards:
        turn.say(replies.no_missions(turn.t) if after is None else replies.nothing_more(turn.t))
        return
    text, count = replies.mission_list(
        turn.t,
        page.cards,
        len(shown) + 1,
        page.left_after,
        turn.today,
        await discovering.listed_slots(turn.renfort.db, page.cards, turn.now),
    )
    turn.say(text)
    turn.goto(
        LIST,
        missions=[*shown, *(c.id for c in page.cards[:count])],
        after=page.after(count).data(),
        everything=everything or page.widened,
    )


async def show_mission(turn: SmsTurn, number: int) -> None:
    """A number after a list: that mission and its slots."""
    mission_id = discovering.pick([int(i) for i in turn.data.get("missions", [])], number)
    if isinstance(mission_id, Unlisted):
        turn.say(replies.no_such_number(turn.t, mission_id.count))
        return
    await _slots_page(turn, mission_id, slot_ids=None, shown=0)


async def keyword(turn: SmsTurn, text: str) -> bool:
    """A mission's keyword (from a poster): that mission and its slots; False if none."""
    mission_id = await keywords.mission_of_keyword(turn.renfort.db, text)
    if mission_id is None:
        return False
    await _slots_page(turn, mission_id, slot_ids=None, shown=0)
    return True


async def poster_mission(turn: SmsTurn, mission_id: int) -> bool:
    """Right after registering: the mission whose keyword brought the person, if still open."""
    lead = replies.registered_short(turn.t, turn.person.first_name)
    try:
        await _slots_page(turn, mission_id, slot_ids=None, shown=0, lead=lead)
    except ServiceError:
        return False  # gone or closed meanwhile: the plain welcome says what to do next
    return turn.reply is not None


async def more_slots(turn: SmsTurn) -> None:
    """MORE after a mission: its next slots."""
    data = turn.data
    await _slots_page(
        turn,
        int(data["mission_id"]),
        slot_ids=[int(i) for i in data.get("slots", [])],
        shown=int(data.get("shown", 0)),
    )


async def _slots_page(
    turn: SmsTurn, mission_id: int, *, slot_ids: list[int] | None, shown: int, lead: str = ""
) -> None:
    # The slot ids the mission's first page numbered are kept, so that numbers keep their
    # meaning on the pages after it.
    opened = await discovering.open_mission(turn.renfort.db, mission_id, turn.now)
    detail = opened.detail
    if slot_ids is None:
        slot_ids = opened.slot_ids
    by_id = {s.id: s for s in detail.slots}
    upcoming = [by_id[i] for i in slot_ids[shown:] if i in by_id]
    if not slot_ids:
        turn.say(replies.no_slots(turn.t))
        return
    if not upcoming:
        turn.say(replies.nothing_more(turn.t))
        return
    text, count = replies.mission_detail(
        turn.t,
        detail,
        upcoming,
        shown + 1,
        lambda k: shown + k < len(slot_ids),
        turn.today,
        lead,
    )
    # The first page says what the mission is and where: it points at the place; the pages
    # after it only list more slots.
    turn.say(replace(text, place=opened.pin) if shown == 0 else text)
    turn.goto(
        MISSION,
        mission_id=mission_id,
        slots=slot_ids,
        shown=shown + count,
        missions=turn.data.get("missions", []),
    )


async def apply(turn: SmsTurn, number: int) -> None:
    """A slot number after a mission: apply for it (or join its waiting list)."""
    slot_id = discovering.pick([int(i) for i in turn.data.get("slots", [])], number)
    if isinstance(slot_id, Unlisted):
        turn.say(replies.no_such_number(turn.t, slot_id.count))
        return
    await _apply_or_confirm(turn, slot_id, dict(turn.data))


async def apply_listed(turn: SmsTurn, number: int, slot: int) -> None:
    """'2.1' after a list: apply for slot 1 of mission 2 at once, as its page would."""
    ids = [int(i) for i in turn.data.get("missions", [])]
    picked = await discovering.pick_slot(turn.renfort.db, ids, number, slot, turn.now)
    if isinstance(picked, Unlisted):
        turn.say(
            replies.number_without_list(turn.t)
            if picked.count == 0
            else replies.no_such_number(turn.t, picked.count)
        )
        return
    if isinstance(picked, NoSuchSlot):
        turn.say(
            replies.no_slots(turn.t)
            if picked.count == 0
            else replies.no_such_slot(turn.t, picked.number, picked.count)
        )
        return
    # As if the person had opened the mission's page: its slot numbers work afterwards.
    opened = picked.mission
    page = {"mission_id": opened.detail.id, "slots": opened.slot_ids, "shown": 0, "missions": ids}
    await _apply_or_confirm(turn, picked.slot.id, page)


async def _apply_or_confirm(turn: SmsTurn, slot_id: int, mission: dict[str, Any]) -> None:
    """Apply for the slot, once the person has confirmed the mission's conditions."""
    await _next(turn, slot_id, [], mission)


async def condition_answer(turn: SmsTurn, yes: bool) -> None:
    """YES or NO to the condition asked: the next one, or the application once all are."""
    data = turn.data
    todo = [str(c) for c in data.get("todo", [])]
    confirmed = [str(c) for c in data.get("ok", [])]
    kept = data.get("mission")
    mission: dict[str, Any] = kept if isinstance(kept, dict) else {}
    if not yes or not todo:
        turn.goto(MISSION, **mission)
        turn.say(replies.condition_not_met(turn.t))
        return
    confirmed.append(todo[len(confirmed)])
    await _next(turn, int(data.get("slot") or 0), confirmed, mission)


async def condition_again(turn: SmsTurn) -> bool:
    """Words that are neither YES nor NO to a condition: the same question again; False when
    no condition awaits an answer any more (the mission changed meanwhile)."""
    data = turn.data
    slot_id = int(data.get("slot") or 0)
    confirmed = [str(c) for c in data.get("ok", [])]
    step = await applying.next_condition(
        turn.renfort.db, person_id=turn.person.id, slot_id=slot_id, confirmed=confirmed
    )
    if not isinstance(step, applying.AskCondition):
        return False
    turn.say(replies.ask_condition(turn.t, step.condition, step.number, step.total))
    return True


async def _next(turn: SmsTurn, slot_id: int, confirmed: list[str], mission: dict[str, Any]) -> None:
    """The next condition to confirm, or the application at once (no confirm screen, to
    save an SMS) when none is left."""
    step = await applying.next_condition(
        turn.renfort.db, person_id=turn.person.id, slot_id=slot_id, confirmed=confirmed
    )
    if isinstance(step, applying.AskCondition):
        todo = [*step.confirmed, step.condition]
        turn.goto(CONDITION, slot=slot_id, todo=todo, ok=confirmed, mission=mission)
        turn.say(replies.ask_condition(turn.t, step.condition, step.number, step.total))
        return
    # Staying on the mission lets the person apply for another slot of it by its number.
    view = await applying.apply(
        turn.renfort.db,
        person_id=turn.person.id,
        slot_id=slot_id,
        confirmed=confirmed,
        now=turn.now,
        inbound=turn.goto(MISSION, **mission),
    )
    turn.say(replies.applied(turn.t, view, turn.today))
    turn.renfort.notify_outbox()
