"""The Bot API transport: what python-telegram-bot expects of a request, over aiohttp — the
answer's status and body, a slow server as TimedOut, an unreachable one as NetworkError, and
files sent as a multipart form."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator

import pytest
from telegram import InputFile
from telegram.error import NetworkError, TimedOut
from telegram.request import RequestData
from telegram.request._requestparameter import RequestParameter

from handlers.telegram.transport import AiohttpRequest


def param(name: str, value: object) -> RequestParameter:
    return RequestParameter.from_input(name, value)


@pytest.fixture
async def request_() -> AsyncIterator[AiohttpRequest]:
    transport = AiohttpRequest(read_timeout=0.3)
    await transport.initialize()
    try:
        yield transport
    finally:
        await transport.shutdown()


async def serve(handler: object) -> tuple[asyncio.Server, str]:
    server = await asyncio.start_server(handler, "127.0.0.1", 0)  # type: ignore[arg-type]
    port = server.sockets[0].getsockname()[1]
    return server, f"http://127.0.0.1:{port}/bot123:abc/sendMessage"


async def test_an_answer_comes_back_as_status_and_body(request_: AiohttpRequest) -> None:
    seen: list[bytes] = []

    async def answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        head = await reader.readuntil(b"\r\n\r\n")
        length = int(head.lower().split(b"content-length:")[1].split(b"\r\n")[0])
        seen.append(await reader.readexactly(length))
        body = json.dumps({"ok": True, "result": True}).encode()
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n%s" % (len(body), body))
        await writer.drain()
        writer.close()

    server, url = await serve(answer)
    async with server:
        data = RequestData(
            [
                param("chat_id", 42),
                param("text", "é & ü"),
            ]
        )
        status, body = await request_.do_request(url, "POST", data)
    assert status == 200 and json.loads(body) == {"ok": True, "result": True}
    assert b"chat_id=42" in seen[0] and b"text=%C3%A9+%26+%C3%BC" in seen[0]


async def test_a_file_goes_as_a_multipart_form(request_: AiohttpRequest) -> None:
    seen: list[bytes] = []

    async def answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        head = await reader.readuntil(b"\r\n\r\n")
        length = int(head.lower().split(b"content-length:")[1].split(b"\r\n")[0])
        seen.append(head + await reader.readexactly(length))
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n{}")
        await writer.drain()
        writer.close()

    server, url = await serve(answer)
    document = InputFile(b"%PDF-1.4 poster", filename="affiche.pdf")
    async with server:
        data = RequestData(
            [
                param("chat_id", 42),
                param("document", document),
            ]
        )
        status, _ = await request_.do_request(url, "POST", data)
    assert status == 200
    assert b"multipart/form-data" in seen[0] and b'filename="affiche.pdf"' in seen[0]
    assert b"%PDF-1.4 poster" in seen[0] and b"42" in seen[0]


async def test_a_server_that_never_answers_is_a_timeout(request_: AiohttpRequest) -> None:
    async def silent(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await asyncio.sleep(5)

    server, url = await serve(silent)
    async with server:
        with pytest.raises(TimedOut):
            await request_.do_request(url, "POST", RequestData([param("a", 1)]))


async def test_a_server_that_is_not_there_is_a_network_error(request_: AiohttpRequest) -> None:
    server, url = await serve(lambda _r, _w: None)
    server.close()
    await server.wait_closed()
    with pytest.raises(NetworkError):
        await request_.do_request(url, "POST", RequestData([param("a", 1)]))


async def test_the_proxy_the_environment_names_carries_the_calls(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    lines: list[bytes] = []

    async def proxy(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        head = await reader.readuntil(b"\r\n\r\n")
        lines.append(head.split(b"\r\n")[0])
        if b"content-length:" in head.lower():
            length = int(head.lower().split(b"content-length:")[1].split(b"\r\n")[0])
            await reader.readexactly(length)
        writer.write(b"HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 2\r\n\r\n{}")
        await writer.drain()
        writer.close()

    server, url = await serve(proxy)
    for name in ("NO_PROXY", "no_proxy", "HTTPS_PROXY", "https_proxy", "ALL_PROXY", "all_proxy"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HTTP_PROXY", url.split("/bot")[0])
    transport = AiohttpRequest()
    await transport.initialize()
    try:
        async with server:
            for _ in range(2):
                status, _ = await transport.do_request(
                    "http://api.telegram.example/bot1:x/getMe", "POST", None
                )
                assert status == 200
    finally:
        await transport.shutdown()
    assert lines == [b"POST http://api.telegram.example/bot1:x/getMe HTTP/1.1"] * 2
