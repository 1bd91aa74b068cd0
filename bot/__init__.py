"""Renfort: volunteer coordination in Telegram and SMS."""
