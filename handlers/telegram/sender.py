"""Notifications through the Bot API: HTML text, the message's choices as inline buttons
backed by the database, and Telegram's errors mapped to what the dispatcher should do about
them."""

from __future__ import annotations

import logging
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup
from telegram.constants import ParseMode
from telegram.error import (
    BadRequest,
    ChatMigrated,
    Forbidden,
    NetworkError,
    RetryAfter,
    TelegramError,
)
from telegram.warnings import PTBDeprecationWarning

from bot.buttons import Button, save_buttons
from bot.i18n import Translator
from bot.messaging.channel import (
    Address,
    Moved,
    Notice,
    Outcome,
    Rejected,
    RetryLater,
    Sent,
    Transient,
    Unreachable,
)
from bot.messaging.message import Message
from bot.messaging.ratelimit import RateLimiter
from bot.runtime import Renfort
from handlers.telegram.limits import fit_html
from handlers.telegram.map_link import with_map
from handlers.telegram.render import render

log = logging.getLogger(__name__)
NAME = "telegram"
# BadRequest descriptions that mean the chat itself is gone, not that the message is wrong.
GONE = ("chat not found", "user not found", "chat_id is empty", "peer_id_invalid")


@dataclass(frozen=True)
class Prepared(Message):
    """A message whose buttons are stored already: `markup` is its keyboard."""

    markup: InlineKeyboardMarkup | None = field(default=None, compare=False)


class TelegramChannel:
    """Sends rendered notifications to Telegram chats under Telegram's limits."""

    def __init__(self, bot: Bot, renfort: Renfort, *, limiter: RateLimiter | None = None) -> None:
        self.bot = bot
        self.renfort = renfort
        self.limiter = limiter or RateLimiter(renfort.settings.telegram_rate)

    def render(self, kind: str, payload: dict[str, Any], t: Translator) -> Message:
        """Telegram HTML with inline buttons, its place's map button last."""
        return with_map(render(kind, payload, t), t)

    async def send(
        self, address: Address, message: Message, notice: Notice | None = None
    ) -> Outcome:
        """Send to one chat; returns the message id as provider id on success. Every kind of
        notification goes in the same form: `notice` changes nothing."""
        if isinstance(message, Prepared):
            markup = message.markup
        else:
            markup = await self._keyboard(message.rows)
        try:
            sent = await self.bot.send_message(
                chat_id=int(address),
                text=fit_html(message.text),
                parse_mode=ParseMode.HTML,
                reply_markup=markup,
            )
        except RetryAfter as error:
            return RetryLater(retry_seconds(error))
        except Forbidden as error:
            return Unreachable(str(error))
        except ChatMigrated as error:
            return Moved(error.new_chat_id)
        except BadRequest as error:  # before NetworkError: BadRequest is one of them
            description = str(error).lower()
            if any(gone in description for gone in GONE):
                return Unreachable(str(error))
            return Rejected(str(error))
        except NetworkError as error:  # includes TimedOut and the server's 5xx answers
            return Transient(f"{type(error).__name__}: {error}")
        except TelegramError as error:
            # Conflict, InvalidToken…: not this message's fault; the retries' back-off
            # leaves the operator time to notice before the row gives up.
            log.warning("Telegram refused a send to chat %s: %r", address, error)
            return Transient(f"{type(error).__name__}: {error}")
        return Sent(str(sent.message_id))

    async def prepare(self, messages: Sequence[Message]) -> list[Message]:
        """Store the buttons of a whole batch in one transaction before its sends: each
        message comes back with its keyboard."""
        wanted = [m.rows for m in messages]
        if not any(wanted):
            return [Prepared(m.text, m.choices, m.place, m.document) for m in messages]
        stored = await save_buttons(
            self.renfort.db, [[b for b in row if b.url is None] for rows in wanted for row in rows]
        )
        ready: list[Message] = []
        start = 0
        for message, rows in zip(messages, wanted, strict=True):
            mine = stored[start : start + len(rows)]
            start += len(rows)
            markup = _markup(rows, mine) if rows else None
            ready.append(
                Prepared(
                    message.text, message.choices, message.place, message.document, markup=markup
                )
            )
        return ready

    async def _keyboard(self, rows: list[list[Button]]) -> InlineKeyboardMarkup | None:
        """Inline keyboard whose callback data are short tokens stored in the database."""
        if not rows:
            return None
        stored = await save_buttons(
            self.renfort.db, [[b for b in row if b.url is None] for row in rows]
        )
        return _markup(rows, stored)


def _markup(rows: list[list[Button]], stored: list[list[tuple[str, str]]]) -> InlineKeyboardMarkup:
    """The keyboard of `rows`, whose callback buttons were stored as `stored` (in order)."""
    tokens = iter(token for row in stored for _label, token in row)
    return InlineKeyboardMarkup(
        [
            [
                InlineKeyboardButton(b.label, url=b.url)
                if b.url
                else InlineKeyboardButton(b.label, callback_data=next(tokens))
                for b in row
            ]
            for row in rows
        ]
    )


def retry_seconds(error: RetryAfter) -> float:
    """RetryAfter's wait in seconds, whichever type this PTB version hands out."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", PTBDeprecationWarning)
        value = error.retry_after
    return value.total_seconds() if isinstance(value, timedelta) else float(value)
