"""The start of a turn: everything one inbound update needs to know, read in one read
transaction; a write only when the sender is new or Telegram tells us something new."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from sqlalchemy import bindparam, exists, literal_column, select

from bot.buttons import TOKEN_MAX, Payload
from bot.services import moderation, organisations, people, person_store
from bot.services.organisations import Organisation
from bot.services.people import Person
from storage import schema
from storage.database import Database, PendingWrite

_IN, _CONV, _BUTTONS = schema.inbound_processed, schema.conversations, schema.button_payloads
_THE_CONVERSATION = (_CONV.c.channel == bindparam("channel")) & (
    _CONV.c.chat_key == bindparam("chat_key")
)
_THE_BUTTON = _BUTTONS.c.token == bindparam("token")
_SENDER = (
    select(schema.people.c.id)
    .where(schema.people.c.telegram_user_id == bindparam("telegram_user_id"))
    .scalar_subquery()
)
# Whether the update was handled, the conversation, the tapped button, and whether the
# sender coordinates or refers at all (most do neither: their lists are then not read): one
# statement (each trip to the database costs more than these lookups by key), built once.
_KNOWN = (
    select(literal_column("1"))
    .where(_IN.c.channel == bindparam("channel"), _IN.c.external_id == bindparam("external_id"))
    .scalar_subquery()
    .label("processed"),
    select(_CONV.c.state).where(_THE_CONVERSATION).scalar_subquery().label("state"),
    select(_CONV.c.data).where(_THE_CONVERSATION).scalar_subquery().label("data"),
    select(_BUTTONS.c.action).where(_THE_BUTTON).scalar_subquery().label("action"),
    select(_BUTTONS.c.data).where(_THE_BUTTON).scalar_subquery().label("payload"),
    exists().where(schema.members.c.person_id == _SENDER).label("coordinates"),
    exists().where(schema.referents.c.person_id == _SENDER).label("refers"),
)
_BEGINNING = select(*_KNOWN)
# The same, with the sender's row beside it (all None for a newcomer): one trip less.
_ONE = select(literal_column("1").label("one")).subquery("one")
_BEGINNING_WITH_SENDER = select(schema.people, *_KNOWN).select_from(
    _ONE.outerjoin(schema.people, schema.people.c.telegram_user_id == bindparam("telegram_user_id"))
)


@dataclass(frozen=True)
class TelegramSender:
    """Who sent an update, as Telegram describes them."""

    user_id: int
    chat_id: int | None  # their private chat, when they wrote in it
    first_name: str
    language_code: str | None


@dataclass(frozen=True)
class TurnStart:
    already_handled: bool
    person: Person | None = None
    conversation: tuple[str, dict[str, Any]] | None = None
    payload: Payload | None = None  # the tapped button's action, when a button was tapped
    # The organisations the sender coordinates, as the turn began.
    memberships: tuple[Organisation, ...] = ()
    # The territories the sender is a referent of (their help lists the referent's tools).
    territories: tuple[str, ...] = ()
    # What the sender's row should say and does not yet, for the turn's own write to store.
    sender_changes: PendingWrite | None = None


async def start_turn(
    db: Database,
    *,
    channel: str,
    external_id: str,
    sender: TelegramSender | None,
    conversation_key: str | None,
    button_token: str | None,
) -> TurnStart:
    """Whether the update was handled before, the sender, their conversation state and the
    tapped button."""
    token = button_token if button_token and len(button_token) <= TOKEN_MAX else None
    async with db.reading("start_turn") as conn:
        known = (
            await conn.execute(
                _BEGINNING if sender is None else _BEGINNING_WITH_SENDER,
                {
                    "channel": channel,
                    "external_id": external_id,
                    "chat_key": conversation_key,
                    "token": token,
                    "telegram_user_id": sender.user_id if sender is not None else None,
                },
            )
        ).one()
        if known.processed:
            return TurnStart(already_handled=True)
        row = known if sender is not None and known.id is not None else None
        conversation = None if known.state is None else (known.state, dict(known.data or {}))
        payload = None if known.action is None else Payload(known.action, dict(known.payload or {}))
        memberships = (
            tuple(await organisations.select_memberships(conn, row.id))
            if row is not None and known.coordinates
            else ()
        )
        territories = (
            tuple(await moderation.territories_of(conn, row.id))
            if row is not None and known.refers
            else ()
        )
    person = None
    sender_changes = None
    if sender is not None:
        changes = (
            people.telegram_changes(row, chat_id=sender.chat_id, language_code=sender.language_code)
            if row is not None
            else None
        )
        if row is not None and not changes:
            person = people.person_from_row(row)
        elif row is not None and changes is not None and changes.keys() == {"telegram_language"}:
            # Only the language Telegram reports changed: the turn's own write stores it (or
            # its end, when nothing else is written). A new private chat or a reachable person
            # again is written at once: a message queued in this turn may go there.
            person = replace(
                people.person_from_row(row), telegram_language=changes["telegram_language"]
            )
            sender_changes = person_store.change_later(person.id, changes)
        else:
            person = await people.record_telegram_person(
                db,
                telegram_user_id=sender.user_id,
                chat_id=sender.chat_id,
                first_name=sender.first_name,
                language_code=sender.language_code,
            )
    return TurnStart(
        already_handled=False,
        person=person,
        conversation=conversation,
        payload=payload,
        memberships=memberships,
        territories=territories,
        sender_changes=sender_changes,
    )
