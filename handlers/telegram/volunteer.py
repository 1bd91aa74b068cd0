"""The volunteer's private chat: registration, discovery, applying, their missions."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from telegram import Update
from telegram.ext import BaseHandler

from handlers.telegram.common import RenfortContext, reply

Callback = Callable[[Update, RenfortContext], Awaitable[None]]


async def help_command(update: Update, context: RenfortContext) -> None:
    """Short help with the commands."""
    t = context.turn.t
    await reply(update, context, t._("Commands: /missions, /mymissions, /profile, /lang, /help"))


HANDLERS: list[BaseHandler[Any, RenfortContext, Any]] = []
STATES: dict[str, Callback] = {}
ACTIONS: dict[str, Callback] = {}
