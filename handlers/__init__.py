"""Adapters from inbound events (Telegram updates, Twilio webhooks, HTTP) to services."""
