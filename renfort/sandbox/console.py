"""A terminal chat with the sandbox bot: speak as a volunteer, as the coordinator or in the
admin group, read what the bot sends, tap its buttons. Everything goes through the Telegram
double, so the bot runs exactly the handlers and services it runs in production; with the
Twilio double, two more residents write by SMS and on WhatsApp (quick replies tapped by
number), through the real webhooks."""

from __future__ import annotations

import asyncio
import contextlib
import html
import re
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from rich.console import Console, Group
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from renfort.sandbox.demo import Cast
from renfort.sandbox.telegram_double import SentMessage, TelegramDouble
from renfort.sandbox.twilio_double import WHATSAPP, Sms, TwilioDouble

WATCH_INTERVAL = 0.1
QUIET_SECONDS = 0.3
SETTLE_SECONDS = 10.0
TAG = re.compile(r"<(/?)([a-zA-Z-]+)([^>]*)>")
STYLES = {
    "b": "bold",
    "strong": "bold",
    "i": "italic",
    "em": "italic",
    "u": "underline",
    "ins": "underline",
    "s": "strike",
    "strike": "strike",
    "del": "strike",
    "code": "cyan",
    "pre": "cyan",
    "a": "underline blue",
    "tg-spoiler": "reverse",
    "blockquote": "dim",
}

# Waits until the bot has handled an update (by its update_id).
Handled = Callable[[int], Awaitable[None]]


@dataclass(frozen=True)
class Persona:
    """Someone the console can speak as: who types, in which chat, which chats they read."""

    key: str
    label: str
    user_id: int
    chat_id: int
    reads: tuple[int, ...]
    style: str
    channel: str = "telegram"  # or sms, whatsapp: a resident writing from `phone`
    phone: str = ""

    @property
    def address(self) -> str:
        """Where Twilio delivers to this resident."""
        return WHATSAPP + self.phone if self.channel == "whatsapp" else self.phone


# Residents without Telegram, in the sandbox: one writes by SMS, one on WhatsApp.
SMS_PERSONA = Persona("sms", "Lou (SMS)", 0, 0, (), "yellow", "sms", "+33612340001")
WHATSAPP_PERSONA = Persona(
    "whatsapp", "Sacha (WhatsApp)", 0, 0, (), "bright_green", "whatsapp", "+33612340002"
)


def cast_personas(cast: Cast) -> dict[str, Persona]:
    volunteer, coordinator, group = cast.volunteer_id, cast.coordinator_id, cast.group_id
    return {
        "volunteer": Persona(
            "volunteer", f"{cast.volunteer_name} (volunteer)", volunteer, volunteer,
            (volunteer,), "green",
        ),
        "coordinator": Persona(
            "coordinator", f"{cast.coordinator_name} (coordinator)", coordinator, coordinator,
            (coordinator, group), "magenta",
        ),
        "group": Persona(
            "group", f"{cast.coordinator_name} in {cast.group_title}", coordinator, group,
            (group, coordinator), "blue",
        ),
    }  # fmt: skip


def telegram_html(text: str) -> Text:
    """Telegram's HTML parse mode as styled terminal text (unknown tags are dropped)."""
    result = Text()
    styles: list[str] = []
    links: list[str] = []
    position = 0
    for match in TAG.finditer(text):
        result.append(html.unescape(text[position : match.start()]), " ".join(styles) or None)
        position = match.end()
        closing, name = match.group(1) == "/", match.group(2).lower()
        style = STYLES.get(name)
        if style is None:
            continue
        if not closing:
            styles.append(style)
            if name == "a":
                href = re.search(r'href="([^"]*)"', match.group(3))
                links.append(html.unescape(href.group(1)) if href else "")
        elif style in styles:
            del styles[len(styles) - 1 - styles[::-1].index(style)]
            if name == "a" and links and links[-1]:
                result.append(f" ({links.pop()})", "dim")
    result.append(html.unescape(text[position:]), " ".join(styles) or None)
    return result


def flat_buttons(message: SentMessage) -> list[dict[str, Any]]:
    return [button for row in message.buttons for button in row]


def banner(cast: Cast, http_url: str | None, phones: bool = False) -> Panel:
    """What the sandbox is and how to drive it."""
    intro = Text.from_markup(
        "[bold]Renfort sandbox[/]: a local Telegram. You type as a person; the real bot"
        f" answers.\nYou are {cast.volunteer_name}, a volunteer: send /start to register."
        " Any line that is not a sandbox command below, /commands included, goes to the bot."
    )
    commands = Table.grid(padding=(0, 2))
    commands.add_row(
        "/as volunteer | coordinator | group",
        f"speak as {cast.volunteer_name}, as {cast.coordinator_name} (coordinator of"
        f" the Mairie), or in the Mairie's admin group",
    )
    if phones:
        commands.add_row(
            "/as sms | whatsapp",
            f"write as {SMS_PERSONA.label} or {WHATSAPP_PERSONA.label}: no Telegram, the"
            " same bot by SMS and on WhatsApp (keywords and numbers, e.g. Bonjour, MISSIONS)",
        )
    commands.add_row("/tap N  or  #N", "tap button N of the last message with buttons")
    commands.add_row("/where 48.64 4.95", "share a location (latitude longitude)")
    commands.add_row("/sandbox", "show this help again")
    commands.add_row("/quit  Ctrl-D  Ctrl-C", "stop Renfort")
    parts: list[Text | Table] = [intro, commands]
    if http_url:
        parts.append(Text(f"Health check: {http_url}/healthz", style="dim"))
    return Panel(Group(*parts), expand=False)


class ChatConsole:
    """Turns typed lines into what people do in Telegram, and prints what the bot sends."""

    def __init__(
        self,
        double: TelegramDouble,
        cast: Cast,
        out: Console,
        *,
        handled: Handled | None = None,
        interactive: bool = False,
        http_url: str | None = None,
        twilio: TwilioDouble | None = None,
    ) -> None:
        self.double = double
        self.cast = cast
        self.out = out
        self.handled = handled
        self.interactive = interactive
        self.http_url = http_url
        self.twilio = twilio
        self.personas = cast_personas(cast)
        if twilio is not None:
            self.personas.update(sms=SMS_PERSONA, whatsapp=WHATSAPP_PERSONA)
        self.current = self.personas["volunteer"]
        self._phone_printed: dict[str, int] = {}
        self._phone_announced: dict[str, int] = {}
        self._printed: dict[tuple[int, int], int] = {}
        self._announced: set[tuple[int, int]] = set()
        self._shown: list[SentMessage] = []
        self._at_prompt = False
        double.user(cast.volunteer_id, cast.volunteer_name, "fr")
        double.user(cast.coordinator_id, cast.coordinator_name, "fr")
        double.group(cast.group_id, cast.group_title, admins=(cast.coordinator_id,))

    # ---- input ---------------------------------------------------------------------------

    async def handle(self, line: str) -> bool:
        """Act on one typed line; False when the person asked to quit."""
        self._at_prompt = False  # the person pressed Enter after the prompt
        text = line.strip()
        if not text:
            self.prompt()
            return True
        if not self.interactive:
            self._print(Text(f"{self.current.label} › {text}", style="bold"))
        command, _, rest = text.partition(" ")
        command = command.lower()
        if command in ("/quit", "/exit"):
            return False
        if command == "/sandbox":
            self.banner()
        elif command == "/as":
            self._switch(rest.strip().lower())
        elif command == "/tap" or (command.startswith("#") and command[1:].isdigit()):
            await self._tap(rest if command == "/tap" else command[1:])
        elif command == "/where":
            await self._where(rest)
        elif self.current.channel != "telegram":
            await self._text(text)
        else:
            chat = self.current.chat_id if self.current.key == "group" else None
            await self._settle(self.double.send_text(self.current.user_id, text, chat))
        self.refresh()
        self.prompt()
        return True

    async def _text(self, text: str) -> None:
        """The resident's SMS or WhatsApp message, through Twilio's signed webhook."""
        assert self.twilio is not None
        persona = self.current
        if persona.channel == "whatsapp":
            exchange = await self.twilio.whatsapp(persona.phone, text)
        else:
            exchange = await self.twilio.text(persona.phone, text)
        if exchange.status_code != 200:
            self.note(f"(the webhook answered {exchange.status_code})")

    def _switch(self, who: str) -> None:
        persona = next((p for key, p in self.personas.items() if who and key.startswith(who)), None)
        if persona is None:
            others = ", /as sms, /as whatsapp" if self.twilio is not None else ""
            self.note(f"Who? /as volunteer, /as coordinator or /as group{others}")
            return
        self.current = persona
        self.note(f"Now speaking as {persona.label}.")

    async def _tap(self, number: str) -> None:
        if self.current.channel != "telegram":
            await self._quick_reply(number)
            return
        message = self._last_with_buttons()
        if message is None:
            self.note("No message with buttons here yet.")
            return
        buttons = flat_buttons(message)
        if not number.strip().isdigit() or not 1 <= int(number) <= len(buttons):
            self.note(f"Tap a number from 1 to {len(buttons)}: /tap 1 or #1")
            return
        button = buttons[int(number) - 1]
        if "callback_data" not in button:
            self.note(f"“{button['text']}” opens {button.get('url', 'a link')}")
            return
        self.note(f"tapped “{button['text']}”")
        await self._settle(
            self.double.tap_data(self.current.user_id, message, str(button["callback_data"]))
        )

    async def _quick_reply(self, number: str) -> None:
        """Tap quick reply N of the last WhatsApp message offering some."""
        assert self.twilio is not None
        persona = self.current
        shown = [m for m in self.twilio.inbox[persona.address] if m.buttons]
        if not shown:
            self.note("No message with buttons here yet.")
            return
        buttons = shown[-1].buttons
        if not number.strip().isdigit() or not 1 <= int(number) <= len(buttons):
            self.note(f"Tap a number from 1 to {len(buttons)}: /tap 1 or #1")
            return
        title, payload = buttons[int(number) - 1]
        self.note(f"tapped “{title}”")
        await self.twilio.whatsapp(persona.phone, title, button=(title, payload))

    async def _where(self, rest: str) -> None:
        if self.current.channel != "telegram":
            self.note("Locations are shared in Telegram: /as volunteer or /as coordinator.")
            return
        if self.current.key == "group":
            self.note("Locations are shared in a private chat: /as volunteer or /as coordinator.")
            return
        try:
            latitude, longitude = (float(part.replace(",", ".")) for part in rest.split())
        except ValueError:
            self.note("Usage: /where 48.64 4.95 (latitude longitude)")
            return
        if not (-90 <= latitude <= 90 and -180 <= longitude <= 180):
            self.note("Latitude goes from -90 to 90, longitude from -180 to 180.")
            return
        await self._settle(self.double.share_location(self.current.user_id, latitude, longitude))

    async def _settle(self, update_id: int) -> None:
        """Wait for the bot to handle the update and for its messages to stop arriving."""
        try:
            if self.handled is not None:
                await asyncio.wait_for(self.handled(update_id), SETTLE_SECONDS)
            else:
                await self.double.wait_idle(SETTLE_SECONDS)
        except TimeoutError:
            self.note("(the bot has not answered yet)")
            return
        last, quiet_since = self._fingerprint(), time.monotonic()
        deadline = quiet_since + SETTLE_SECONDS
        while time.monotonic() - quiet_since < QUIET_SECONDS and time.monotonic() < deadline:
            await asyncio.sleep(WATCH_INTERVAL / 2)
            now = self._fingerprint()
            if now != last:
                last, quiet_since = now, time.monotonic()

    def _fingerprint(self) -> tuple[tuple[int, int, int], ...]:
        return tuple(
            (chat, len(messages), sum(m.edits for m in messages))
            for chat, messages in list(self.double.messages.items())
        )

    # ---- output --------------------------------------------------------------------------

    def _print(self, renderable: Panel | Text) -> None:
        if self._at_prompt:
            self.out.print()  # leave the prompt's line before printing under it
            self._at_prompt = False
        self.out.print(renderable)

    def banner(self) -> None:
        self._print(banner(self.cast, self.http_url, phones=self.twilio is not None))

    def note(self, text: str) -> None:
        self._print(Text(text, style="dim"))

    def prompt(self) -> None:
        if self.interactive and not self._at_prompt:
            self.out.print(Text(f"{self.current.label} › ", style="bold"), end="")
            self._at_prompt = True

    def refresh(self) -> int:
        """Print the new and edited messages of the chats the current persona reads; note
        the others once. Returns how many messages were printed."""
        printed = 0
        for chat_id in dict.fromkeys(c for p in self.personas.values() for c in p.reads):
            for message in list(self.double.messages.get(chat_id, ())):
                key = (chat_id, message.message_id)
                seen = self._printed.get(key)
                if seen == message.edits:
                    continue
                if chat_id in self.current.reads:
                    self._show(message, edited=seen is not None)
                    self._printed[key] = message.edits
                    printed += 1
                elif key not in self._announced:
                    self._announced.add(key)
                    reader = next(p for p in self.personas.values() if chat_id in p.reads)
                    self.note(f"· new message for {reader.label}: /as {reader.key} to read it")
        return printed + self._refresh_phones()

    def _refresh_phones(self) -> int:
        """The same for the residents' phones: their SMS and WhatsApp messages."""
        if self.twilio is None:
            return 0
        printed = 0
        for persona in (SMS_PERSONA, WHATSAPP_PERSONA):
            inbox = list(self.twilio.inbox.get(persona.address, ()))
            if persona is self.current or persona.key == self.current.key:
                for message in inbox[self._phone_printed.get(persona.key, 0) :]:
                    self._show_phone(persona, message)
                    printed += 1
                self._phone_printed[persona.key] = len(inbox)
            elif len(inbox) > self._phone_announced.get(
                persona.key, self._phone_printed.get(persona.key, 0)
            ):
                self._phone_announced[persona.key] = len(inbox)
                self.note(f"· new message for {persona.label}: /as {persona.key} to read it")
        return printed

    def _show_phone(self, persona: Persona, message: Sms) -> None:
        parts: list[Text] = [Text(message.body)]
        line = Text()
        for number, (title, _payload) in enumerate(message.buttons, 1):
            line.append(f"[{number}] ", style="bold")
            line.append(title + "   ")
        if message.buttons:
            parts.append(line)
        for url in message.media_urls:
            parts.append(Text(f"[file: {url}]", style="italic"))
        for action in message.persistent_actions:
            if action.startswith("geo:"):
                point, _, label = action[4:].partition("|")
                parts.append(Text(f"[location: {label or point} ({point})]", style="italic"))
        # A WhatsApp resident outside the window may be reached by SMS: say which it was.
        how = "WhatsApp" if message.to.startswith("whatsapp:") else "SMS"
        who = persona.label if f"({how})" in persona.label else f"{persona.label} ({how})"
        title = f"Renfort → {who}"
        self._print(
            Panel(
                Group(*parts),
                title=title,
                title_align="left",
                border_style=persona.style,
                expand=False,
            )
        )

    def _show(self, message: SentMessage, *, edited: bool) -> None:
        parts: list[Text] = [telegram_html(message.text)]
        if message.document:
            parts.append(Text(f"[document: {message.document}]", style="italic"))
        number = 0
        for row in message.buttons:
            line = Text()
            for button in row:
                number += 1
                line.append(f"[{number}] ", style="bold")
                line.append(str(button.get("text", "")) + "   ")
            parts.append(line)
        title = f"Renfort → {self._chat_name(message.chat_id)}" + (" (edited)" if edited else "")
        style = next(
            (p.style for p in self.personas.values() if p.chat_id == message.chat_id), "white"
        )
        self._print(
            Panel(Group(*parts), title=title, title_align="left", border_style=style, expand=False)
        )
        self._shown.append(message)

    def _chat_name(self, chat_id: int) -> str:
        names = {
            self.cast.volunteer_id: self.cast.volunteer_name,
            self.cast.coordinator_id: self.cast.coordinator_name,
            self.cast.group_id: self.cast.group_title,
        }
        return names.get(chat_id, str(chat_id))

    def _last_with_buttons(self) -> SentMessage | None:
        for message in reversed(self._shown):
            if message.chat_id in self.current.reads and message.buttons:
                return message
        return None

    # ---- the session ---------------------------------------------------------------------

    async def watch(self) -> None:
        """Print messages as they arrive (notifications come whenever the outbox sends)."""
        while True:
            await asyncio.sleep(WATCH_INTERVAL)
            if self.refresh():
                self.prompt()

    async def run(self, lines: asyncio.Queue[str | None], stop: asyncio.Event) -> None:
        """Read lines until /quit, end of input (None) or `stop`."""
        self.banner()
        self.refresh()
        self.prompt()
        watcher = asyncio.create_task(self.watch(), name="sandbox-watch")
        stopping = asyncio.create_task(stop.wait(), name="sandbox-stop")
        try:
            while True:
                reading = asyncio.create_task(lines.get(), name="sandbox-read")
                await asyncio.wait({reading, stopping}, return_when=asyncio.FIRST_COMPLETED)
                if not reading.done():
                    reading.cancel()
                    break
                line = reading.result()
                if line is None or not await self.handle(line):
                    break
        finally:
            for task in (watcher, stopping):
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
            self.refresh()
            if self._at_prompt:
                self.out.print()
