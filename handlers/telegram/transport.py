"""The Bot API's HTTP transport: python-telegram-bot's requests carried by aiohttp.

python-telegram-bot sends through httpx by default. Under load the httpx stack (httpx,
httpcore, anyio, h11, all pure Python) was two thirds of the CPU a turn spent: about a
millisecond per Bot API call. aiohttp parses HTTP in C and keeps its connections alive the
same way, so the same calls cost a fraction of that. python-telegram-bot builds every request
and reads every answer as before: only the bytes on the wire go another way."""

from __future__ import annotations

import asyncio
from types import SimpleNamespace

import aiohttp
from aiohttp.helpers import get_env_proxy_for_url
from telegram._utils.defaultvalue import DefaultValue
from telegram._utils.types import ODVInput
from telegram.error import NetworkError, TimedOut
from telegram.request import BaseRequest, RequestData
from yarl import URL

CONNECT_TIMEOUT = 5.0
READ_TIMEOUT = 5.0
WRITE_TIMEOUT = 5.0
POOL_TIMEOUT = 1.0
MEDIA_WRITE_TIMEOUT = 20.0


class AiohttpRequest(BaseRequest):
    """One aiohttp session, `pool_size` connections kept alive to the Bot API.

    `sent` (with watch_sent) is set once a request's headers go on the wire: for the long
    polls, the moment Telegram can start handing updates over."""

    def __init__(
        self,
        pool_size: int = 256,
        read_timeout: float | None = READ_TIMEOUT,
        *,
        watch_sent: bool = False,
    ) -> None:
        self._pool_size = pool_size
        self._read_timeout = read_timeout
        self._session: aiohttp.ClientSession | None = None
        self.sent: asyncio.Event | None = asyncio.Event() if watch_sent else None
        # The proxy the environment names for each host (HTTPS_PROXY, NO_PROXY...), as httpx
        # honours them: looked up once. aiohttp's trust_env looks it up, and ~/.netrc, on
        # every request, each in a thread: 0.6 ms of CPU per Bot API call.
        self._proxies: dict[str, tuple[URL | None, aiohttp.BasicAuth | None]] = {}

    @property
    def read_timeout(self) -> float | None:
        return self._read_timeout

    async def initialize(self) -> None:
        if self._session is None or self._session.closed:
            traces: list[aiohttp.TraceConfig] = []
            if self.sent is not None:
                # Only on the session that asks for it (the long polls, a few a minute):
                # a trace costs every request of its session a few awaits.
                trace = aiohttp.TraceConfig()
                trace.on_request_headers_sent.append(self._headers_sent)
                traces.append(trace)
            self._session = aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(limit=self._pool_size, ttl_dns_cache=300),
                headers={"User-Agent": self.USER_AGENT},
                # Bot API answers are JSON the base class parses; cookies never matter.
                cookie_jar=aiohttp.DummyCookieJar(),
                skip_auto_headers=("Accept-Encoding",),
                trace_configs=traces,
            )

    async def _headers_sent(
        self,
        _session: aiohttp.ClientSession,
        _context: SimpleNamespace,
        _params: aiohttp.TraceRequestHeadersSentParams,
    ) -> None:
        # aiohttp writes the buffered headers and the body right after this, in the same
        # step of the request's task: whoever waits on `sent` resumes once they are out.
        if self.sent is not None:
            self.sent.set()

    async def _proxy_for(self, url: str) -> tuple[URL | None, aiohttp.BasicAuth | None]:
        target = URL(url)
        host = target.host or ""
        if host not in self._proxies:
            try:
                self._proxies[host] = await asyncio.to_thread(get_env_proxy_for_url, target)
            except LookupError:  # no proxy for this host
                self._proxies[host] = (None, None)
        return self._proxies[host]

    async def shutdown(self) -> None:
        if self._session is not None and not self._session.closed:
            await self._session.close()
        self._session = None

    async def do_request(
        self,
        url: str,
        method: str,
        request_data: RequestData | None = None,
        read_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
        write_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
        connect_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
        pool_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
    ) -> tuple[int, bytes]:
        session = self._session
        if session is None or session.closed:
            raise RuntimeError("This AiohttpRequest is not initialized!")
        files = request_data.multipart_data if request_data else None
        read = self._read_timeout if isinstance(read_timeout, DefaultValue) else read_timeout
        connect = CONNECT_TIMEOUT if isinstance(connect_timeout, DefaultValue) else connect_timeout
        pool = POOL_TIMEOUT if isinstance(pool_timeout, DefaultValue) else pool_timeout
        default_write = MEDIA_WRITE_TIMEOUT if files else WRITE_TIMEOUT
        write = default_write if isinstance(write_timeout, DefaultValue) else write_timeout
        body: aiohttp.FormData | dict[str, str] | None
        if files:
            body = aiohttp.FormData(quote_fields=False)
            for name, value in (request_data.json_parameters if request_data else {}).items():
                body.add_field(name, value)
            for name, (filename, content, mime) in files.items():
                body.add_field(name, content, filename=filename, content_type=mime)
        else:
            body = request_data.json_parameters if request_data else None
        total = None
        if read is not None:
            total = read + (write or 0) + (connect or 0) + (pool or 0)
        timeout = aiohttp.ClientTimeout(total=total, connect=connect, sock_read=read)
        proxy, proxy_auth = await self._proxy_for(url)
        try:
            async with session.request(
                method, url, data=body, timeout=timeout, proxy=proxy, proxy_auth=proxy_auth
            ) as response:
                return response.status, await response.read()
        except TimeoutError as error:
            raise TimedOut from error
        except aiohttp.ClientError as error:
            raise NetworkError(f"aiohttp.{error.__class__.__name__}: {error}") from error
