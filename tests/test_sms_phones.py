"""People reached by SMS: numbers, consent, and one person across Telegram and SMS."""

from __future__ import annotations

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import select

from bot.domain import ApplicationStatus
from bot.geo import lookup_offline
from bot.services import applications, people, phones
from bot.services.errors import Conflict, InvalidInput
from storage import schema
from storage.database import Database, Inbound
from tests.conftest import NOW
from tests.factories import commune, first_slot, polling_station, volunteer

PHONE = "+33612345678"


@pytest.mark.parametrize(
    "written",
    [
        "06 12 34 56 78",
        "0612345678",
        "06.12.34.56.78",
        "06-12-34-56-78",
        "+33 6 12 34 56 78",
        "+33 (0)6 12 34 56 78",
        "0033612345678",
        "33612345678",
        "+33612345678",
    ],
)
def test_french_numbers_become_e164_however_written(written: str) -> None:
    assert phones.normalise_phone(written) == PHONE


@pytest.mark.parametrize("written", ["", "12", "hello", "+33 6 12", "06 12 34 56 7", "+0612345678"])
def test_what_is_no_phone_number_is_refused(written: str) -> None:
    assert phones.normalise_phone(written) is None


@given(st.text(max_size=40))
def test_a_normalised_number_is_always_e164(text: str) -> None:
    phone = phones.normalise_phone(text)
    assert phone is None or re.fullmatch(r"\+[1-9][0-9]{7,14}", phone)


@given(st.from_regex(r"0[67]( ?[0-9]{2}){4}", fullmatch=True))
def test_a_mobile_written_nationally_keeps_its_digits_behind_its_territorys_code(
    written: str,
) -> None:
    digits = written.replace(" ", "")[1:]
    codes = ("33", "590", "594", "596", "262")
    assert phones.normalise_phone(written) in {None, *(f"+{c}{digits}" for c in codes)}


@pytest.mark.parametrize(
    ("written", "e164"),
    [
        ("0690 12 34 56", "+590690123456"),  # Guadeloupe, Saint-Martin, Saint-Barthélemy
        ("0694 12 34 56", "+594694123456"),  # Guyane
        ("0696 12 34 56", "+596696123456"),  # Martinique
        ("0697 12 34 56", "+596697123456"),
        ("0692 12 34 56", "+262692123456"),  # La Réunion
        ("0693 12 34 56", "+262693123456"),
        ("0639 40 12 34", "+262639401234"),  # Mayotte
        ("06 12 34 56 78", "+33612345678"),
        ("07 81 23 45 67", "+33781234567"),
    ],
)
def test_an_overseas_mobile_written_nationally_gets_its_own_code(written: str, e164: str) -> None:
    number = phones.parse_phone(written)
    assert number is not None and (number.e164, number.textable) == (e164, True)


@pytest.mark.parametrize("written", ["07 00 00 00 00", "+33 690 12 34 56", "06" + "1" * 60])
def test_numbers_in_no_allocated_range_are_refused(written: str) -> None:
    assert phones.normalise_phone(written) is None


@pytest.mark.parametrize("written", ["01 45 67 89 12", "0590 87 12 34", "+33 5 56 12 34 56"])
def test_a_landline_is_known_as_one(written: str) -> None:
    number = phones.parse_phone(written)
    assert number is not None and not number.textable


def test_a_sender_from_a_range_newer_than_our_data_is_still_heard() -> None:
    assert phones.inbound_sender("+33690123456") == "+33690123456"
    assert phones.inbound_sender("+33 6 12 34 56 78") == PHONE
    assert phones.inbound_sender("+123") is None and phones.inbound_sender("abc") is None


def test_numbers_of_other_countries_keep_their_code() -> None:
    assert phones.normalise_phone("+1 415 555 2671") == "+14155552671"
    assert phones.normalise_phone("+44 7911 123456") == "+447911123456"


async def test_a_stop_is_remembered_even_from_a_number_we_never_met(db: Database) -> None:
    contact = await phones.opt_out(db, PHONE)
    assert contact.stopped and not contact.person.registered
    assert await phones.sms_address(db, contact.person.id) is None
    back = await phones.opt_in(db, PHONE, inbound=Inbound("sms", "SM1", PHONE))
    assert not back.stopped and back.person.id == contact.person.id
    assert await phones.sms_address(db, contact.person.id) == PHONE


async def test_an_invalid_number_gets_no_more_sms(db: Database) -> None:
    contact = await phones.start_contact(db, PHONE, inbound=Inbound("sms", "SM1", PHONE))
    await phones.mark_invalid(db, PHONE, code=21211)
    assert await phones.sms_address(db, contact.person.id) is None


async def test_a_telegram_volunteer_adds_their_phone_to_be_reached_by_sms(db: Database) -> None:
    camille = await volunteer(db, 101)
    person = await phones.link_phone(db, camille.id, "06 12 34 56 78")
    assert person.has_phone and person.telegram_user_id == 101
    assert await phones.sms_address(db, camille.id) == PHONE


async def test_one_person_two_channels_one_history(db: Database) -> None:
    """Someone who applied by SMS, then shares their number on Telegram, is one person."""
    org = await commune(db)
    slot = await first_slot(db, await polling_station(db, org.id, now=NOW))
    by_sms = await phones.start_contact(db, PHONE, inbound=Inbound("sms", "SM1", PHONE))
    await people.update_profile(
        db,
        by_sms.person.id,
        locale="fr",
        first_name="Camille",
        home=lookup_offline("52100"),
        interests=["citizenship"],
        complete_registration=True,
    )
    applied = await applications.apply(db, person_id=by_sms.person.id, slot_id=slot, now=NOW)
    await phones.opt_out(db, PHONE)
    on_telegram = await people.ensure_telegram_person(
        db, telegram_user_id=202, chat_id=202, first_name="Cam", language_code="fr"
    )

    merged = await phones.link_phone(db, on_telegram.id, PHONE)

    assert merged.id == on_telegram.id and merged.registered and merged.first_name == "Cam"
    assert merged.home is not None and merged.interests == ("citizenship",)
    mine = await applications.applications_of(db, on_telegram.id, now=NOW)
    assert [a.id for a in mine] == [applied.id]
    assert await phones.find_by_phone(db, PHONE) == phones.SmsContact(
        await people.get_person(db, on_telegram.id), PHONE, stopped=True
    )
    async with db.reading("test") as conn:
        left = await conn.scalar(
            select(schema.people.c.id).where(schema.people.c.id == by_sms.person.id)
        )
    assert left is None


async def test_a_home_told_by_sms_before_registering_is_not_lost_when_telegram_joins(
    db: Database,
) -> None:
    by_sms = await phones.start_contact(db, PHONE)
    await people.update_profile(db, by_sms.person.id, home=lookup_offline("52100"))
    other = await phones.start_contact(db, "+33698765432")
    await people.update_profile(db, other.person.id, home=lookup_offline("52000"))
    newcomer = await people.ensure_telegram_person(
        db, telegram_user_id=606, chat_id=606, first_name="Cam", language_code="fr"
    )
    housed = await people.ensure_telegram_person(
        db, telegram_user_id=707, chat_id=707, first_name="Lou", language_code="fr"
    )
    await people.update_profile(db, housed.id, home=lookup_offline("Langres"))

    merged = await phones.link_phone(db, newcomer.id, PHONE)
    assert merged.town == "Saint-Dizier" and merged.first_name == "Cam" and not merged.registered
    kept = await phones.link_phone(db, housed.id, "+33698765432")
    assert kept.town == "Langres"  # the Telegram record's own home stands


async def test_a_slot_held_on_both_records_is_kept_once_after_merging(db: Database) -> None:
    org = await commune(db)
    slot = await first_slot(db, await polling_station(db, org.id, now=NOW, capacity=5))
    telegram = await volunteer(db, 303)
    sms = await phones.start_contact(db, PHONE, inbound=Inbound("sms", "SM1", PHONE))
    await people.update_profile(
        db, sms.person.id, first_name="Camille", locale="fr", complete_registration=True
    )
    await applications.apply(db, person_id=telegram.id, slot_id=slot, now=NOW)
    await applications.apply(db, person_id=sms.person.id, slot_id=slot, now=NOW)

    await phones.link_phone(db, telegram.id, PHONE)

    live = await applications.applications_of(db, telegram.id, now=NOW)
    assert len(live) == 1 and live[0].status == ApplicationStatus.PENDING


async def test_another_telegram_account_cannot_take_a_linked_number(db: Database) -> None:
    first, second = await volunteer(db, 404), await volunteer(db, 505)
    await phones.link_phone(db, first.id, PHONE)
    with pytest.raises(Conflict) as refused:
        await phones.link_phone(db, second.id, PHONE)
    assert refused.value.code == "phone_taken"
    with pytest.raises(InvalidInput):
        await phones.link_phone(db, second.id, "not a number")
    with pytest.raises(InvalidInput) as landline:
        await phones.link_phone(db, second.id, "01 45 67 89 12")
    assert landline.value.code == "phone_landline"
