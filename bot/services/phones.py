"""People reached by SMS: finding them by phone number, their consent (STOP / START), a
number the operator refused, and joining a phone to a Telegram person so that one person
has two channels and one history. A phone number is never shown to anyone else."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sqlalchemy import Row, delete, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.domain import ACTIVE, ApplicationStatus
from bot.messaging import outbox
from bot.services import application_store, audit, mission_store, person_store
from bot.services.applications import set_status
from bot.services.errors import Conflict, InvalidInput, NotFound
from bot.services.people import Person, fetch_person, person_from_row
from storage import schema
from storage.database import Database, Inbound

if TYPE_CHECKING:
    from phonenumbers import PhoneNumber as PhoneNumber_

P = schema.people
HOME_REGION = "FR"
# French overseas departments and communities share the national "0" format of the
# mainland: '0690 12 34 56' is a Guadeloupe mobile (+590), not a mainland one. Each is
# tried in turn when the mainland metadata does not know the number.
OVERSEAS_REGIONS = ("GP", "GF", "MQ", "RE", "YT", "PM", "BL", "MF")
# The kinds of number an SMS can reach, by phonenumbers' PhoneNumberType name.
TEXTABLE = frozenset({"MOBILE", "FIXED_LINE_OR_MOBILE", "PERSONAL_NUMBER", "VOIP"})
_E164 = re.compile(r"^\+[1-9][0-9]{6,14}$")


@dataclass(frozen=True)
class SmsContact:
    """A person as the SMS channel sees them: who, at which number, and whether we may write."""

    person: Person
    phone: str
    stopped: bool
    channel: str | None = None  # the channel the phone last wrote from: whatsapp, else SMS


@dataclass(frozen=True)
class PhoneNumber:
    e164: str
    textable: bool  # a mobile (or alike): a landline cannot receive SMS


# phonenumbers is imported where it is used: its tables are loaded on the first number,
# not at every start of the process.


def _parse(text: str, region: str | None) -> PhoneNumber_ | None:
    import phonenumbers

    try:
        number = phonenumbers.parse(text, region)
    except phonenumbers.NumberParseException:
        return None
    return number if phonenumbers.is_valid_number(number) else None


def _described(number: PhoneNumber_) -> PhoneNumber:
    import phonenumbers
    from phonenumbers import PhoneNumberFormat, PhoneNumberType

    e164 = phonenumbers.format_number(number, PhoneNumberFormat.E164)
    kind = PhoneNumberType.to_string(phonenumbers.number_type(number))
    return PhoneNumber(e164, kind in TEXTABLE)


def parse_phone(text: str) -> PhoneNumber | None:
    """A valid number however written ('06 12 34 56 78', '+33 (0)6…', '0033…', Telegram's
    '33612345678', '0690 12 34 56' for Guadeloupe), or None."""
    text = text.strip()
    if not text or len(text) > 64:
        return None
    found = _parse(text, HOME_REGION)
    if found is not None:
        return _described(found)
    if not text.startswith(("+", "00")):
        overseas = [n for r in OVERSEAS_REGIONS if (n := _parse(text, r)) is not None]
        if overseas:
            described = [_described(n) for n in overseas]
            return next((d for d in described if d.textable), described[0])
    if text.isdigit():  # international without its plus, as Telegram shares contacts
        found = _parse("+" + text, None)
        if found is not None:
            return _described(found)
    return None


def normalise_phone(text: str) -> str | None:
    """`text` as an E.164 number if it is a valid phone number, else None."""
    found = parse_phone(text)
    return None if found is None else found.e164


def inbound_sender(text: str) -> str | None:
    """The sender of an SMS Twilio hands us: already E.164. A number from a range newer
    than our numbering data is still someone who wrote to us, so it is kept as given."""
    import phonenumbers

    found = normalise_phone(text)
    if found is not None:
        return found
    if _E164.match(text):
        try:
            if phonenumbers.is_possible_number(phonenumbers.parse(text, None)):
                return text
        except phonenumbers.NumberParseException:
            return None
    return None


def _contact(row: Row[Any]) -> SmsContact:
    return SmsContact(
        person_from_row(row), row.phone, row.sms_stopped_at is not None, row.phone_channel
    )


async def _row_by_phone(conn: AsyncConnection, phone: str) -> Row[Any] | None:
    return (await conn.execute(select(P).where(P.c.phone == phone))).first()


async def find_by_phone(db: Database, phone: str) -> SmsContact | None:
    async with db.reading("find_by_phone") as conn:
        row = await _row_by_phone(conn, phone)
    return None if row is None else _contact(row)


async def _find_or_create(conn: AsyncConnection, phone: str) -> Row[Any]:
    row = await _row_by_phone(conn, phone)
    if row is not None:
        return row
    await person_store.insert_person(
        conn,
        {
            "first_name": "",
            "phone": phone,
            "interests": [],
            "availability": {},
            "created_at": schema.now(),
            "updated_at": schema.now(),
        },
    )
    created = await _row_by_phone(conn, phone)
    assert created is not None
    return created


async def _with_contact(
    db: Database, name: str, phone: str, inbound: Inbound | None, stopped: bool | None
) -> SmsContact:
    """Find or create the person of `phone` and set their consent, in one transaction."""
    # Two first messages from one number at once: the loser of the insert tries again.
    for attempt in (1, 2):
        try:
            async with db.transaction(name, inbound) as conn:
                row = await _find_or_create(conn, phone)
                if stopped is not None and (row.sms_stopped_at is not None) != stopped:
                    await person_store.change(
                        conn, row.id, {"sms_stopped_at": schema.now() if stopped else None}
                    )
                    await audit.record(
                        conn,
                        name,
                        actor_id=row.id,
                        action="sms.stopped" if stopped else "sms.resumed",
                        subject_type="person",
                        subject_id=row.id,
                    )
                    fresh = await _row_by_phone(conn, phone)
                    assert fresh is not None
                    return _contact(fresh)
                return _contact(row)
        except IntegrityError:
            if attempt == 2:
                raise
    raise AssertionError("unreachable")


async def start_contact(db: Database, phone: str, *, inbound: Inbound | None = None) -> SmsContact:
    """The person behind a number that writes to us, created on its first message."""
    return await _with_contact(db, "start_sms_contact", phone, inbound, stopped=None)


async def opt_out(db: Database, phone: str, *, inbound: Inbound | None = None) -> SmsContact:
    """STOP: no SMS from any feature until START (an unknown number is kept to remember it)."""
    return await _with_contact(db, "sms_opt_out", phone, inbound, stopped=True)


async def opt_in(db: Database, phone: str, *, inbound: Inbound | None = None) -> SmsContact:
    """START: the number accepts our SMS again."""
    return await _with_contact(db, "sms_opt_in", phone, inbound, stopped=False)


async def mark_invalid(db: Database, phone: str, *, code: int | str) -> None:
    """The operator says nothing can reach this number: stop sending to it."""
    # Recorded like a STOP, so a START from that number (proof that it works) lifts it.
    async with db.transaction("mark_phone_invalid") as conn:
        row = await _row_by_phone(conn, phone)
        if row is None or row.sms_stopped_at is not None:
            return
        await person_store.change(conn, row.id, {"sms_stopped_at": schema.now()})
        await audit.record(
            conn,
            "mark_phone_invalid",
            actor_id=None,
            action="sms.invalid",
            subject_type="person",
            subject_id=row.id,
            code=str(code),
        )


async def sms_address(db: Database, person_id: int) -> str | None:
    """The number to text this person at, or None when SMS may not reach them."""
    async with db.reading("sms_address") as conn:
        row = (
            await conn.execute(select(P.c.phone, P.c.sms_stopped_at).where(P.c.id == person_id))
        ).first()
    if row is None or row.phone is None or row.sms_stopped_at is not None:
        return None
    return str(row.phone)


async def link_phone(
    db: Database, person_id: int, phone: str, inbound: Inbound | None = None
) -> Person:
    """Give a Telegram person their phone (Telegram's contact button) so SMS can reach them."""
    # Someone who already wrote from that number by SMS is the same person: their record,
    # applications and history merge into this one.
    number = parse_phone(phone)
    if number is None:
        raise InvalidInput("phone")
    if not number.textable:
        raise InvalidInput("phone_landline")
    e164 = number.e164
    async with db.transaction("link_phone", inbound) as conn:
        await conn.execute(db.lock_for_update(select(P.c.id).where(P.c.id == person_id)))
        me = (await conn.execute(select(P).where(P.c.id == person_id))).first()
        if me is None:
            raise NotFound("person_not_found")
        if me.phone == e164:
            return person_from_row(me)
        await attach_phone(conn, me, e164, shared=True, transaction="link_phone")
        return await fetch_person(conn, person_id)


async def attach_phone(
    conn: AsyncConnection, me: Row[Any], e164: str, *, shared: bool, transaction: str
) -> None:
    """Give the person `me` the number `e164`; the person who wrote from it until now (not
    a Telegram one) merges into them, with their channel and their WhatsApp window."""
    other = await _row_by_phone(conn, e164)
    values: dict[str, Any] = {"phone": e164, "sms_stopped_at": None, "updated_at": schema.now()}
    if shared:
        values["phone_shared"] = True
    if other is not None:
        if other.id == me.id:
            return
        if other.telegram_user_id is not None:
            raise Conflict("phone_taken")
        values["sms_stopped_at"] = other.sms_stopped_at  # a STOP sent by SMS still stands
        values["phone_channel"] = other.phone_channel
        values["whatsapp_seen_at"] = other.whatsapp_seen_at
        await _merge_into(conn, keep=me, gone=other)
    await person_store.change(conn, me.id, values)
    await audit.record(
        conn,
        transaction,
        actor_id=me.id,
        action="phone.linked",
        subject_type="person",
        subject_id=me.id,
        merged_person_id=None if other is None else other.id,
    )


# Every column that points at a person, moved when two records of one person merge; those
# of the applications, missions and outbox tables are moved by the modules owning their writes.
_PERSON_REFERENCES = (
    (schema.application_events, "actor_id"),
    (schema.audit_log, "actor_id"),
)
_MORE_PERSON_REFERENCES = (
    (schema.admin_chats, "linked_by"),
    (schema.members, "person_id"),
    (schema.referents, "person_id"),
)


async def _merge_into(conn: AsyncConnection, *, keep: Row[Any], gone: Row[Any]) -> None:
    """Move everything of `gone` to `keep`, then delete `gone`."""
    a = schema.applications
    active = [str(s) for s in ACTIVE]
    kept_slots = select(a.c.slot_id).where(a.c.person_id == keep.id, a.c.status.in_(active))
    duplicates = (
        await conn.execute(
            select(a.c.id, a.c.status).where(
                a.c.person_id == gone.id, a.c.status.in_(active), a.c.slot_id.in_(kept_slots)
            )
        )
    ).all()
    for duplicate in duplicates:  # one person cannot hold two places in one slot
        await set_status(
            conn,
            duplicate.id,
            duplicate.status,
            ApplicationStatus.CANCELLED,
            actor_id=keep.id,
            reason="merged",
        )
    m, r = schema.members, schema.referents
    await conn.execute(
        delete(m).where(
            m.c.person_id == gone.id,
            m.c.organisation_id.in_(select(m.c.organisation_id).where(m.c.person_id == keep.id)),
        )
    )
    await conn.execute(
        delete(r).where(
            r.c.person_id == gone.id,
            r.c.territory.in_(select(r.c.territory).where(r.c.person_id == keep.id)),
        )
    )
    await application_store.hand_over_person(conn, gone=gone.id, keep=keep.id)
    for table, column in _PERSON_REFERENCES:
        await conn.execute(
            update(table).where(table.c[column] == gone.id).values({column: keep.id})
        )
    await outbox.hand_over_person(conn, gone=gone.id, keep=keep.id)
    await mission_store.hand_over_created(conn, gone=gone.id, keep=keep.id)
    for table, column in _MORE_PERSON_REFERENCES:
        await conn.execute(
            update(table).where(table.c[column] == gone.id).values({column: keep.id})
        )
    await person_store.change(conn, keep.id, _merged_profile(keep, gone))
    await person_store.delete_person(conn, gone.id)


def _merged_profile(keep: Row[Any], gone: Row[Any]) -> dict[str, Any]:
    """The Telegram record's profile wins once registered; the SMS one fills it otherwise."""
    values: dict[str, Any] = {
        "attended_count": keep.attended_count + gone.attended_count,
        "no_show_count": keep.no_show_count + gone.no_show_count,
    }
    if keep.registered_at is None and gone.registered_at is None and keep.latitude is None:
        # Both half-registered: the home told by SMS is not asked again on Telegram.
        for column in ("postcode", "town", "latitude", "longitude"):
            values[column] = getattr(gone, column)
    if keep.registered_at is None and gone.registered_at is not None:
        for column in (
            "locale",
            "postcode",
            "town",
            "latitude",
            "longitude",
            "interests",
            "search_radius_km",
            "registered_at",
        ):
            values[column] = getattr(gone, column)
        if gone.first_name and not keep.first_name:
            values["first_name"] = gone.first_name
    return values
