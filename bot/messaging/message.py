"""A message as the conversation means it, before any channel gives it a form.

Its text is what every channel shows. Its choices are declared by whoever asks the
question, so no channel has to find them again in the words: SMS shows only the text (the
choices are already written in it, "Reply YES or NO", "2.1 Sun 13 Jun"), WhatsApp turns up
to three of them into quick replies, and a channel with buttons would make each a button.
Whatever the channel, choosing one must reach the conversation as typing its `reply` would."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Choice:
    """One answer offered: `label` is what a button shows (a channel may cut it), `reply`
    what the person would type to give it: "YES", "2", "2.1"."""

    label: str
    reply: str


@dataclass(frozen=True)
class Message:
    """The text, and the answers it offers in the order it offers them."""

    text: str
    choices: tuple[Choice, ...] = ()


def message(reply: Message | str) -> Message:
    """A reply as a message: plain text offers nothing to choose."""
    return reply if isinstance(reply, Message) else Message(reply)
