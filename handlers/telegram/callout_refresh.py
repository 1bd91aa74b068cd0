"""Keeps every callout's status message up to date without flooding its group.

Answers may come by the dozen in a minute while Telegram allows 20 messages a minute per
group, edits included. So nothing is edited per answer: every few seconds this task asks
the database which callouts changed since their message was drawn, and redraws each at
most once per MIN_GAP_SECONDS, taking its turn in the same per-chat limiter as the
outbox so that the board and the notifications share the group's budget. What is drawn
is recorded in the database, so a restart simply redraws what changed meanwhile."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable

from telegram import Bot
from telegram.constants import ParseMode
from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter, TelegramError

from bot.messaging.ratelimit import RateLimiter
from bot.runtime import Renfort
from bot.services import callouts
from bot.services.callouts import CalloutView
from handlers.telegram.callout_board import drawn_at, status_buttons, status_text, words_for
from handlers.telegram.common import keyboard
from handlers.telegram.sender import retry_seconds

log = logging.getLogger(__name__)

EVERY_SECONDS = 2.0
MIN_GAP_SECONDS = 5.0
PER_ROUND = 20
EDITED, UNCHANGED, RETRY = "edited", "unchanged", "retry"


class CalloutRefresher:
    """The background task that redraws changed status messages."""

    def __init__(
        self,
        renfort: Renfort,
        bot: Bot,
        limiter: RateLimiter,
        *,
        every: float = EVERY_SECONDS,
        min_gap: float = MIN_GAP_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.renfort = renfort
        self.bot = bot
        self.limiter = limiter
        self.every = every
        self.min_gap = min_gap
        self._clock = clock
        self._drawn_at: dict[int, float] = {}  # callout id -> last edit, on `clock`
        self._shown: dict[int, str] = {}  # callout id -> what its message shows
        self._stopping = asyncio.Event()

    async def run(self) -> None:
        """Redraw until stopped; a failed round is logged and the next one tries again."""
        while not self._stopping.is_set():
            try:
                await self.refresh()
            except Exception:
                log.exception("the callout board failed a round")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stopping.wait(), self.every)

    def stop(self) -> None:
        self._stopping.set()

    async def refresh(self) -> int:
        """One round: redraw the changed status messages whose turn it is; returns edits."""
        db = self.renfort.db
        edited = 0
        now = self._clock()
        recent = [i for i, last in self._drawn_at.items() if now - last < self.min_gap]
        for view in await callouts.changed_since_render(db, limit=PER_ROUND, skip=recent):
            drawn = drawn_at(self.renfort.now())
            if view.status_chat_id is None or view.status_message_id is None:
                await callouts.mark_rendered(db, view.id, drawn)
                continue
            if self.limiter.chat_delay(view.status_chat_id) > 0:
                continue  # the group's budget is spent for now: next round
            done = await self._edit(view)
            if done == RETRY:
                continue
            if done == EDITED:
                edited += 1
                self._drawn_at[view.id] = self._clock()
            await callouts.mark_rendered(db, view.id, drawn)
        return edited

    async def _edit(self, view: CalloutView) -> str:
        """Edit one status message: EDITED, UNCHANGED, or RETRY later."""
        chat_id, message_id = view.status_chat_id, view.status_message_id
        assert chat_id is not None and message_id is not None
        t = await words_for(self.renfort, chat_id)
        text, buttons = status_text(t, view), status_buttons(t, view)
        # A change that does not show (the drawing margin, a wave held till morning) costs
        # no request: the group's budget is for what people can see.
        shown = (
            f"{message_id}\n{text}\n{[[(b.label, b.action, b.data) for b in r] for r in buttons]}"
        )
        if self._shown.get(view.id) == shown:
            return UNCHANGED
        markup = await keyboard(self.renfort, buttons)
        if await self.limiter.admit(chat_id) > 0:  # another worker wrote to the group
            return RETRY
        ticket = self.limiter.consume(chat_id)
        try:
            await self.bot.edit_message_text(
                text,
                chat_id=chat_id,
                message_id=message_id,
                reply_markup=markup,
                parse_mode=ParseMode.HTML,
            )
        except RetryAfter as error:
            self.limiter.block(chat_id, retry_seconds(error))
            log.info("callout %s: Telegram asked to wait before editing", view.id)
            return RETRY
        except BadRequest as error:
            if "not modified" not in str(error).lower():
                # Deleted or too old: trying again would not help; the counts stay in the
                # database.
                log.info("callout %s: its status message cannot be edited: %s", view.id, error)
            return EDITED
        except Forbidden as error:
            log.info("callout %s: the bot left chat %s: %s", view.id, chat_id, error)
            return EDITED
        except NetworkError as error:
            log.info("callout %s: editing failed, trying again: %s", view.id, error)
            return RETRY
        except TelegramError as error:
            log.warning("callout %s: Telegram refused the edit: %r", view.id, error)
            return RETRY
        finally:
            ticket.finish()
        self._shown[view.id] = shown
        return EDITED
