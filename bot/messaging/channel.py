"""What the dispatcher needs from a channel (Telegram, SMS, WhatsApp), and what a send can
end in.

A channel maps its provider's answers to these few outcomes; the dispatcher alone decides
what each means for the outbox row (retry, fall back, give up)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable

from bot.i18n import Translator
from bot.messaging.message import Message
from bot.messaging.ratelimit import RateLimiter

# A Telegram chat id, or an E.164 phone number for SMS and WhatsApp.
Address = int | str


@dataclass(frozen=True)
class Sent:
    """Delivered to the provider; `provider_id` is its message id (Telegram) or SID (SMS).
    `via`: the channel that actually carried it, when not the route's (WhatsApp's SMS
    fallback)."""

    provider_id: str
    via: str | None = None


@dataclass(frozen=True)
class RetryLater:
    """The provider asked us to wait before writing to this chat again (Telegram's 429)."""

    seconds: float


@dataclass(frozen=True)
class Unreachable:
    """This address will not receive anything (the bot was blocked, the chat is gone)."""

    reason: str


@dataclass(frozen=True)
class Moved:
    """The group became a supergroup with a new id; send there instead."""

    new_chat_id: int


@dataclass(frozen=True)
class Transient:
    """Worth trying again later (network, time-out, provider's server error)."""

    error: str


@dataclass(frozen=True)
class Rejected:
    """The provider refused this message itself; sending it again would fail again."""

    error: str


Outcome = Sent | RetryLater | Unreachable | Moved | Transient | Rejected


@dataclass(frozen=True)
class Notice:
    """Which notification a rendered message says, and in what language: WhatsApp picks
    the approved template by them when it may not send the words as they are."""

    kind: str
    locale: str


class Channel(Protocol):
    """One way of reaching people, with its own form of message and its own limits."""

    @property
    def limiter(self) -> RateLimiter: ...

    def render(self, kind: str, payload: dict[str, Any], t: Translator) -> Message:
        """The notification in this channel's form; raises for a kind it cannot render."""
        ...

    async def send(self, address: Address, message: Message, notice: Notice) -> Outcome:
        """Send one rendered notification; map every provider answer to an Outcome."""
        ...


@runtime_checkable
class Preparing(Protocol):
    """A channel with work to do once per batch before its sends."""

    async def prepare(self, messages: Sequence[Message]) -> list[Message]:
        """These messages ready to send, in the same order (the next batch may be prepared
        while the one before is still being sent)."""
        ...
