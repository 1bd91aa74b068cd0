"""The browser side of a board session: the signed cookie, the CSRF token of its forms, and
the rate limit on redeeming links."""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time
from collections import deque

COOKIE = "renfort_board"
LANG_COOKIE = "renfort_board_lang"


class Signer:
    """Signs the session cookie and derives the forms' CSRF tokens from it. The key comes
    from the bot's token, which every worker shares: a cookie opens the board on any of them,
    and a new bot token signs everybody out."""

    def __init__(self, secret: str | None) -> None:
        seed = secret.encode("utf-8") if secret else secrets.token_bytes(32)
        self._key = hmac.new(seed, b"renfort board cookie", hashlib.sha256).digest()

    def _mac(self, purpose: bytes, value: str) -> str:
        return hmac.new(self._key, purpose + value.encode("utf-8"), hashlib.sha256).hexdigest()

    def sign(self, token: str) -> str:
        return f"{token}.{self._mac(b'cookie:', token)}"

    def unsign(self, cookie: str | None) -> str | None:
        """The session secret in a cookie, or None when the signature does not match."""
        if not cookie or "." not in cookie or len(cookie) > 200:
            return None
        token, _, mac = cookie.rpartition(".")
        return token if hmac.compare_digest(mac, self._mac(b"cookie:", token)) else None

    def csrf(self, token: str) -> str:
        """A form token only the holder of the session cookie can know."""
        return self._mac(b"csrf:", token)

    def csrf_ok(self, token: str, given: str | None) -> bool:
        return given is not None and hmac.compare_digest(given.encode(), self.csrf(token).encode())


class Attempts:
    """At most `limit` link redemptions per client address in `window` seconds, in this
    process: a guesser gets a few tries a minute against 2^256 possible links."""

    def __init__(self, limit: int = 10, window: float = 60.0) -> None:
        self.limit = limit
        self.window = window
        self._seen: dict[str, deque[float]] = {}

    def allow(self, client: str) -> bool:
        now = time.monotonic()
        seen = self._seen.setdefault(client, deque())
        while seen and seen[0] <= now - self.window:
            seen.popleft()
        if len(seen) >= self.limit:
            return False
        seen.append(now)
        if len(self._seen) > 10_000:  # forget quiet addresses rather than grow forever
            for key in [k for k, v in self._seen.items() if v[-1] <= now - self.window]:
                del self._seen[key]
        return True
