"""A message as the conversation means it, before any channel gives it a form.

Its text is what every channel shows (Telegram HTML from Telegram's renderers, plain words
from the phone's). Its choices are declared by whoever asks the question, so no channel has
to find them again in the words, and each channel offers them its own way:

- Telegram makes an inline button of every choice with an `action`, in the rows the choices
  name, and leaves the others out (its text never asks to type an answer).
- SMS shows only the text: the choices are already written in it ("Reply YES or NO",
  "2.1 Sun 13 Jun").
- WhatsApp turns up to three choices with a `reply` into quick replies; a longer menu stays
  numbered in the text.

Whatever the channel, choosing one must reach the conversation as typing its `reply`, or
tapping its `action`, would.

A message may also point at a place (where a mission happens) and carry a document (a file
the person asked for). Each channel gives them its own form, and the text must stand without
them: a channel that cannot show a map or attach a file still says the address, or how to
get the file."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace

from bot.buttons import Button


@dataclass(frozen=True)
class Choice:
    """One answer offered: `label` is what a button shows (a channel may cut it), `reply`
    what a person on a phone would type to give it ("YES", "2", "2.1"; empty when only a
    tap gives it), `action` what a tapped Telegram button carries (or the page it opens),
    `row` the keyboard row it sits on, counted from 0."""

    label: str
    reply: str = ""
    action: Button | None = None
    row: int = 0


@dataclass(frozen=True)
class Pin:
    """A place on the map: `name` is what it is called (the mission), `address` how to find it."""

    latitude: float
    longitude: float
    name: str
    address: str = ""


@dataclass(frozen=True)
class Document:
    """A file sent with the message: its name as the person will save it, its media type and
    its bytes."""

    filename: str
    media_type: str
    content: bytes


@dataclass(frozen=True)
class Message:
    """The text, the answers it offers in the order it offers them, and optionally the place
    it is about and a document it carries."""

    text: str
    choices: tuple[Choice, ...] = ()
    place: Pin | None = None
    document: Document | None = None

    @classmethod
    def with_buttons(cls, text: str, rows: Iterable[Iterable[Button]]) -> Message:
        """A message offering rows of buttons (a Telegram keyboard), each remembering its row."""
        return cls(
            text,
            tuple(Choice(b.label, action=b, row=i) for i, row in enumerate(rows) for b in row),
        )

    @property
    def rows(self) -> list[list[Button]]:
        """The choices a tap can make, as rows of buttons (a keyboard's layout); the label
        is the choice's."""
        rows: dict[int, list[Button]] = {}
        for choice in self.choices:
            if choice.action is not None:
                rows.setdefault(choice.row, []).append(replace(choice.action, label=choice.label))
        return [rows[i] for i in sorted(rows)]


def message(reply: Message | str) -> Message:
    """A reply as a message: plain text offers nothing to choose."""
    return reply if isinstance(reply, Message) else Message(reply)
