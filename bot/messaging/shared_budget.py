"""A sending budget shared by every worker: Telegram and Twilio count the bot as a whole,
not each process.

Each limit is a cell rate (GCRA): one stored instant per key, the earliest time the next
send may go; a send moves it on by the interval (1/rate). Two kinds of request:
- `reserve`: take the next free instant whatever it is and return how long to wait for it
  (the overall rate: every chat shares it, so there is nothing better to do meanwhile);
- `try_take`: take it only if it is free now, else leave it and say how long until it is
  (one chat's window: the dispatcher sends to other chats meanwhile).
Time is the store's own clock (Redis TIME, PostgreSQL clock_timestamp()), so workers on
machines whose clocks differ still space their sends correctly.

Redis when REDIS_URL is set; else PostgreSQL when the database is and WORKERS > 1; else
none (one process: the in-memory limiter is exact and costs no round trip)."""

from __future__ import annotations

import logging
from typing import Any, Protocol

from sqlalchemy import text

from bot.config import Settings
from storage.database import Database

log = logging.getLogger(__name__)
# Chats whose next free instant is this far in the past are forgotten (bounded storage).
FORGET_AFTER_SECONDS = 3600
FORGET_EVERY = 5000


class SharedBudget(Protocol):
    async def reserve(self, key: str, interval: float) -> float:
        """Take the next free instant of `key`; seconds until it (0 when now)."""
        ...

    async def try_take(self, key: str, interval: float) -> float:
        """0 when `key` was free and is now taken, else seconds until it is (not taken)."""
        ...

    async def hold(self, key: str, seconds: float) -> None:
        """Nobody uses `key` for `seconds` (the provider asked us to wait)."""
        ...

    async def close(self) -> None: ...


# KEYS[1]: the key; ARGV: interval, mode ('reserve', 'try' or 'hold'). Returns the seconds
# to wait as a string (Lua numbers would be truncated to integers on the way out).
REDIS_SCRIPT = """
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
local interval = tonumber(ARGV[1])
local mode = ARGV[2]
local tat = tonumber(redis.call('GET', KEYS[1]) or '0')
if tat < now then tat = now end
if mode == 'hold' then
  local until_ = math.max(tat, now + interval)
  redis.call('SET', KEYS[1], string.format('%.6f', until_), 'PX',
             math.ceil((until_ - now) * 1000) + 60000)
  return '0'
end
if mode == 'try' and tat > now then
  return string.format('%.6f', tat - now)
end
local next_ = tat + interval
redis.call('SET', KEYS[1], string.format('%.6f', next_), 'PX',
           math.ceil((next_ - now) * 1000) + 60000)
if mode == 'try' then return '0' end
return string.format('%.6f', tat - now)
"""


class RedisBudget:
    """The budget in Redis: one Lua script call per request, atomic on the server."""

    def __init__(self, url: str, prefix: str = "renfort:rate:") -> None:
        from redis.asyncio import Redis  # only operators with REDIS_URL need it loaded

        self._redis: Any = Redis.from_url(url)
        self._script: Any = self._redis.register_script(REDIS_SCRIPT)
        self._prefix = prefix

    async def _call(self, key: str, interval: float, mode: str) -> float:
        answer = await self._script(keys=[self._prefix + key], args=[repr(interval), mode])
        return max(0.0, float(answer))

    async def reserve(self, key: str, interval: float) -> float:
        return await self._call(key, interval, "reserve")

    async def try_take(self, key: str, interval: float) -> float:
        return await self._call(key, interval, "try")

    async def hold(self, key: str, seconds: float) -> None:
        await self._call(key, seconds, "hold")

    async def close(self) -> None:
        await self._redis.aclose()


_NOW = "CAST(extract(epoch from clock_timestamp()) AS float8)"
_RESERVE = text(
    f"""
    INSERT INTO rate_budgets (key, next_at) VALUES (:key, {_NOW} + CAST(:interval AS float8))
    ON CONFLICT (key) DO UPDATE
        SET next_at = greatest(rate_budgets.next_at, {_NOW}) + CAST(:interval AS float8)
    RETURNING next_at - CAST(:interval AS float8) - {_NOW}
    """
)
_TRY = text(
    f"""
    INSERT INTO rate_budgets (key, next_at) VALUES (:key, {_NOW} + CAST(:interval AS float8))
    ON CONFLICT (key) DO UPDATE
        SET next_at = greatest(rate_budgets.next_at, {_NOW}) + CAST(:interval AS float8)
        WHERE rate_budgets.next_at <= {_NOW}
    RETURNING 0
    """
)
_UNTIL_FREE = text(f"SELECT next_at - {_NOW} FROM rate_budgets WHERE key = :key")
_HOLD = text(
    f"""
    INSERT INTO rate_budgets (key, next_at) VALUES (:key, {_NOW} + CAST(:seconds AS float8))
    ON CONFLICT (key) DO UPDATE
        SET next_at = greatest(rate_budgets.next_at, {_NOW} + CAST(:seconds AS float8))
    """
)
_FORGET = text(f"DELETE FROM rate_budgets WHERE next_at < {_NOW} - CAST(:age AS float8)")


class PostgresBudget:
    """The budget in the rate_budgets table: one upsert per request, the row lock keeping
    two workers from taking the same instant."""

    def __init__(self, db: Database) -> None:
        self._db = db
        self._requests = 0

    async def reserve(self, key: str, interval: float) -> float:
        async with self._db.transaction("rate_budget_reserve") as conn:
            wait = await conn.scalar(_RESERVE, {"key": key, "interval": interval})
        return max(0.0, float(wait or 0.0))

    async def try_take(self, key: str, interval: float) -> float:
        self._requests += 1
        async with self._db.transaction("rate_budget_try") as conn:
            if self._requests % FORGET_EVERY == 0:
                await conn.execute(_FORGET, {"age": FORGET_AFTER_SECONDS})
            taken = (await conn.execute(_TRY, {"key": key, "interval": interval})).first()
            if taken is not None:
                return 0.0
            wait = await conn.scalar(_UNTIL_FREE, {"key": key})
        # A free instant lost to another worker between the two statements: try soon again.
        return max(0.001, float(wait or 0.0))

    async def hold(self, key: str, seconds: float) -> None:
        async with self._db.transaction("rate_budget_hold") as conn:
            await conn.execute(_HOLD, {"key": key, "seconds": seconds})

    async def close(self) -> None:
        """The database belongs to the service; nothing of ours to close."""


def shared_budget(settings: Settings, db: Database) -> SharedBudget | None:
    """Where the workers keep their common budget, if they need one."""
    if settings.redis_url is not None:
        log.info("send rates are shared through Redis")
        return RedisBudget(settings.redis_url)
    if not db.is_sqlite and settings.workers > 1:
        log.info("send rates are shared through PostgreSQL")
        return PostgresBudget(db)
    return None
