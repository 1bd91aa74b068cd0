"""The person's own missions by SMS: MY MISSIONS lists them numbered; CANCEL n asks to
confirm, since the place goes to someone else at once and a mistyped digit is easy."""

from __future__ import annotations

from bot.services import applications
from bot.services.applications import ApplicationView
from bot.services.errors import NotFound
from handlers.sms import replies
from handlers.sms.turn import CONFIRM_CANCEL, MINE, SmsTurn


async def _current(turn: SmsTurn) -> list[ApplicationView]:
    return await applications.applications_of(turn.renfort.db, turn.person.id, now=turn.now)


async def first_page(turn: SmsTurn) -> None:
    """MY MISSIONS."""
    views = await _current(turn)
    if not views:
        turn.say(replies.no_applications(turn.t))
        return
    await _page(turn, views, [v.id for v in views], shown=0)


async def next_page(turn: SmsTurn) -> None:
    """MORE after MY MISSIONS."""
    ids = [int(i) for i in turn.data.get("applications", [])]
    by_id = {v.id: v for v in await _current(turn)}
    shown = int(turn.data.get("shown", 0))
    views = [by_id[i] for i in ids[shown:] if i in by_id]
    if not views:
        turn.say(replies.nothing_more(turn.t))
        return
    await _page(turn, views, ids, shown=shown)


async def _page(turn: SmsTurn, views: list[ApplicationView], ids: list[int], *, shown: int) -> None:
    text, count = replies.my_missions(
        turn.t, views, shown + 1, lambda k: shown + k < len(ids), turn.today
    )
    turn.say(text)
    turn.goto(MINE, applications=ids, shown=shown + count)


async def ask_cancel(turn: SmsTurn, number: int) -> None:
    """CANCEL n: n as numbered in the last MY MISSIONS, or in the list it would show now."""
    ids = [int(i) for i in turn.data.get("applications", [])]
    if turn.state not in (MINE, CONFIRM_CANCEL) or not ids:
        ids = [v.id for v in await _current(turn)]
    if not 1 <= number <= len(ids):
        turn.say(replies.no_such_application(turn.t))
        return
    view = await applications.get_application(turn.renfort.db, ids[number - 1])
    if view.person_id != turn.person.id:
        raise NotFound("application_not_found")
    turn.say(replies.confirm_cancel(turn.t, view, turn.today))
    turn.goto(CONFIRM_CANCEL, application_id=view.id, applications=ids)


async def confirm_cancel(turn: SmsTurn, yes: bool) -> None:
    """YES or NO to the question CANCEL n asked."""
    ids = turn.data.get("applications", [])
    if not yes:
        turn.say(replies.cancel_kept(turn.t))
        turn.goto(MINE, applications=ids, shown=0)
        return
    view = await applications.cancel(
        turn.renfort.db,
        person_id=turn.person.id,
        application_id=int(turn.data["application_id"]),
        now=turn.now,
        inbound=turn.goto(MINE, applications=ids, shown=0),
    )
    turn.say(replies.cancelled(turn.t, view, turn.today))
    turn.renfort.notify_outbox()
