"""Registering, whatever the channel: the step is what the person record still lacks, a place
we do not know is said to be unknown, finishing gives the default radius and, when none was
chosen, every domain; a registration begun on one channel goes on at the right step on the
other."""

from __future__ import annotations

from pathlib import Path

from bot.conversation import registering
from bot.conversation.registering import Step, UnknownPlace
from bot.domain import DEFAULT_RADIUS_KM, DOMAINS
from bot.geo import Geocoder, Place
from bot.services import people, phones
from handlers.sms.conversation import SmsConversations
from storage.database import Database
from tests.conftest import NOW
from tests.harness import FakeClock
from tests.sms_steps import Resident, sms_renfort
from tests.test_volunteer_support import Chat, database_url, register, volunteer_bot

PHONE = "+33612345678"


class Asked(Geocoder):
    """The offline geocoder, remembering what it was asked."""

    def __init__(self) -> None:
        super().__init__(None)
        self.queries: list[str] = []

    async def resolve(self, query: str) -> Place | None:
        self.queries.append(query)
        return await super().resolve(query)


async def saint_dizier() -> Place:
    found = await registering.resolve_home(Geocoder(None), "52100")
    assert isinstance(found, Place)
    return found


async def test_the_step_is_what_the_record_still_lacks(db: Database) -> None:
    nobody = (await phones.start_contact(db, PHONE)).person
    home = await saint_dizier()
    assert registering.step(nobody) == Step.NAME_AND_HOME
    assert registering.step(nobody, first_name="Camille") == Step.HOME
    assert registering.step(nobody, home=home) == Step.NAME
    assert registering.step(nobody, first_name="Camille", home=home) == Step.FINISH

    housed = await registering.save(db, nobody.id, home=home, inbound=None)
    assert registering.step(housed) == Step.NAME and not housed.registered
    named = await registering.save(db, nobody.id, first_name="Camille", inbound=None)
    assert registering.step(named) == Step.FINISH and not named.registered
    assert named.town == "Saint-Dizier"  # kept from the first answer

    # Telegram gives a first name: a newcomer there lacks only a home.
    on_telegram = await people.ensure_telegram_person(
        db, telegram_user_id=1, chat_id=1, first_name="Sam", language_code="en"
    )
    assert registering.step(on_telegram) == Step.HOME


async def test_a_place_we_do_not_know_is_unknown_and_a_sentence_is_not_even_looked_up() -> None:
    geocoder = Asked()
    assert await registering.resolve_home(geocoder, " Saint-Dizier ") == await saint_dizier()
    assert await registering.resolve_home(geocoder, "99999") == UnknownPlace("99999")
    sentence = "I live near the river, in the little town where the market is on Sundays"
    assert await registering.resolve_home(geocoder, sentence) == UnknownPlace(sentence)
    assert await registering.resolve_home(geocoder, "  ") == UnknownPlace("")
    assert geocoder.queries == ["Saint-Dizier", "99999"]


async def test_a_postcode_written_with_a_space_is_a_postcode() -> None:
    geocoder = Asked()
    assert await registering.resolve_home(geocoder, "52 100") == await saint_dizier()
    assert geocoder.queries == ["52100"]


async def test_a_full_address_typed_for_a_home_finds_the_commune_of_its_postcode() -> None:
    geocoder = Asked()
    address = "Appartement 12, 47 avenue de la Republique, 52100 Saint-Dizier, France"
    assert await registering.resolve_home(geocoder, address) == await saint_dizier()
    assert geocoder.queries == ["52100"]


async def test_finishing_gives_the_default_radius_and_every_domain_when_none_was_chosen(
    db: Database,
) -> None:
    nobody = (await phones.start_contact(db, PHONE)).person
    done = await registering.finish(
        db, nobody, first_name="Camille", home=await saint_dizier(), locale="fr", inbound=None
    )
    assert done.registered and done.first_name == "Camille" and done.locale == "fr"
    assert done.search_radius_km == DEFAULT_RADIUS_KM
    # A callout reaches only people interested in its domain: a crisis of any kind must.
    assert set(done.interests) == set(DOMAINS)


async def test_finishing_keeps_what_was_chosen_and_takes_interests_chosen_last(
    db: Database,
) -> None:
    first = await people.ensure_telegram_person(
        db, telegram_user_id=1, chat_id=1, first_name="Sam", language_code="en"
    )
    chose = await people.update_profile(
        db, first.id, home=await saint_dizier(), interests=["health"], search_radius_km=10
    )
    done = await registering.finish(db, chose, inbound=None)
    assert done.registered and done.interests == ("health",) and done.search_radius_km == 10

    second = (await phones.start_contact(db, "+33698765432")).person
    second = await registering.save(
        db, second.id, first_name="Lou", home=await saint_dizier(), inbound=None
    )
    done = await registering.finish(db, second, interests=["sport", "culture"], inbound=None)
    assert done.interests == ("culture", "sport")


async def test_nothing_chosen_means_every_domain_on_telegram_as_by_sms(tmp_path: Path) -> None:
    clock = FakeClock(NOW)
    async with volunteer_bot(database_url(tmp_path), clock) as bot:
        chat = Chat(bot, 1, "Camille", "en")
        await register(chat)  # Done tapped with nothing ticked
        assert "Interests: everything" in chat.last.text
        resident = Resident(SmsConversations(sms_renfort(bot.db, clock)), PHONE)
        await resident.registers(name="Lou")
        contact = await phones.find_by_phone(bot.db, PHONE)
        assert contact is not None and contact.person.registered
        on_telegram = await chat.person()
        assert set(on_telegram.interests) == set(contact.person.interests) == set(DOMAINS)


async def test_a_registration_begun_on_telegram_ends_by_sms_with_the_home(tmp_path: Path) -> None:
    clock = FakeClock(NOW)
    async with volunteer_bot(database_url(tmp_path), clock) as bot:
        chat = Chat(bot, 2, "Sam", "en")
        await chat.say("/start")
        assert "Where do you live?" in (await chat.say("Samira"))[-1].text
        await chat.bot.settle(bot.double.share_contact(2, PHONE))

        resident = Resident(SmsConversations(sms_renfort(bot.db, clock)), PHONE)
        done = await resident.says("52100")  # the name was given on Telegram
        assert "Samira" in done and "Saint-Dizier" in done
        person = await chat.person()
        assert person.registered and person.search_radius_km == DEFAULT_RADIUS_KM
        assert set(person.interests) == set(DOMAINS)
        [back] = await chat.say("/start")  # no step left to take on Telegram
        assert "Samira" in back.text and "/missions" in back.text and not back.buttons


async def test_a_registration_begun_by_sms_goes_on_in_telegram_without_asking_the_home_again(
    tmp_path: Path,
) -> None:
    clock = FakeClock(NOW)
    async with volunteer_bot(database_url(tmp_path), clock) as bot:
        resident = Resident(SmsConversations(sms_renfort(bot.db, clock)), PHONE)
        assert "first name" in (await resident.says("Hi, 52100"))

        chat = Chat(bot, 3, "Camille", "en")
        asked = (await chat.say("/start"))[-1]
        await chat.bot.settle(bot.double.share_contact(3, PHONE))  # the SMS record joins
        assert (await chat.person()).town == "Saint-Dizier"

        kept = await chat.tap(asked, "Keep «Camille»")
        assert "Nice to meet you, Camille" in asked.text
        [keyboard] = kept  # the interests, not where they live
        assert "What do you like to do?" in keyboard.text
        await chat.tap(keyboard, "Done")
        assert "registered" in keyboard.text and "Saint-Dizier" in keyboard.text
        assert (await chat.person()).registered
