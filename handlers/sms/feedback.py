"""An SMS answering "Did it go well?": any free text in the days after a slot we asked
about is the volunteer's note; we keep it and thank them."""

from __future__ import annotations

from bot.services import feedback
from handlers.sms.render.organisers import feedback_thanks
from handlers.sms.turn import SmsTurn


async def take_note(turn: SmsTurn, text: str) -> bool:
    """Keep `text` as the note about the slot we asked about; False when we asked nothing."""
    db = turn.renfort.db
    application_id = await feedback.awaiting_answer(db, person_id=turn.person.id, now=turn.now)
    if application_id is None or not text.strip():
        return False
    await feedback.record_feedback(
        db,
        person_id=turn.person.id,
        application_id=application_id,
        good=None,
        note=text.strip(),
        now=turn.now,
        inbound=turn.inbound,
    )
    turn.say(feedback_thanks(turn.t))
    return True
