"""What the coordinators' multi-step wizards share (/newmission, /callout): answers kept in
the conversation state with the time of the last step, old buttons recognised, and a draft
left alone for hours dropped instead of swallowing an unrelated message."""

from __future__ import annotations

import functools
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from telegram import Update

from bot.i18n import Translator
from handlers.telegram.common import Callback, RenfortContext, answer_query, reply


def advance(
    context: RenfortContext, state: str | None, *, fresh: bool = False, **changes: Any
) -> dict[str, Any]:
    """Move the wizard to `state` (None ends it), keeping the answers so far unless `fresh`;
    returns the answers, which commit with the turn."""
    kept = {} if fresh else context.turn.data
    data = {**kept, **changes, "at": context.turn.now.isoformat()}
    if state is None:
        context.turn.inbound.goto(None)
    else:
        context.turn.inbound.goto(state, **data)
    context.turn.data = data
    return data


def expiring(
    ttl: timedelta, dropped: Callable[[Translator], str]
) -> Callable[[Callback], Callback]:
    """Guard a step: past `ttl` since the last one, end the wizard with `dropped`'s words."""

    def decorate(step: Callback) -> Callback:
        @functools.wraps(step)
        async def guarded(update: Update, context: RenfortContext) -> None:
            at = context.turn.data.get("at")
            if isinstance(at, str) and context.turn.now - datetime.fromisoformat(at) > ttl:
                advance(context, None)
                await reply(update, context, dropped(context.turn.t))
                return
            await step(update, context)

        return guarded

    return decorate


async def at_step(
    update: Update, context: RenfortContext, states: tuple[str, ...], over: str
) -> bool:
    """Whether a tapped button belongs to the current step; else the tapper reads `over`."""
    if context.turn.state in states:
        return True
    await answer_query(update, over)
    return False
