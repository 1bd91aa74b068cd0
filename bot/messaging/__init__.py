"""Outbound messaging: the outbox, rendering, channels, rate limits and the dispatcher."""
