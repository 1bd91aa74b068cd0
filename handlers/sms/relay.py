"""Relayed messages by SMS: free text that answers nothing else, within 7 days of an
organisation's message, is passed on to that organisation."""

from __future__ import annotations

from bot.services import relay
from handlers.sms.turn import SmsTurn


async def pass_on(turn: SmsTurn, text: str) -> bool:
    """Relay `text` to the organisation that last wrote; False when none did lately."""
    if not text.strip():
        return False
    db = turn.renfort.db
    if not await relay.awaiting_answer(db, person_id=turn.person.id, now=turn.now):
        return False
    answered = await relay.answer_organisation(
        db,
        person_id=turn.person.id,
        body=text,
        now=turn.now,
        via_sms=True,
        inbound=turn.inbound,
    )
    if answered is None:
        return False
    turn.renfort.notify_outbox()
    organisation = answered.organisation_name
    if len(organisation) > 60:
        organisation = organisation[:57] + "..."
    turn.say(turn.t._("Passed on to {organisation}.", organisation=organisation))
    return True
