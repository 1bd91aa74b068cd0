"""A local server that speaks the Telegram Bot API, for the sandbox and the tests.

It keeps chats, users and messages in memory, hands updates to getUpdates (long polling)
or posts them to a webhook, and can answer like Telegram does when things go wrong: 429
with retry_after when a limit is exceeded, 403 when a user blocked the bot."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import re
import time
from collections import defaultdict, deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx
import uvicorn
from starlette.applications import Starlette
from starlette.datastructures import UploadFile
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from bot.sockets import listening_socket

BOT_ID = 7_000_000_001
BOT_USERNAME = "renfort_bot"
COMMAND_NAME = re.compile(r"[a-z0-9_]{1,32}")
JSON_FIELDS = {
    "reply_markup",
    "entities",
    "allowed_updates",
    "commands",
    "link_preview_options",
    "reply_parameters",
    "caption_entities",
    "scope",
}


@dataclass
class SentMessage:
    """A message the bot sent (or edited) in a chat, as a person there would see it."""

    message_id: int
    chat_id: int
    text: str
    buttons: list[list[dict[str, Any]]] = field(default_factory=list)
    edits: int = 0
    document: str | None = None
    document_data: bytes | None = None  # what a sendDocument carried

    def button_texts(self) -> list[str]:
        return [b["text"] for row in self.buttons for b in row]

    def callback_data(self, label: str) -> str:
        for row in self.buttons:
            for button in row:
                if label.lower() in button["text"].lower() and "callback_data" in button:
                    return str(button["callback_data"])
        raise KeyError(f"no button {label!r} in {self.button_texts()}")


@dataclass
class Limits:
    """Telegram's limits, enforced when `enforce` is on."""

    enforce: bool = False
    per_bot_per_second: int = 30
    private_per_second: int = 1
    group_per_minute: int = 20


class TelegramDouble:
    """In-memory Bot API. Use `start()`/`stop()` around a test, then drive people."""

    def __init__(self, token: str = "123456:TEST-TOKEN-abcdefghijklmnopqrstuvwxyz") -> None:
        self.token = token
        self.port = 0
        self.limits = Limits()
        self._server: uvicorn.Server | None = None
        self._task: asyncio.Task[None] | None = None
        self._update_ids = itertools.count(1)
        self._message_ids = itertools.count(100)
        self._callback_ids = itertools.count(1)
        self._pending: deque[dict[str, Any]] = deque()
        self._new_update = asyncio.Event()
        self._new_message = asyncio.Event()
        self.messages: dict[int, list[SentMessage]] = defaultdict(list)
        self.chats: dict[int, dict[str, Any]] = {}
        self.users: dict[int, dict[str, Any]] = {}
        self.blocked: set[int] = set()
        self.admins: dict[int, set[int]] = defaultdict(set)
        self.callback_answers: list[dict[str, Any]] = []
        self.calls: list[tuple[str, dict[str, Any]]] = []
        self.faults: dict[str, deque[tuple[int, dict[str, Any]]]] = defaultdict(deque)
        self.too_many_requests = 0
        self.webhook_url: str | None = None
        self.webhook_secret: str | None = None
        self._send_times: deque[float] = deque()
        self._chat_times: dict[int, deque[float]] = defaultdict(deque)
        self._webhook_client: httpx.AsyncClient | None = None
        self.delivered: list[dict[str, Any]] = []
        # The command menus: (scope type, language code or "") -> [(command, description)].
        self.commands: dict[tuple[str, str], list[tuple[str, str]]] = {}
        # Seconds each sendMessage takes to answer (a slow network, for stop tests).
        self.send_delay = 0.0
        self.conflicts = 0  # getUpdates calls ended by another one (two pollers)
        self._active_poll: asyncio.Event | None = None
        self._delivered_ids: set[int] = set()  # a long run must not rescan `delivered`

    # ---- server -------------------------------------------------------------------------

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def app(self) -> Starlette:
        return Starlette(
            routes=[Route("/bot{token}/{method}", self._endpoint, methods=["GET", "POST"])]
        )

    async def start(self, port: int = 0) -> None:
        sock = listening_socket("127.0.0.1", port)
        self.port = sock.getsockname()[1]
        config = uvicorn.Config(self.app(), log_level="warning", lifespan="off")
        self._server = uvicorn.Server(config)
        self._task = asyncio.create_task(self._server.serve(sockets=[sock]))
        while not self._server.started:
            await asyncio.sleep(0.01)

    async def stop(self) -> None:
        if self._webhook_client is not None:
            await self._webhook_client.aclose()
        if self._server is not None:
            self._server.should_exit = True
        if self._task is not None:
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def _endpoint(self, request: Request) -> JSONResponse:
        if request.path_params["token"] != self.token:
            return _error(401, "Unauthorized")
        method = str(request.path_params["method"])
        params = await _read_params(request)
        self.calls.append((method, params))
        handler: Callable[[dict[str, Any]], Any] | None = getattr(self, f"_api_{method}", None)
        if handler is None:
            return _error(404, "Not Found: method not found")
        fault = self._take_fault(method, params)
        if fault is not None:
            return fault
        result = handler(params)
        if asyncio.iscoroutine(result):
            result = await result
        if isinstance(result, JSONResponse):
            return result
        return JSONResponse({"ok": True, "result": result})

    def _take_fault(self, method: str, params: dict[str, Any]) -> JSONResponse | None:
        queue = self.faults.get(method)
        if not queue:
            return None
        status, extra = queue.popleft()
        if status == 429:
            self.too_many_requests += 1
            return _error(
                429, "Too Many Requests: retry after", retry_after=extra.get("retry_after", 1)
            )
        return _error(status, extra.get("description", "Bad Request"))

    def fail_next(self, method: str, status: int, **extra: Any) -> None:
        """Make the next call of `method` fail like Telegram would."""
        self.faults[method].append((status, extra))

    # ---- people and chats ---------------------------------------------------------------

    def user(
        self, user_id: int, first_name: str, language_code: str | None = "fr"
    ) -> dict[str, Any]:
        user = {"id": user_id, "is_bot": False, "first_name": first_name}
        if language_code:
            user["language_code"] = language_code
        self.users[user_id] = user
        self.chats.setdefault(user_id, {"id": user_id, "type": "private", "first_name": first_name})
        return user

    def group(self, chat_id: int, title: str, admins: tuple[int, ...] = ()) -> dict[str, Any]:
        chat = {"id": chat_id, "type": "supergroup", "title": title}
        self.chats[chat_id] = chat
        self.admins[chat_id].update(admins)
        return chat

    def block(self, user_id: int) -> None:
        """The user blocks the bot: sends fail with 403 and a my_chat_member update arrives."""
        self.blocked.add(user_id)
        self._push({"my_chat_member": self._member_update(user_id, "member", "kicked")})

    def unblock(self, user_id: int) -> None:
        self.blocked.discard(user_id)
        self._push({"my_chat_member": self._member_update(user_id, "kicked", "member")})

    def _member_update(self, user_id: int, old: str, new: str) -> dict[str, Any]:
        bot = self._bot_user()
        return {
            "chat": self.chats[user_id],
            "from": self.users[user_id],
            "date": int(time.time()),
            "old_chat_member": _member(old, bot),
            "new_chat_member": _member(new, bot),
        }

    # ---- what people do -----------------------------------------------------------------

    def send_text(
        self,
        user_id: int,
        text: str,
        chat_id: int | None = None,
        reply_to: SentMessage | None = None,
    ) -> int:
        """The user writes `text` (commands get their entity, as in Telegram), maybe as a
        reply to one of the bot's messages."""
        message = self._incoming(user_id, chat_id)
        message["text"] = text
        if reply_to is not None:
            message["reply_to_message"] = self._message_json(reply_to)
        if text.startswith("/"):
            command = text.split()[0]
            message["entities"] = [{"type": "bot_command", "offset": 0, "length": len(command)}]
        return self._push({"message": message})

    def edit_text(self, user_id: int, text: str) -> int:
        """The user edits one of their earlier messages to read `text`."""
        message = self._incoming(user_id, None)
        message.update(text=text, edit_date=int(time.time()))
        return self._push({"edited_message": message})

    def send_as_chat(self, chat_id: int, text: str) -> int:
        """A group's anonymous administrator writes `text` in the group's name (Telegram
        signs it with its GroupAnonymousBot user and the group as sender_chat)."""
        message = {
            "message_id": next(self._message_ids),
            "date": int(time.time()),
            "chat": self.chats[chat_id],
            "sender_chat": self.chats[chat_id],
            "from": {"id": 1087968824, "is_bot": True, "first_name": "Group"},
            "text": text,
        }
        if text.startswith("/"):
            command = text.split()[0]
            message["entities"] = [{"type": "bot_command", "offset": 0, "length": len(command)}]
        return self._push({"message": message})

    def send_attachment(self, user_id: int, kind: str, content: dict[str, Any]) -> int:
        """The user sends a sticker, photo, voice note… (`kind` is the Bot API's field)."""
        message = self._incoming(user_id, None)
        message[kind] = content
        return self._push({"message": message})

    def share_location(self, user_id: int, latitude: float, longitude: float) -> int:
        message = self._incoming(user_id, None)
        message["location"] = {"latitude": latitude, "longitude": longitude}
        return self._push({"message": message})

    def share_contact(self, user_id: int, phone_number: str, owner_id: int | None = None) -> int:
        """The user sends a contact card: their own (the share button) or `owner_id`'s."""
        message = self._incoming(user_id, None)
        owner = self.users[owner_id if owner_id is not None else user_id]
        message["contact"] = {
            "phone_number": phone_number,
            "first_name": owner["first_name"],
            "user_id": owner["id"],
        }
        return self._push({"message": message})

    def tap(self, user_id: int, message: SentMessage, label: str) -> int:
        """The user taps the button whose text contains `label` under `message`."""
        return self.tap_data(user_id, message, message.callback_data(label))

    def tap_data(self, user_id: int, message: SentMessage, data: str) -> int:
        query = {
            "id": str(next(self._callback_ids)),
            "from": self.users[user_id],
            "chat_instance": str(message.chat_id),
            "data": data,
            "message": self._message_json(message),
        }
        return self._push({"callback_query": query})

    def add_to_group(self, user_id: int, chat_id: int) -> int:
        """The user adds the bot to a group (a my_chat_member update for the group)."""
        bot = self._bot_user()
        update = {
            "chat": self.chats[chat_id],
            "from": self.users[user_id],
            "date": int(time.time()),
            "old_chat_member": {"status": "left", "user": bot},
            "new_chat_member": {"status": "member", "user": bot},
        }
        return self._push({"my_chat_member": update})

    def _incoming(self, user_id: int, chat_id: int | None) -> dict[str, Any]:
        return {
            "message_id": next(self._message_ids),
            "date": int(time.time()),
            "chat": self.chats[chat_id if chat_id is not None else user_id],
            "from": self.users[user_id],
        }

    def _push(self, body: dict[str, Any]) -> int:
        update_id = next(self._update_ids)
        update = {"update_id": update_id, **body}
        self._pending.append(update)
        self._new_update.set()
        if self.webhook_url:
            asyncio.get_running_loop().create_task(self._deliver_webhook())
        return update_id

    def take_pending(self) -> list[dict[str, Any]]:
        """The updates nobody fetched yet, handed to the caller (who delivers them itself,
        e.g. spread over several workers' webhooks)."""
        taken = list(self._pending)
        self._pending.clear()
        self.delivered.extend(taken)
        return taken

    def redeliver(self, update_id: int) -> None:
        """Send an update again, as Telegram does when it did not see it acknowledged."""
        for update in self.delivered:
            if update["update_id"] == update_id:
                self._pending.appendleft(update)
                self._new_update.set()
                return
        raise KeyError(update_id)

    # ---- what tests read ----------------------------------------------------------------

    def last(self, chat_id: int) -> SentMessage:
        return self.messages[chat_id][-1]

    def texts(self, chat_id: int) -> list[str]:
        return [m.text for m in self.messages[chat_id]]

    def find(self, chat_id: int, contains: str) -> SentMessage:
        for message in reversed(self.messages[chat_id]):
            if contains.lower() in message.text.lower():
                return message
        raise KeyError(f"no message with {contains!r} in chat {chat_id}: {self.texts(chat_id)}")

    async def wait_for(
        self,
        chat_id: int,
        contains: str = "",
        *,
        after: int = 0,
        timeout: float = 30.0,
        button: str = "",
        document: str = "",
    ) -> SentMessage:
        """The first message in `chat_id`, from index `after` on, whose text has `contains`
        (and, if given, a button whose label has `button`, a document whose name has
        `document`)."""
        deadline = time.monotonic() + timeout
        while True:
            for message in self.messages[chat_id][after:]:
                has_button = any(button.lower() in b.lower() for b in message.button_texts())
                has_document = document in (message.document or "")
                if (
                    contains.lower() in message.text.lower()
                    and (not button or has_button)
                    and (not document or (message.document is not None and has_document))
                ):
                    return message
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError(
                    f"no message with {contains!r} in chat {chat_id}; got {self.texts(chat_id)}"
                )
            self._new_message.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._new_message.wait(), min(remaining, 0.2))

    async def wait_idle(self, timeout: float = 10.0) -> None:
        """Until the bot has fetched every update given to it."""
        deadline = time.monotonic() + timeout
        while self._pending and time.monotonic() < deadline:
            await asyncio.sleep(0.01)

    # ---- Bot API methods ----------------------------------------------------------------

    def _bot_user(self) -> dict[str, Any]:
        return {"id": BOT_ID, "is_bot": True, "first_name": "Renfort", "username": BOT_USERNAME}

    def _api_getMe(self, _params: dict[str, Any]) -> dict[str, Any]:
        return {
            **self._bot_user(),
            "can_join_groups": True,
            "can_read_all_group_messages": False,
            "supports_inline_queries": False,
        }

    def _api_deleteWebhook(self, _params: dict[str, Any]) -> bool:
        self.webhook_url = None
        return True

    def _api_setWebhook(self, params: dict[str, Any]) -> bool:
        self.webhook_url = str(params["url"])
        self.webhook_secret = params.get("secret_token")
        return True

    def _api_getWebhookInfo(self, _params: dict[str, Any]) -> dict[str, Any]:
        return {
            "url": self.webhook_url or "",
            "has_custom_certificate": False,
            "pending_update_count": len(self._pending),
        }

    def _api_setMyCommands(self, params: dict[str, Any]) -> bool | JSONResponse:
        commands = params.get("commands")
        if not isinstance(commands, list) or len(commands) > 100:
            return _error(400, "Bad Request: commands must be a list of at most 100")
        for command in commands:
            name = str(command.get("command", "")) if isinstance(command, dict) else ""
            described = (
                isinstance(command, dict) and 1 <= len(command.get("description", "")) <= 256
            )
            if not COMMAND_NAME.fullmatch(name) or not described:
                return _error(400, "Bad Request: BOT_COMMAND_INVALID")
        scope = params.get("scope") or {"type": "default"}
        key = (str(scope.get("type")), str(params.get("language_code") or ""))
        self.commands[key] = [(c["command"], c["description"]) for c in commands]
        return True

    def _api_close(self, _params: dict[str, Any]) -> bool:
        return True

    async def _api_getUpdates(self, params: dict[str, Any]) -> list[dict[str, Any]] | JSONResponse:
        # Telegram serves one poller per bot: a new getUpdates ends the one under way, which
        # gets 409 (two workers both polling keep knocking each other out).
        if self._active_poll is not None and not self._active_poll.is_set():
            self.conflicts += 1
            self._active_poll.set()
        mine = self._active_poll = asyncio.Event()
        try:
            batch = await self._get_updates(params, mine)
        finally:
            if self._active_poll is mine:
                self._active_poll = None
        if mine.is_set():
            return _error(409, "Conflict: terminated by other getUpdates request")
        return batch

    async def _get_updates(
        self, params: dict[str, Any], preempted: asyncio.Event
    ) -> list[dict[str, Any]]:
        offset = int(params.get("offset") or 0)
        while self._pending and self._pending[0]["update_id"] < offset:
            self._pending.popleft()
        if not self._pending:
            self._new_update.clear()
            waits = [
                asyncio.ensure_future(self._new_update.wait()),
                asyncio.ensure_future(preempted.wait()),
            ]
            await asyncio.wait(
                waits, timeout=float(params.get("timeout") or 0), return_when="FIRST_COMPLETED"
            )
            for wait in waits:
                wait.cancel()
        limit = int(params.get("limit") or 100)
        batch = [u for u in list(self._pending)[:limit] if u["update_id"] >= offset]
        for update in batch:
            if update["update_id"] not in self._delivered_ids:
                self._delivered_ids.add(update["update_id"])
                self.delivered.append(update)
        return batch

    async def _deliver_webhook(self) -> None:
        if self._webhook_client is None:
            self._webhook_client = httpx.AsyncClient(timeout=10)
        while self._pending and self.webhook_url:
            update = self._pending.popleft()
            if update["update_id"] not in self._delivered_ids:
                self._delivered_ids.add(update["update_id"])
                self.delivered.append(update)
            headers = {}
            if self.webhook_secret:
                headers["X-Telegram-Bot-Api-Secret-Token"] = self.webhook_secret
            response = await self._webhook_client.post(
                self.webhook_url, json=update, headers=headers
            )
            if response.status_code >= 500:
                self._pending.appendleft(update)
                return

    def _check_send(self, chat_id: int) -> JSONResponse | None:
        if chat_id in self.blocked:
            return _error(403, "Forbidden: bot was blocked by the user")
        if chat_id not in self.chats:
            return _error(400, "Bad Request: chat not found")
        if not self.limits.enforce:
            return None
        now = time.monotonic()
        window = self._send_times
        while window and now - window[0] >= 1.0:
            window.popleft()
        per_chat = self._chat_times[chat_id]
        is_group = self.chats[chat_id]["type"] != "private"
        span, allowed = (
            (60.0, self.limits.group_per_minute)
            if is_group
            else (1.0, self.limits.private_per_second)
        )
        while per_chat and now - per_chat[0] >= span:
            per_chat.popleft()
        if len(window) >= self.limits.per_bot_per_second or len(per_chat) >= allowed:
            self.too_many_requests += 1
            oldest = per_chat[0] if len(per_chat) >= allowed else window[0]
            retry = max(1, int(span - (now - oldest)) + 1) if len(per_chat) >= allowed else 1
            return _error(429, f"Too Many Requests: retry after {retry}", retry_after=retry)
        window.append(now)
        per_chat.append(now)
        return None

    async def _api_sendMessage(self, params: dict[str, Any]) -> dict[str, Any] | JSONResponse:
        chat_id = int(params["chat_id"])
        if self.send_delay:
            await asyncio.sleep(self.send_delay)
        refused = self._check_send(chat_id)
        if refused is not None:
            return refused
        text = str(params.get("text", ""))
        if not text.strip():
            return _error(400, "Bad Request: message text is empty")
        if len(text) > 4096:
            return _error(400, "Bad Request: message is too long")
        buttons = _inline_buttons(params.get("reply_markup"))
        for row in buttons:
            for button in row:
                if len(str(button.get("callback_data", "")).encode()) > 64:
                    return _error(400, "Bad Request: BUTTON_DATA_INVALID")
        message = SentMessage(next(self._message_ids), chat_id, text, buttons)
        self.messages[chat_id].append(message)
        self._new_message.set()
        return self._message_json(message, params.get("reply_markup"))

    def _api_sendDocument(self, params: dict[str, Any]) -> dict[str, Any] | JSONResponse:
        chat_id = int(params["chat_id"])
        refused = self._check_send(chat_id)
        if refused is not None:
            return refused
        message = SentMessage(next(self._message_ids), chat_id, str(params.get("caption", "")))
        message.document = str(params.get("document_name", "document"))
        data = params.get("document")
        message.document_data = data if isinstance(data, bytes) else None
        self.messages[chat_id].append(message)
        self._new_message.set()
        return self._message_json(message)

    def _find_message(self, params: dict[str, Any]) -> SentMessage | None:
        chat_id, message_id = int(params["chat_id"]), int(params["message_id"])
        return next((m for m in self.messages[chat_id] if m.message_id == message_id), None)

    def _api_editMessageText(self, params: dict[str, Any]) -> dict[str, Any] | JSONResponse:
        message = self._find_message(params)
        if message is None:
            return _error(400, "Bad Request: message to edit not found")
        text = str(params.get("text", ""))
        buttons = _inline_buttons(params.get("reply_markup"))
        if text == message.text and buttons == message.buttons:
            return _error(400, "Bad Request: message is not modified")
        message.text, message.buttons = text, buttons
        message.edits += 1
        self._new_message.set()
        return self._message_json(message, params.get("reply_markup"))

    def _api_editMessageReplyMarkup(self, params: dict[str, Any]) -> dict[str, Any] | JSONResponse:
        message = self._find_message(params)
        if message is None:
            return _error(400, "Bad Request: message to edit not found")
        message.buttons = _inline_buttons(params.get("reply_markup"))
        message.edits += 1
        self._new_message.set()
        return self._message_json(message, params.get("reply_markup"))

    def _api_answerCallbackQuery(self, params: dict[str, Any]) -> bool:
        self.callback_answers.append(params)
        return True

    def _api_getChatMember(self, params: dict[str, Any]) -> dict[str, Any]:
        chat_id, user_id = int(params["chat_id"]), int(params["user_id"])
        status = "administrator" if user_id in self.admins[chat_id] else "member"
        user = self.users.get(user_id, {"id": user_id, "is_bot": False, "first_name": "?"})
        member: dict[str, Any] = {"status": status, "user": user}
        if status == "administrator":
            member.update(
                can_be_edited=False,
                is_anonymous=False,
                can_manage_chat=True,
                can_delete_messages=True,
                can_manage_video_chats=True,
                can_restrict_members=True,
                can_promote_members=False,
                can_change_info=True,
                can_invite_users=True,
                can_post_stories=False,
                can_edit_stories=False,
                can_delete_stories=False,
            )
        return member

    def _message_json(self, message: SentMessage, markup: Any = None) -> dict[str, Any]:
        body: dict[str, Any] = {
            "message_id": message.message_id,
            "date": int(time.time()),
            "chat": self.chats.get(message.chat_id, {"id": message.chat_id, "type": "private"}),
            "from": self._bot_user(),
            "text": message.text,
        }
        if message.buttons:
            body["reply_markup"] = {"inline_keyboard": message.buttons}
        elif isinstance(markup, dict) and "inline_keyboard" in markup:
            body["reply_markup"] = markup
        return body


def _member(status: str, user: dict[str, Any]) -> dict[str, Any]:
    """A ChatMember as Telegram sends it (a banned member carries until_date)."""
    member: dict[str, Any] = {"status": status, "user": user}
    if status == "kicked":
        member["until_date"] = 0
    return member


def _inline_buttons(markup: Any) -> list[list[dict[str, Any]]]:
    if isinstance(markup, dict) and "inline_keyboard" in markup:
        return [list(row) for row in markup["inline_keyboard"]]
    return []


async def _read_params(request: Request) -> dict[str, Any]:
    if request.headers.get("content-type", "").startswith("application/json"):
        body = await request.json()
        return dict(body) if isinstance(body, dict) else {}
    form = await request.form()
    params: dict[str, Any] = {}
    for key, value in form.multi_items():
        if isinstance(value, UploadFile):
            params[f"{key}_name"] = value.filename
            params[key] = await value.read()
        elif key in JSON_FIELDS:
            params[key] = json.loads(value)
        else:
            params[key] = value
    return params


def _error(status: int, description: str, **parameters: Any) -> JSONResponse:
    body: dict[str, Any] = {"ok": False, "error_code": status, "description": description}
    if parameters:
        body["parameters"] = parameters
    return JSONResponse(body, status_code=status)
