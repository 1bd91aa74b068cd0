"""The bot on its own, before the handlers: `renfort run` polls Telegram with it first.

Its first getUpdates leaves before the handlers and the services they call are loaded (a
fifth of a second, renfort/app.py): what it brings waits in the updater's queue until the
application built on that updater starts, then every update is handled as usual."""

from __future__ import annotations

from telegram.ext import ExtBot

from bot.config import Settings
from handlers.telegram.transport import AiohttpRequest


def telegram_bot(settings: Settings, polling_request: AiohttpRequest | None = None) -> ExtBot[None]:
    """The bot, pointed at the configured Bot API server; `polling_request` carries its
    getUpdates calls (one connection by default)."""
    token = settings.telegram_bot_token
    if token is None:
        raise ValueError("a bot token is needed (the sandbox provides one)")
    api = settings.telegram_api_url.rstrip("/")
    return ExtBot(
        token,
        base_url=f"{api}/bot",
        base_file_url=f"{api}/file/bot",
        request=AiohttpRequest(),
        get_updates_request=polling_request or AiohttpRequest(pool_size=1),
    )
