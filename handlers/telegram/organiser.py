"""The organiser: joining an organisation, linking its admin group, deciding on
applications with one tap, creating missions in chat."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from telegram import Update
from telegram.ext import BaseHandler

from handlers.telegram.common import RenfortContext

Callback = Callable[[Update, RenfortContext], Awaitable[None]]


async def group_text(update: Update, context: RenfortContext) -> None:
    """Free text in a group that is not an answer to the bot: stay quiet."""


HANDLERS: list[BaseHandler[Any, RenfortContext, Any]] = []
STATES: dict[str, Callback] = {}
ACTIONS: dict[str, Callback] = {}
