"""The start of a turn reads, in one go, whether the update was handled, the sender's
conversation and the tapped button, then the organisations and territories of those who
have some, on SQLite and PostgreSQL."""

from __future__ import annotations

from bot.buttons import Button, save_buttons
from bot.services import moderation, organisations
from bot.services.turns import TelegramSender, start_turn
from storage.database import Database, Inbound, mark_processed
from tests.factories import commune, volunteer

CAMILLE = 7


async def test_a_turn_starts_with_its_sender_conversation_and_button(db: Database) -> None:
    camille = await volunteer(db, CAMILLE, "Camille")
    sender = TelegramSender(
        user_id=CAMILLE, chat_id=CAMILLE, first_name="Camille", language_code="fr"
    )
    [[(_, token)]] = await save_buttons(db, [[Button("Oui", "callout_yes", {"callout_id": 4})]])

    fresh = await start_turn(
        db,
        channel="telegram",
        external_id="1",
        sender=sender,
        conversation_key="7",
        button_token=None,
    )
    assert not fresh.already_handled and fresh.conversation is None and fresh.payload is None
    assert fresh.person is not None and fresh.person.id == camille.id

    await mark_processed(db, Inbound("telegram", "1", "7").goto("profile_name", step=2))
    tapped = await start_turn(
        db,
        channel="telegram",
        external_id="2",
        sender=sender,
        conversation_key="7",
        button_token=token,
    )
    assert tapped.conversation == ("profile_name", {"step": 2})
    assert tapped.payload is not None
    assert (tapped.payload.action, tapped.payload.data) == ("callout_yes", {"callout_id": 4})

    unknown = await start_turn(
        db,
        channel="telegram",
        external_id="3",
        sender=sender,
        conversation_key="8",
        button_token="x" * 65,
    )
    assert unknown.conversation is None and unknown.payload is None

    repeat = await start_turn(
        db,
        channel="telegram",
        external_id="1",
        sender=sender,
        conversation_key="7",
        button_token=token,
    )
    assert repeat.already_handled and repeat.person is None


async def test_coordinators_and_referents_start_with_their_organisations_and_territories(
    db: Database,
) -> None:
    volunteer_only = await volunteer(db, 30, "Vera")
    nadia = await volunteer(db, 31, "Nadia")
    mairie = await commune(db)
    await organisations.join(db, nadia.id, mairie.invite_code)
    await moderation.add_referent(db, territory="52", person_id=nadia.id)

    def sender(user_id: int) -> TelegramSender:
        return TelegramSender(user_id=user_id, chat_id=user_id, first_name="X", language_code="fr")

    plain = await start_turn(
        db,
        channel="telegram",
        external_id="10",
        sender=sender(30),
        conversation_key="30",
        button_token=None,
    )
    both = await start_turn(
        db,
        channel="telegram",
        external_id="11",
        sender=sender(31),
        conversation_key="31",
        button_token=None,
    )
    assert plain.person is not None and plain.person.id == volunteer_only.id
    assert (plain.memberships, plain.territories) == ((), ())
    assert [o.id for o in both.memberships] == [mairie.id] and both.territories == ("52",)
