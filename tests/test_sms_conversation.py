"""The SMS conversation as a resident without a smartphone lives it."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest
from sqlalchemy import select

from bot.domain import ApplicationStatus
from bot.i18n import Translator
from bot.runtime import Renfort
from bot.services import applications, organisations, people, phones
from bot.services.errors import Conflict
from handlers.sms import replies
from handlers.sms.conversation import SmsConversations
from storage import schema
from storage.database import Database
from tests.conftest import NOW
from tests.factories import ELECTION_MORNING, commune, polling_station, volunteer
from tests.harness import FakeClock
from tests.sms_steps import Resident, sms_renfort


@pytest.fixture
def renfort(db: Database) -> Renfort:
    """On SQLite and PostgreSQL: conversations and inbound ids live in the database."""
    return sms_renfort(db, FakeClock(NOW))


@pytest.fixture
def resident(renfort: Renfort) -> Resident:
    return Resident(SmsConversations(renfort))


async def staffed_commune(db: Database) -> organisations.Organisation:
    """A commune with a coordinator, so that applications notify someone."""
    org = await commune(db)
    coordinator = await volunteer(db, 77, "Nadia")
    await organisations.join(db, coordinator.id, org.invite_code)
    return org


async def reading_the_station(renfort: Renfort, resident: Resident) -> None:
    """A resident registered in English reads the one polling station of a staffed commune:
    their next "1" applies for its slot."""
    org = await staffed_commune(renfort.db)
    await polling_station(renfort.db, org.id, now=NOW)
    await resident.registers(language="2")
    await resident.says("MISSIONS")
    await resident.says("1")


async def stations_an_hour_apart(
    db: Database, organisation_id: int, count: int, title: str
) -> None:
    """`count` polling stations, the first an hour into election morning and each next an hour
    later, so that a list shows them in the order of their numbers (`title`'s {} field)."""
    for station in range(1, count + 1):
        await polling_station(
            db,
            organisation_id,
            now=NOW,
            title=title.format(station),
            starts_at=ELECTION_MORNING + timedelta(hours=station),
        )


async def outbox(db: Database) -> list[tuple[str, dict[str, object]]]:
    o = schema.outbox
    async with db.reading("test") as conn:
        rows = (await conn.execute(select(o.c.kind, o.c.payload).order_by(o.c.id))).all()
    return [(r.kind, dict(r.payload)) for r in rows]


async def test_a_first_sms_from_anyone_starts_registration_and_offers_english(
    renfort: Renfort, resident: Resident
) -> None:
    welcome = await resident.says("Bonjour, c'est pour aider")
    assert "prénom et votre code postal" in welcome and "Camille 52100" in welcome
    assert "ENGLISH for English" in welcome and "STOP" in welcome
    contact = await phones.find_by_phone(renfort.db, resident.phone)
    assert contact is not None and contact.person.locale == "fr"
    assert not contact.person.first_name  # 'pour aider' is no name


@pytest.mark.parametrize(
    ("first", "answer"),
    [
        ("MISSIONS", "prénom"),
        ("AIDE", "prénom"),
        ("Infos ?", "prénom"),
        ("Hello", "first name"),
        ("HELP", "first name"),
        ("👋", "prénom"),
    ],
)
async def test_any_greeting_or_keyword_from_a_new_number_starts_registration(
    resident: Resident, first: str, answer: str
) -> None:
    welcome = await resident.says(first)
    assert answer in welcome and "Camille 52100" in welcome and "STOP" in welcome


@pytest.mark.parametrize(
    ("first", "name", "town", "locale"),
    [
        ("Camille 52100", "Camille", "Saint-Dizier", "fr"),
        ("Je suis Camille, 52100", "Camille", "Saint-Dizier", "fr"),
        ("Bonjour ! Je m’appelle Zoé, 52 100", "Zoé", "Saint-Dizier", "fr"),
        ("hi I'm Sam 69001", "Sam", "Lyon", "en"),
        ("Hello, my name is JEAN-PIERRE, 69001", "Jean-Pierre", "Lyon", "en"),
        # The town after the postcode, as on an envelope, is no part of the name.
        ("Camille, 52100 Saint-Dizier", "Camille", "Saint-Dizier", "fr"),
        ("camille,52100", "Camille", "Saint-Dizier", "fr"),  # no space after the comma
    ],
)
async def test_a_first_sms_with_a_name_and_a_postcode_registers_at_once(
    renfort: Renfort, resident: Resident, first: str, name: str, town: str, locale: str
) -> None:
    done = await resident.says(first)
    assert town in done and "MISSIONS" in done and ("INTERETS" in done or "INTERESTS" in done)

    contact = await phones.find_by_phone(renfort.db, resident.phone)
    assert contact is not None and contact.person.registered
    assert contact.person.locale == locale and contact.person.first_name == name
    assert contact.person.town == town
    # Not asked yet: every domain, so a crisis callout of any kind reaches them.
    assert set(contact.person.interests) == set(replies.DOMAIN_ORDER)


async def test_a_greeting_first_then_name_and_postcode_in_one_answer(
    renfort: Renfort, resident: Resident
) -> None:
    welcome = await resident.says("Hello")
    assert "first name and postcode" in welcome and "FRANCAIS" in welcome
    done = await resident.says("camille 52 100")
    assert "Camille" in done and "Saint-Dizier" in done and "INTERESTS" in done
    contact = await phones.find_by_phone(renfort.db, resident.phone)
    assert contact is not None and contact.person.registered
    assert contact.person.locale == "en" and contact.person.first_name == "Camille"


async def test_the_name_and_the_postcode_may_come_apart_in_either_order(
    renfort: Renfort, resident: Resident
) -> None:
    await resident.says("Hello")
    assert "postcode" in (await resident.says("Camille"))
    assert "registered near Saint-Dizier" in (await resident.says("Saint-Dizier"))

    other = Resident(resident.conversations, phone="+33698765432")
    assert "first name" in (await other.says("Hi, 52100"))
    assert "Thank you Lou" in (await other.says("Lou"))


@pytest.mark.parametrize(("greeting", "answer"), [("Hello", "no"), ("Bonjour", "non")])
async def test_a_yes_or_no_during_registration_is_no_first_name(
    renfort: Renfort, resident: Resident, greeting: str, answer: str
) -> None:
    await resident.says(greeting)
    assert "Camille 52100" in (await resident.says(answer))
    other = Resident(resident.conversations, phone="+33698765432")
    await other.says(f"{greeting}, 52100")
    assert "Camille" in (await other.says(answer))  # its example: a first name, in letters
    for phone in (resident.phone, other.phone):
        contact = await phones.find_by_phone(renfort.db, phone)
        assert contact is not None and not contact.person.first_name


@pytest.mark.parametrize("word", ["ENGLISH", "english", "Anglais"])
async def test_english_switches_during_registration_and_after(
    renfort: Renfort, resident: Resident, word: str
) -> None:
    assert "prénom" in (await resident.says("Bonjour"))
    assert "first name and postcode" in (await resident.says(word))
    assert "registered" in (await resident.says("Camille 52100"))
    assert "Langue : francais" in (await resident.says("FRANÇAIS")).replace("ç", "c")
    assert "Language: English" in (await resident.says(word))
    contact = await phones.find_by_phone(renfort.db, resident.phone)
    assert contact is not None and contact.person.locale == "en"


async def test_a_number_that_is_no_language_asks_the_language_again(
    renfort: Renfort, resident: Resident
) -> None:
    await resident.registers(language="1")
    question = await resident.says("LANGUE")
    assert await resident.says("3") == question
    assert "Language: English" in (await resident.says("2"))


@pytest.mark.parametrize("answer", ["👍", "ok", "non", "Yes!"])
async def test_any_yes_or_no_that_answers_nothing_is_told_so(
    renfort: Renfort, resident: Resident, answer: str
) -> None:
    await resident.registers(language="2")
    assert await resident.says(answer) == replies.nothing_to_answer(Translator("en"))


async def test_a_keyword_after_forget_leaves_the_question_and_erases_nothing(
    renfort: Renfort, resident: Resident
) -> None:
    """Someone who asked to be forgotten, then writes MISSIONS, changed their mind: they get
    the missions, and a later YES no longer erases them."""
    await reading_the_station(renfort, resident)
    assert "YES" in (await resident.says("FORGET"))
    assert "YES" in (await resident.says("maybe later"))  # words: the question stands
    assert "1.1" in (await resident.says("MISSIONS"))
    assert "erased" not in (await resident.says("YES"))
    assert await phones.find_by_phone(renfort.db, resident.phone) is not None


async def test_english_as_the_first_message_answers_in_english(resident: Resident) -> None:
    assert "first name and postcode" in (await resident.says("ENGLISH"))


@pytest.mark.parametrize("language", ["1", "1.", "un", "FR", "français", "Francais "])
async def test_an_answer_to_the_old_language_question_is_still_understood(
    renfort: Renfort, resident: Resident, language: str
) -> None:
    # Someone who texted before registration got shorter was asked '1 Francais / 2 English'.
    await phones.start_contact(renfort.db, resident.phone)
    assert "prénom" in (await resident.says(language))
    contact = await phones.find_by_phone(renfort.db, resident.phone)
    assert contact is not None and contact.person.locale == "fr"


async def test_a_registration_begun_before_interests_were_left_for_later_finishes(
    renfort: Renfort, resident: Resident
) -> None:
    contact = await phones.start_contact(renfort.db, resident.phone)
    place = await renfort.geocoder.resolve("52100")
    await people.update_profile(
        renfort.db, contact.person.id, locale="en", first_name="Camille", home=place
    )
    assert "registered near Saint-Dizier" in (await resident.says("1 3"))
    done = await phones.find_by_phone(renfort.db, resident.phone)
    assert done is not None and done.person.registered
    assert done.person.interests == ("citizenship", "health")


async def test_a_wrong_answer_gets_the_question_again_not_an_error(resident: Resident) -> None:
    await resident.says("Hello")
    assert "first name and postcode" in (await resident.says("1234"))
    assert "postcode" in (await resident.says("Camille 99999"))
    assert "postcode" in (await resident.says("Atlantis"))
    assert "postcode" in (await resident.says("x" * 1600))
    assert "registered" in (await resident.says("Saint-Dizier"))


async def test_missions_cannot_wait_for_the_end_of_registration(resident: Resident) -> None:
    await resident.says("Hello")
    answer = await resident.says("MISSIONS")
    assert "finish registering" in answer and "first name and postcode" in answer
    assert "finish registering" in (await resident.says("INTERESTS"))


async def test_help_works_at_any_point_and_says_how_to_stop(resident: Resident) -> None:
    await resident.says("Hello")
    assert "STOP" in (await resident.says("HELP"))
    assert "Camille" in (await resident.says("Camille"))  # registration goes on


async def test_interests_are_chosen_later_and_narrow_the_list(
    renfort: Renfort, resident: Resident
) -> None:
    org = await commune(renfort.db)
    await polling_station(renfort.db, org.id, now=NOW)
    await resident.registers(language="2")
    question = await resident.says("INTERESTS")
    assert "1 Elections" in question and "0 All" in question
    assert "numbers" in (await resident.says("rien"))
    chosen = await resident.says("1 3")
    assert "Elections, Health" in chosen and "MISSIONS" in chosen
    contact = await phones.find_by_phone(renfort.db, resident.phone)
    assert contact is not None and contact.person.interests == ("citizenship", "health")
    assert "1.1 Assesseur" in (await resident.says("MISSIONS"))


async def test_a_resident_finds_a_mission_and_applies_by_numbers(
    renfort: Renfort, resident: Resident
) -> None:
    org = await staffed_commune(renfort.db)
    await polling_station(renfort.db, org.id, now=NOW)
    await resident.registers(language="2")

    listing = await resident.says("missions")
    assert "1.1 Assesseur - bureau de vote no3 - Sun 13 Jun 8am - 100 m" in listing
    detail = await resident.says("1")
    assert "Mairie de Saint-Dizier" in detail and "1 Sun 13 Jun 8am-1pm" in detail
    applied = await resident.says("1")
    assert "Applied" in applied and "Sun 13 Jun 8am-1pm" in applied

    contact = await phones.find_by_phone(renfort.db, resident.phone)
    assert contact is not None
    mine = await applications.applications_of(renfort.db, contact.person.id, now=NOW)
    assert [a.status for a in mine] == [ApplicationStatus.PENDING]
    kind, payload = (await outbox(renfort.db))[-1]
    assert kind == "application_submitted" and payload["volunteer_via_sms"] is True
    assert payload["volunteer_name"] == "Camille" and "+33" not in str(payload)


async def test_french_dates_read_naturally(renfort: Renfort, resident: Resident) -> None:
    org = await commune(renfort.db)
    await polling_station(renfort.db, org.id, now=NOW)
    await resident.registers(language="1")
    assert "dim. 13 juin 8h" in (await resident.says("MISSIONS"))
    assert "dim. 13 juin 8h-13h" in (await resident.says("1"))


async def test_long_lists_come_in_pages_and_numbers_keep_their_meaning(
    renfort: Renfort, resident: Resident
) -> None:
    org = await commune(renfort.db)
    await stations_an_hour_apart(renfort.db, org.id, 7, "Assesseur bureau {}")
    await resident.registers(language="2")

    first = await resident.says("MISSIONS")
    assert "MORE" in first and "1.1 Assesseur bureau 1" in first
    shown = first.count("Assesseur")
    second = await resident.says("more")
    assert f"{shown + 1}.1 Assesseur bureau {shown + 1}" in second
    detail = await resident.says(str(shown + 1))
    assert f"Assesseur bureau {shown + 1}" in detail


async def test_a_resident_reads_three_pages_each_after_the_last(
    renfort: Renfort, resident: Resident
) -> None:
    org = await commune(renfort.db)
    await stations_an_hour_apart(renfort.db, org.id, 15, "Bureau {:02d}")
    await resident.registers(language="1")

    pages = [await resident.says(word) for word in ("MISSIONS", "SUITE", "suite")]
    listed = [
        line.split(" ")[:3] for page in pages for line in page.splitlines() if "Bureau" in line
    ]
    # Numbered on from page to page, soonest first, none shown twice or skipped.
    assert [(number.split(".")[0], title) for number, _, title in listed] == [
        (str(k), f"{k:02d}") for k in range(1, len(listed) + 1)
    ]
    assert len(listed) >= 3 * 2 and all("SUITE" in page for page in pages)
    assert "Bureau 02" in (await resident.says("2"))  # a number from the first page


async def test_a_resident_sees_and_cancels_their_mission_after_confirming(
    renfort: Renfort, resident: Resident
) -> None:
    await reading_the_station(renfort, resident)
    await resident.says("1")

    mine = await resident.says("MES MISSIONS")
    assert "1 Sun 13 Jun 8am-1pm Assesseur" in mine and "(pending)" in mine
    question = await resident.says("annuler 1")
    assert "Cancel your place" in question and "YES" in question
    assert "you keep your place" in (await resident.says("non"))
    await resident.says("CANCEL 1")
    assert "Cancelled" in (await resident.says("oui"))

    contact = await phones.find_by_phone(renfort.db, resident.phone)
    assert contact is not None
    assert await applications.applications_of(renfort.db, contact.person.id, now=NOW) == []
    assert [k for k, _ in await outbox(renfort.db)][-1] == "application_cancelled"


async def test_cancelling_a_place_already_let_go_is_refused_without_asking(
    renfort: Renfort, resident: Resident
) -> None:
    org = await staffed_commune(renfort.db)
    await polling_station(renfort.db, org.id, now=NOW)
    await resident.registers(language="2")
    await resident.says("MISSIONS")
    await resident.says("1")
    await resident.says("1")
    await resident.says("MY MISSIONS")
    await resident.says("CANCEL 1")
    assert "Cancelled" in (await resident.says("YES"))

    # 1 still means the mission the list showed, now let go: told at once, no YES/NO.
    again = await resident.says("CANCEL 1")
    assert again == replies.refusal(Translator("en"), Conflict("not_active"))
    assert "you keep your place" not in (await resident.says("NO"))


async def test_cancel_alone_stops_sms_but_annuler_alone_asks_for_the_number(
    renfort: Renfort, resident: Resident
) -> None:
    await resident.registers(language="2")
    assert "CANCEL 1" in (await resident.says("ANNULER"))
    assert "no more messages" in (await resident.says("CANCEL"))
    contact = await phones.find_by_phone(renfort.db, resident.phone)
    assert contact is not None and contact.stopped


async def test_stop_silences_everything_until_start(renfort: Renfort, resident: Resident) -> None:
    await resident.registers(language="2")
    assert "START" in (await resident.says("Stop"))
    assert await resident.says("MISSIONS") == ""
    assert await resident.says("HELP") == ""
    assert await resident.says("STOP") == ""
    assert "Welcome back" in (await resident.says("START"))
    assert "Missions" in (await resident.says("MISSIONS")) or "No open mission" in resident.read[-1]


@pytest.mark.parametrize("word", ["ARRET", "Arrêt", "stopall", "UNSUBSCRIBE", "end", "quit"])
@pytest.mark.parametrize("back", ["START", "unstop", "YES", "oui", "OUI"])
async def test_every_carrier_keyword_stops_and_restarts(
    renfort: Renfort, resident: Resident, word: str, back: str
) -> None:
    await resident.registers()
    await resident.says(word)
    assert (await phones.find_by_phone(renfort.db, resident.phone)).stopped  # type: ignore[union-attr]
    await resident.says(back)
    assert not (await phones.find_by_phone(renfort.db, resident.phone)).stopped  # type: ignore[union-attr]


async def test_a_stop_before_anything_else_is_honoured(
    renfort: Renfort, resident: Resident
) -> None:
    assert "START" in (await resident.says("STOP"))
    assert await resident.says("Bonjour") == ""
    assert "Camille 52100" in (await resident.says("START"))


async def test_the_language_can_change_at_any_time(renfort: Renfort, resident: Resident) -> None:
    await resident.registers(language="1")
    assert "English" in (await resident.says("LANGUE"))
    assert "Language: English" in (await resident.says("2"))
    assert "Language: English" in (await resident.says("lang en"))
    contact = await phones.find_by_phone(renfort.db, resident.phone)
    assert contact is not None and contact.person.locale == "en"


async def test_a_retried_sms_is_handled_once_and_answered_the_same(
    renfort: Renfort, resident: Resident
) -> None:
    await reading_the_station(renfort, resident)
    first = await resident.says("1", sid="SMretried")
    again = await resident.says("1", sid="SMretried")
    assert again == first and "Applied" in first
    submitted = [k for k, _ in await outbox(renfort.db) if k == "application_submitted"]
    assert len(submitted) == 1


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", "empty"),
        ("   ", "empty"),
        ("🙂", "did not understand"),
        ("BANANE", "did not understand"),
        ("x" * 1600, "did not understand"),
        ("5", "MISSIONS"),
        ("suite", "That is all"),
    ],
)
async def test_odd_messages_get_a_clear_answer(
    resident: Resident, text: str, expected: str
) -> None:
    await resident.registers(language="2")
    assert expected in (await resident.says(text))


async def test_a_number_outside_the_list_is_explained(renfort: Renfort, resident: Resident) -> None:
    org = await commune(renfort.db)
    await polling_station(renfort.db, org.id, now=NOW)
    await resident.registers(language="2")
    await resident.says("MISSIONS")
    assert "Reply 1" in (await resident.says("7"))


async def test_a_full_slot_puts_the_resident_on_the_waiting_list(
    renfort: Renfort, resident: Resident
) -> None:
    org = await commune(renfort.db)
    mission = await polling_station(renfort.db, org.id, now=NOW, capacity=1)
    other = await people.ensure_telegram_person(
        renfort.db, telegram_user_id=9, chat_id=9, first_name="Lou", language_code="fr"
    )
    await people.update_profile(renfort.db, other.id, complete_registration=True)
    await resident.registers(language="2")
    await resident.says("MISSIONS")
    detail_first = await resident.says("1")
    assert "1 Sun 13 Jun 8am-1pm" in detail_first
    slot_id = (await _slots(renfort.db, mission))[0]
    await applications.apply(renfort.db, person_id=other.id, slot_id=slot_id, now=NOW)
    assert "number 1 on the waiting list" in (await resident.says("1"))


async def _slots(db: Database, mission_id: int) -> list[int]:
    s = schema.slots
    async with db.reading("test") as conn:
        return list((await conn.scalars(select(s.c.id).where(s.c.mission_id == mission_id))).all())


async def test_applying_twice_for_a_slot_is_explained_not_repeated(
    renfort: Renfort, resident: Resident
) -> None:
    await reading_the_station(renfort, resident)
    await resident.says("1")
    assert "already applied" in (await resident.says("1"))


async def test_a_telegram_volunteer_who_added_their_phone_finds_their_missions_by_sms(
    renfort: Renfort, resident: Resident
) -> None:
    org = await staffed_commune(renfort.db)
    mission = await polling_station(renfort.db, org.id, now=NOW)
    camille = await volunteer(renfort.db, 55, "Camille")
    await people.update_profile(renfort.db, camille.id, locale="en")
    slot_id = (await _slots(renfort.db, mission))[0]
    await applications.apply(renfort.db, person_id=camille.id, slot_id=slot_id, now=NOW)
    await phones.link_phone(renfort.db, camille.id, "06 12 34 56 78")

    mine = await resident.says("MY MISSIONS")
    assert "1 Sun 13 Jun 8am-1pm Assesseur" in mine


async def test_one_sms_delivered_to_two_workers_at_once_applies_once(
    renfort: Renfort, resident: Resident
) -> None:
    await reading_the_station(renfort, resident)
    workers = [SmsConversations(renfort), SmsConversations(renfort)]

    answers = await asyncio.gather(
        *(worker.handle(resident.phone, "1", "SMtwice") for worker in workers)
    )

    assert any(a and "Applied" in a for a in answers)
    assert all(a is None or "Applied" in a for a in answers)
    submitted = [k for k, _ in await outbox(renfort.db) if k == "application_submitted"]
    assert len(submitted) == 1
