"""A person's data by SMS or WhatsApp: MES DONNEES / MY DATA gives it (as a link, the phone
channels turning the document into one), OUBLIER / FORGET then OUI erases it."""

from __future__ import annotations

from bot.messaging.message import Message
from bot.services import privacy
from handlers.sms.parse import Command, Kind, fold
from handlers.sms.render.shared import yes_no
from handlers.sms.turn import IDLE, SmsTurn

CONFIRM_FORGET = "confirm_forget"
FORGET_WORDS = frozenset({"OUBLIER", "OUBLIE", "OUBLIEZ MOI", "FORGET", "FORGET ME"})
MY_DATA_WORDS = frozenset(
    {
        "MES DONNEES",
        "MES DONNEE",
        "MESDONNEES",
        "MES DONNEES PERSONNELLES",
        "MY DATA",
        "MYDATA",
        "MY PERSONAL DATA",
    }
)


async def my_data_flow(turn: SmsTurn, command: Command) -> bool:
    """The keyword asking for one's data; False when the SMS is about something else. The
    answer carries the document; without a public address no link can give it, so the
    person is told where else to ask."""
    if fold(command.text) not in MY_DATA_WORDS:
        return False
    t = turn.t
    if not turn.renfort.settings.public_url:
        turn.say(
            t._("To get your data, ask the organisation, or write /mydata to Renfort on Telegram.")
        )
        return True
    document = await privacy.my_data(turn.renfort.db, person_id=turn.person.id)
    turn.say(Message(t._("Everything we store about you. FORGET erases it."), document=document))
    return True


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
    if command.yes is None and command.kind not in (Kind.TEXT, Kind.EMPTY):
        # A keyword is a change of mind: the question is dropped, so a later YES erases nothing.
        turn.goto(IDLE)
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
