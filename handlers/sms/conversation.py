"""The keyword state machine: one inbound SMS in, the answer out (its text, and the
choices it offers).

Carrier keywords come first (STOP silences every feature; only START and its synonyms
break the silence), then HELP and LANG, which work at any point; a person still registering
is answered by the registration; everything else depends on the conversation's state.
Each SMS is handled at most once, and a retried one gets the answer it got before."""

from __future__ import annotations

import asyncio
import logging
import time
from weakref import WeakValueDictionary

from bot.messaging.message import Choice, Message
from bot.runtime import Renfort
from bot.services import keywords, phones, whatsapp
from bot.services.errors import ServiceError
from bot.text import clean_text
from handlers.sms import answers, browse, feedback, linking, mine, privacy, registration, replies
from handlers.sms import relay as relay_sms
from handlers.sms.parse import Command, Kind, parse_command, parse_language
from handlers.sms.turn import (
    CALLOUT_CONDITION,
    CHANNEL,
    CONDITION,
    CONFIRM_CANCEL,
    IDLE,
    LANGUAGE,
    LAST_SID,
    LIST,
    MINE,
    MISSION,
    SmsTurn,
    last_reply,
)
from handlers.whatsapp.sender import quick_replies
from storage.database import (
    AlreadyProcessed,
    Inbound,
    is_processed,
    load_conversation,
    mark_processed,
)

log = logging.getLogger(__name__)
# Only the beginning of a long SMS can be a keyword, a number or a name.
READ_CHARS = 320


class SmsConversations:
    """Answers inbound SMS, one at a time per phone number."""

    def __init__(self, renfort: Renfort) -> None:
        self.renfort = renfort
        self._locks: WeakValueDictionary[str, asyncio.Lock] = WeakValueDictionary()

    async def handle(
        self, phone: str, body: str, message_sid: str, channel: str = CHANNEL
    ) -> str | None:
        """The text of the answer to `body` from `phone` (None: stay silent)."""
        answer = await self.answer(phone, body, message_sid, channel)
        return None if answer is None else answer.text

    async def answer(
        self,
        phone: str,
        body: str,
        message_sid: str,
        channel: str = CHANNEL,
        tapped: str | None = None,
    ) -> Message | None:
        """The answer to `body` from `phone`, with the choices it offers (None: stay silent);
        never raises. `channel`: sms, or whatsapp (the same conversation, answered on the
        channel it came from); `tapped`: the title of the quick reply whose payload `body` is."""
        body, message_sid = clean_text(body), clean_text(message_sid)
        lock = self._locks.get(phone)
        if lock is None:
            lock = self._locks[phone] = asyncio.Lock()
        async with lock:
            started = time.perf_counter()
            try:
                answer = await self._handle(phone, body, message_sid, channel, tapped)
                self.renfort.metrics.observe(
                    "handler_seconds",
                    time.perf_counter() - started,
                    help_text="Time to handle one inbound message",
                    channel=channel,
                )
                return answer
            except Exception:
                log.exception("SMS %s could not be handled", message_sid)
                self.renfort.metrics.count(
                    "handler_errors_total", help_text="Unexpected handler errors"
                )
                contact = await _contact_or_none(self.renfort, phone)
                locale = contact.person.locale if contact else None
                if contact is not None and contact.stopped:
                    return None
                return Message(replies.apology(self.renfort.translator(locale)))

    async def _handle(
        self, phone: str, body: str, message_sid: str, channel: str, tapped: str | None
    ) -> Message | None:
        db = self.renfort.db
        stored = await load_conversation(db, CHANNEL, phone)
        state, data = stored if stored is not None else (IDLE, {})
        if data.get(LAST_SID) == message_sid:
            self._count_duplicate()
            return last_reply(data)
        if await is_processed(db, CHANNEL, message_sid):
            self._count_duplicate()
            return None  # answered long ago: the conversation has moved on since
        self.renfort.metrics.count("inbound_total", help_text="Inbound messages", channel=channel)
        contact = await phones.find_by_phone(db, phone)
        turn = SmsTurn(
            renfort=self.renfort,
            inbound=Inbound(CHANNEL, message_sid, conversation_key=phone),
            phone=phone,
            contact=contact,
            state=state,
            data=data,
            t=self.renfort.translator(contact.person.locale if contact else None),
            now=self.renfort.now(),
            channel=channel,
            tapped=None if tapped is None else clean_text(tapped),
        )
        try:
            await dispatch(turn, parse_command(body[:READ_CHARS]))
        except AlreadyProcessed:
            self._count_duplicate()
            again = await load_conversation(db, CHANNEL, phone)
            if again is None or again[1].get(LAST_SID) != message_sid:
                return None  # another worker answers it
            return last_reply(again[1])
        except ServiceError as error:
            turn.say(replies.refusal(turn.t, error))
        await _note_channel(turn)
        await mark_processed(db, turn.final())
        return turn.reply

    def _count_duplicate(self) -> None:
        self.renfort.metrics.count("inbound_duplicates_total", channel=CHANNEL)


async def _note_channel(turn: SmsTurn) -> None:
    """Notifications follow the person to the channel they write from; a WhatsApp message
    also opens the 24-hour window (SMS costs a write only when the person switched)."""
    contact = turn.contact
    if contact is None:
        return
    if turn.channel == whatsapp.NAME or (contact.channel or CHANNEL) != turn.channel:
        await whatsapp.note_inbound(turn.renfort.db, turn.phone, turn.channel, turn.now)


async def _contact_or_none(renfort: Renfort, phone: str) -> phones.SmsContact | None:
    try:
        return await phones.find_by_phone(renfort.db, phone)
    except Exception:  # the database itself may be what failed
        return None


async def dispatch(turn: SmsTurn, command: Command) -> None:
    """Route one understood SMS to what it asks for."""
    contact = turn.contact
    db = turn.renfort.db
    code = linking.link_code(command)
    if code is not None and not (contact is not None and contact.stopped):
        await linking.link(turn, code)
        return
    if contact is None:
        await _first_contact(turn, command)
        return
    if contact.stopped:
        if command.kind == Kind.START:
            contact = await phones.opt_in(db, turn.phone, inbound=turn.goto(IDLE))
            turn.contact = contact
            person = contact.person
            turn.say(
                replies.resumed(turn.t)
                if person.registered
                else registration.question(turn, person)
            )
        return  # stopped: silence, whatever they write
    if command.kind == Kind.STOP:
        await phones.opt_out(db, turn.phone, inbound=turn.goto(IDLE))
        turn.say(replies.stopped(turn.t))
        return
    if command.kind == Kind.HELP:
        turn.say(replies.help_text(turn.t))
        return
    if command.kind == Kind.LANGUAGE:
        if command.language is not None:
            await registration.choose_language(turn, command.language)
        else:
            turn.say(replies.LANGUAGE_QUESTION)
            turn.goto(LANGUAGE, **turn.kept())
        return
    if turn.state == LANGUAGE:
        locale = parse_language(command.text)
        if locale is not None:
            await registration.choose_language(turn, locale)
            return
        if command.kind == Kind.NUMBER:
            # Another number answers the question we just asked, wrongly: no list awaits it.
            turn.say(replies.LANGUAGE_QUESTION)
            return
    if (channel := linking.channel_choice(command)) is not None:
        await linking.choose(turn, channel)
        return
    if await privacy.my_data_flow(turn, command) or await privacy.forget_flow(turn, command):
        return
    if not turn.person.registered:
        await registration.answer(turn, command)
        return
    await _registered(turn, command)


async def _first_contact(turn: SmsTurn, command: Command) -> None:
    """A new number: STOP is remembered; anything else gets who we are and the first question."""
    db = turn.renfort.db
    if command.kind == Kind.STOP:
        turn.contact = await phones.opt_out(db, turn.phone, inbound=turn.goto(IDLE))
        turn.say(replies.stopped(turn.t))
        return
    # A poster's keyword is remembered, as Telegram's deep link is, so the mission that
    # brought the person is the first thing they see once registered.
    mission_id = None
    if command.kind == Kind.TEXT:
        mission_id = await keywords.mission_of_keyword(db, command.text)
    await registration.first_message(turn, command, mission_id)


async def _registered(turn: SmsTurn, command: Command) -> None:
    kind, state = command.kind, turn.state
    if kind in (Kind.NUMBER, Kind.SLOT) and _stale_tap(turn, command):
        turn.say(replies.number_without_list(turn.t))
        return
    if state == registration.INTERESTS and kind in registration.SAYINGS:
        await registration.interests_answer(turn, command)
        return
    if state == CONDITION and command.yes is not None:
        await browse.condition_answer(turn, command.yes)
        return
    if state == CONDITION and kind == Kind.TEXT and await browse.condition_again(turn):
        return
    if state == CALLOUT_CONDITION and command.yes is not None:
        await answers.callout_condition_answer(turn, command.yes)
        return
    if state == CALLOUT_CONDITION and kind == Kind.TEXT and turn.data.get("todo"):
        answers.callout_condition_again(turn)
        return
    # A bare YES/NO answers an offer or "Still coming?", unless we just asked "Cancel?".
    if (
        state != CONFIRM_CANCEL
        and command.yes is not None
        and await answers.answer_yes_no(turn, command.yes)
    ):
        return
    if state == CONFIRM_CANCEL and command.yes is not None:
        await mine.confirm_cancel(turn, command.yes)
    elif kind == Kind.MISSIONS:
        await browse.first_page(turn)
    elif kind == Kind.MY_MISSIONS:
        await mine.first_page(turn)
    elif kind == Kind.CANCEL and command.number is not None:
        await mine.ask_cancel(turn, command.number)
    elif kind == Kind.CANCEL_WITHOUT_NUMBER:
        turn.say(replies.cancel_needs_number(turn.t))
    elif kind == Kind.MORE:
        await _more(turn)
    elif kind == Kind.NUMBER and command.number is not None:
        await _number(turn, command.number)
    elif kind == Kind.SLOT and command.number is not None and command.slot is not None:
        await browse.apply_listed(turn, command.number, command.slot)
    elif kind == Kind.INTERESTS:
        registration.ask_interests(turn)
    elif state == CONFIRM_CANCEL:
        turn.say(replies.yes_or_no(turn.t))
    elif kind == Kind.EMPTY:
        turn.say(replies.empty(turn.t))
    elif kind in (Kind.START, Kind.TEXT) and command.yes is not None:
        # A bare YES (or NO, OK, 👍) that answers none of our questions may answer an
        # organisation's relayed message, or "Did it go well?"; else the person is told
        # nothing awaits it.
        if not await _free_text(turn, command.text):
            turn.say(replies.nothing_to_answer(turn.t))
    elif kind == Kind.START:
        turn.say(replies.help_text(turn.t))
    elif kind == Kind.TEXT and await browse.keyword(turn, command.text):
        pass  # a mission's keyword, read on a poster
    elif not (kind == Kind.TEXT and await _free_text(turn, command.text)):
        turn.say(replies.not_understood(turn.t))


def _stale_tap(turn: SmsTurn, command: Command) -> bool:
    """A number tapped among the quick replies of an older message than our last answer,
    which offered others: the list changed since, and the number now means something else.
    (When our last answer offered none, nothing tells, and the number is taken as typed.)"""
    if turn.tapped is None:
        return False
    last = last_reply(turn.data)
    shown = quick_replies(last.choices) if last is not None else ()
    return bool(shown) and Choice(turn.tapped, command.text) not in shown


async def _free_text(turn: SmsTurn, text: str) -> bool:
    """A note about the last slot, else an answer to an organisation's relayed message."""
    return await feedback.take_note(turn, text) or await relay_sms.pass_on(turn, text)


async def _more(turn: SmsTurn) -> None:
    if turn.state == LIST:
        await browse.next_page(turn)
    elif turn.state == MISSION:
        await browse.more_slots(turn)
    elif turn.state == MINE:
        await mine.next_page(turn)
    else:
        turn.say(replies.nothing_more(turn.t))


async def _number(turn: SmsTurn, number: int) -> None:
    if turn.state == LIST:
        await browse.show_mission(turn, number)
    elif turn.state == MISSION:
        await browse.apply(turn, number)
    elif turn.state == MINE:
        turn.say(replies.cancel_needs_number(turn.t))
    else:
        turn.say(replies.number_without_list(turn.t))
