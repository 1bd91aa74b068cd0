"""The person's own missions by SMS: MY MISSIONS lists them numbered; CANCEL n asks to
confirm, since the place goes to someone else at once and a mistyped digit is easy."""

from __future__ import annotations

from bot.conversation import cancelling
from bot.services.applications import ApplicationView
from handlers.sms import replies
from handlers.sms.turn import CONFIRM_CANCEL, MINE, SmsTurn


def _shown(turn: SmsTurn) -> list[int]:
    """The ids the last MY MISSIONS numbered, while the conversation is still about them."""
    if turn.state not in (MINE, CONFIRM_CANCEL):
        return []
    return [int(i) for i in turn.data.get("applications", [])]


async def first_page(turn: SmsTurn) -> None:
    """MY MISSIONS."""
    views = await cancelling.mine(turn.renfort.db, turn.person.id, turn.now)
    if not views:
        turn.say(replies.no_applications(turn.t))
        return
    await _page(turn, views, [v.id for v in views], shown=0)


async def next_page(turn: SmsTurn) -> None:
    """MORE after MY MISSIONS."""
    ids = [int(i) for i in turn.data.get("applications", [])]
    shown = int(turn.data.get("shown", 0))
    views = await cancelling.still_listed(
        turn.renfort.db, person_id=turn.person.id, listed=ids[shown:], now=turn.now
    )
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
    db = turn.renfort.db
    picked = await cancelling.pick(
        db, person_id=turn.person.id, number=number, shown=_shown(turn), now=turn.now
    )
    if isinstance(picked, cancelling.NoSuchNumber):
        turn.say(replies.no_such_application(turn.t))
        return
    asked = await cancelling.ask_cancel(
        db, person_id=turn.person.id, application_id=picked.application_id, now=turn.now
    )
    turn.say(replies.confirm_cancel(turn.t, asked.application, turn.today))
    turn.goto(CONFIRM_CANCEL, application_id=asked.application.id, applications=list(picked.listed))


async def confirm_cancel(turn: SmsTurn, yes: bool) -> None:
    """YES or NO to the question CANCEL n asked."""
    ids = turn.data.get("applications", [])
    if not yes:
        turn.say(replies.cancel_kept(turn.t))
        turn.goto(MINE, applications=ids, shown=0)
        return
    view = await cancelling.cancel(
        turn.renfort.db,
        person_id=turn.person.id,
        application_id=int(turn.data["application_id"]),
        now=turn.now,
        inbound=turn.goto(MINE, applications=ids, shown=0),
    )
    turn.say(replies.cancelled(turn.t, view, turn.today))
    turn.renfort.notify_outbox()
