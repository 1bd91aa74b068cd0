"""What the bot says next to a person, decided once for every channel: each channel turns
its own input (a tap, "2", "OUI") into the same events and renders the outcome its own way."""
