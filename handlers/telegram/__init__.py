"""Telegram: the volunteer's private chat, the organiser's chat and admin group."""
