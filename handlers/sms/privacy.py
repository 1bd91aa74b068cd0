"""Erasure by SMS: OUBLIER / FORGET, then OUI to confirm."""

from __future__ import annotations

from bot.services import privacy
from handlers.sms.parse import Command, fold
from handlers.sms.render.shared import yes_no
from handlers.sms.turn import IDLE, SmsTurn

CONFIRM_FORGET = "confirm_forget"
FORGET_WORDS = frozenset({"OUBLIER", "OUBLIE", "OUBLIEZ MOI", "FORGET", "FORGET ME"})


async def forget_flow(turn: SmsTurn, command: Command) -> bool:
    """The erasure keyword and its confirmation; False when the SMS is about something else."""
    t = turn.t
    if fold(command.text) in FORGET_WORDS:
        turn.goto(CONFIRM_FORGET)
        turn.say(
            yes_no(
                t,
                t._(
                    "Erase all your data? Your coming missions are cancelled. Reply YES to"
                    " confirm, NO to keep it."
                ),
            )
        )
        return True
    if turn.state != CONFIRM_FORGET:
        return False
    if command.yes is None:
        turn.say(yes_no(t, t._("Reply YES to erase your data, NO to keep it.")))
        return True
    if not command.yes:
        turn.goto(IDLE)
        turn.say(t._("Nothing was erased."))
        return True
    await privacy.forget(
        turn.renfort.db, person_id=turn.person.id, now=turn.now, inbound=turn.goto(IDLE)
    )
    turn.renfort.notify_outbox()
    turn.say(t._("Your data is erased. Text us again to start afresh. Thank you!"))
    return True
