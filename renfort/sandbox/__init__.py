"""The sandbox: Renfort without any token, against a local chat (used by tests too)."""
