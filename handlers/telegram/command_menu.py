"""The command menu Telegram shows beside the text field (setMyCommands), registered at
start in each supported language: volunteers' commands in private chats, coordinators'
in the groups they administer."""

from __future__ import annotations

import logging

from telegram import Bot, BotCommand, BotCommandScope, BotCommandScopeAllChatAdministrators
from telegram import BotCommandScopeAllPrivateChats as PrivateChats
from telegram.error import TelegramError

from bot.config import SUPPORTED_LOCALES
from bot.i18n import N_, Translator

log = logging.getLogger(__name__)

PRIVATE_COMMANDS: tuple[tuple[str, str], ...] = (
    ("missions", N_("Missions near you")),
    ("mymissions", N_("Your missions and applications")),
    ("profile", N_("Your profile")),
    ("calendar", N_("Your missions in your calendar")),
    ("lang", N_("Change language")),
    ("channel", N_("Telegram, WhatsApp or SMS")),
    ("mydata", N_("What Renfort stores about you")),
    ("forget", N_("Erase your data")),
    ("help", N_("Help")),
)
GROUP_ADMIN_COMMANDS: tuple[tuple[str, str], ...] = (
    ("pending", N_("Applications waiting for an answer")),
    ("newmission", N_("Create a mission")),
    ("edit", N_("Change a mission")),
    ("roster", N_("Who comes to the next slots")),
    ("board", N_("The live board in your browser")),
    ("callout", N_("Alert volunteers now")),
    ("settings", N_("Reminders and attendance check")),
    ("export", N_("Export the applications")),
    ("stats", N_("Figures of the organisation")),
    ("poster", N_("A poster with a QR code")),
    ("help", N_("What the bot does here")),
)
MENUS: tuple[tuple[BotCommandScope, tuple[tuple[str, str], ...]], ...] = (
    (PrivateChats(), PRIVATE_COMMANDS),
    (BotCommandScopeAllChatAdministrators(), GROUP_ADMIN_COMMANDS),
)


def menu(commands: tuple[tuple[str, str], ...], t: Translator) -> list[BotCommand]:
    return [BotCommand(name, t._(description)) for name, description in commands]


async def register_command_menus(bot: Bot, default_locale: str) -> None:
    """Each scope's menu in every language, and in the default one for people whose
    Telegram speaks another. A refusal is logged: the bot works without a menu."""
    try:
        for scope, commands in MENUS:
            await bot.set_my_commands(menu(commands, Translator(default_locale)), scope=scope)
            for locale in SUPPORTED_LOCALES:
                await bot.set_my_commands(
                    menu(commands, Translator(locale)), scope=scope, language_code=locale
                )
    except TelegramError as error:
        log.warning("the command menu could not be registered: %s", error)
