"""The start of a turn reads, in one go, whether the update was handled, the sender's
conversation and the tapped button, on SQLite and PostgreSQL."""

from __future__ import annotations

from bot.buttons import Button, save_buttons
from bot.services.turns import TelegramSender, start_turn
from storage.database import Database, Inbound, mark_processed
from tests.factories import volunteer

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
