"""Renfort by SMS: the keyword state machine behind Twilio's inbound webhook."""
