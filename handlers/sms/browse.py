"""Finding a mission by SMS: MISSIONS lists the nearest, numbered; a number shows one with
its slots, numbered too; a slot number applies. Each line of the list also says which slot
its date is ('2.1': mission 2, slot 1), so applying takes one message after the list.
Numbers keep their meaning across pages (MORE / SUITE), since the ids they stand for are
kept in the conversation."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from bot.conversation import applying
from bot.domain import MissionStatus
from bot.services import keywords, missions
from bot.services.errors import Conflict, ServiceError
from bot.services.missions import MissionCard, MissionDetail, SlotView
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
        after=missions.Cursor.of(data.get("after")),
        shown=[int(i) for i in data.get("missions", [])],
        everything=bool(data.get("everything", False)),
    )


async def _list_page(
    turn: SmsTurn, *, after: missions.Cursor | None, shown: list[int], everything: bool
) -> None:
    person = turn.person
    search: dict[str, Any] = {
        "now": turn.now,
        "near": person.home,
        "radius_km": person.search_radius_km,
        "after": after,
        "limit": FETCH,
    }
    page = await missions.discover(
        turn.renfort.db, domains=() if everything else person.interests, **search
    )
    if not page.cards and after is None and person.interests and not everything:
        # Nothing in their domains: better to show what exists than nothing at all.
        everything = True
        page = await missions.discover(turn.renfort.db, **search)
    if not page.cards:
        turn.say(replies.no_missions(turn.t) if after is None else replies.nothing_more(turn.t))
        return
    text, count = replies.mission_list(
        turn.t,
        page.cards,
        len(shown) + 1,
        lambda k: k < len(page.cards) or page.more,
        turn.today,
        await _slot_numbers(turn, page.cards),
    )
    turn.say(text)
    turn.goto(
        LIST,
        missions=[*shown, *(c.id for c in page.cards[:count])],
        after=page.cursors[count - 1].data(),
        everything=everything,
    )


def _upcoming(detail: MissionDetail, turn: SmsTurn) -> list[SlotView]:
    """The slots one may still apply for, numbered from 1 in this order."""
    return [s for s in detail.slots if s.starts_at > turn.now]


async def _slot_numbers(turn: SmsTurn, cards: Sequence[MissionCard]) -> dict[int, int]:
    """For each listed mission, the number its page gives the slot whose date the list
    shows (the first with a free place, or the first of a full mission)."""
    numbers: dict[int, int] = {}
    upcoming = await missions.upcoming_slots(turn.renfort.db, [c.id for c in cards], turn.now)
    for card in cards:
        for number, slot in enumerate(upcoming[card.id], 1):
            if slot.starts_at >= card.next_start and (card.full or slot.free > 0):
                numbers[card.id] = number
                break
    return numbers


async def show_mission(turn: SmsTurn, number: int) -> None:
    """A number after a list: that mission and its slots."""
    ids = [int(i) for i in turn.data.get("missions", [])]
    if not 1 <= number <= len(ids):
        turn.say(replies.no_such_number(turn.t, len(ids)))
        return
    await _slots_page(turn, ids[number - 1], slot_ids=None, shown=0)


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
    detail = await missions.mission_detail(turn.renfort.db, mission_id)
    if detail.status != MissionStatus.PUBLISHED:
        raise Conflict("mission_closed")
    if slot_ids is None:
        slot_ids = [s.id for s in _upcoming(detail, turn)]
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
    turn.say(text)
    turn.goto(
        MISSION,
        mission_id=mission_id,
        slots=slot_ids,
        shown=shown + count,
        missions=turn.data.get("missions", []),
    )


async def apply(turn: SmsTurn, number: int) -> None:
    """A slot number after a mission: apply for it (or join its waiting list)."""
    slot_ids = [int(i) for i in turn.data.get("slots", [])]
    if not 1 <= number <= len(slot_ids):
        turn.say(replies.no_such_number(turn.t, len(slot_ids)))
        return
    await _apply_or_confirm(turn, slot_ids[number - 1], dict(turn.data))


async def apply_listed(turn: SmsTurn, number: int, slot: int) -> None:
    """'2.1' after a list: apply for slot 1 of mission 2 at once, as its page would."""
    ids = [int(i) for i in turn.data.get("missions", [])]
    if not ids:
        turn.say(replies.number_without_list(turn.t))
        return
    if not 1 <= number <= len(ids):
        turn.say(replies.no_such_number(turn.t, len(ids)))
        return
    detail = await missions.mission_detail(turn.renfort.db, ids[number - 1])
    if detail.status != MissionStatus.PUBLISHED:
        raise Conflict("mission_closed")
    slot_ids = [s.id for s in _upcoming(detail, turn)]
    if not slot_ids:
        turn.say(replies.no_slots(turn.t))
        return
    if not 1 <= slot <= len(slot_ids):
        turn.say(replies.no_such_slot(turn.t, number, len(slot_ids)))
        return
    # As if the person had opened the mission's page: its slot numbers work afterwards.
    page = {"mission_id": detail.id, "slots": slot_ids, "shown": 0, "missions": ids}
    await _apply_or_confirm(turn, slot_ids[slot - 1], page)


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
