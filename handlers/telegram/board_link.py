"""/board: a coordinator's one-use link to the live board in the browser. The link always
goes to the coordinator's private chat: in the admin group, where everyone could open it,
the group only hears that it was sent."""

from __future__ import annotations

import logging

from telegram import LinkPreviewOptions, Update
from telegram.constants import ParseMode
from telegram.error import Forbidden

from bot.i18n import Translator
from bot.runtime import Renfort
from bot.services import board_links
from bot.services.errors import ServiceError
from handlers.telegram.common import RenfortContext, esc, refusal_text, reply
from handlers.telegram.exports import organisations_here

log = logging.getLogger(__name__)
LINK_PATH = "/board/link/{token}"


def board_address(renfort: Renfort, token: str) -> str:
    settings = renfort.settings
    base = settings.public_url or f"http://{settings.http_host}:{settings.http_port}"
    return base.rstrip("/") + LINK_PATH.format(token=token)


def link_text(t: Translator, address: str) -> str:
    return "\n".join(
        [
            "🗺 " + t._("<b>Your board</b>: {address}", address=esc(address)),
            t._(
                "The link works once, within 15 minutes, and opens the board in that browser"
                " for 12 hours. Do not share it: it opens the board as you. Sending /board"
                " again closes your earlier sessions."
            ),
        ]
    )


async def board_command(update: Update, context: RenfortContext) -> None:
    t, turn, renfort = context.turn.t, context.turn, context.renfort
    person = turn.person
    if person is None:
        return
    organisation_id: int | None = None
    if not turn.private:
        here = await organisations_here(update, context)
        if not here:
            return  # organisations_here said why
        organisation_id = here[0].id
        if person.telegram_chat_id is None:
            await reply(
                update,
                context,
                t._(
                    "I can only send the link in a private chat: open one with me, send /start"
                    " there, then /board again."
                ),
            )
            return
    elif not turn.memberships and not turn.territories:
        await reply(update, context, refusal_text(t, ServiceError("not_member")))
        return
    try:
        token = await board_links.issue_link(
            renfort.db,
            person_id=person.id,
            organisation_id=organisation_id,
            now=turn.now,
            inbound=turn.inbound,
        )
    except ServiceError as error:
        await reply(update, context, refusal_text(t, error))
        return
    chat_id = turn.chat_id if turn.private else person.telegram_chat_id
    assert chat_id is not None
    # No preview: Telegram's servers would otherwise fetch the address.
    try:
        await context.bot.send_message(
            chat_id,
            link_text(t, board_address(renfort, token)),
            parse_mode=ParseMode.HTML,
            link_preview_options=LinkPreviewOptions(is_disabled=True),
        )
    except Forbidden:
        log.info("person %s blocked the bot: no board link sent", person.id)
        if not turn.private:
            await reply(
                update,
                context,
                t._("I could not write to you in private: open a chat with me, then /board again."),
            )
        return
    if not turn.private:
        await reply(update, context, t._("I sent you the board's link in a private message."))
