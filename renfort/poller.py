"""Which worker polls Telegram: getUpdates answers a second poller with 409 Conflict, so
with several workers on PostgreSQL the one holding an advisory lock polls and the others
only send, tick and serve HTTP. They try to take the lock every few seconds, so when the
poller dies (its session, and the lock with it, ends) another one starts polling."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable

from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncConnection

from storage.database import Database

log = logging.getLogger(__name__)
# "Renfort-P" in ASCII, beside the dispatcher's presence lock.
POLLER_LOCK = 0x52656E666F727450
ELECTION_SECONDS = 3.0


class PollerElection:
    """Runs `start` once this worker holds the poller lock, `stop` if it loses it."""

    def __init__(
        self,
        db: Database,
        start: Callable[[], Awaitable[None]],
        stop: Callable[[], Awaitable[None]],
        *,
        every: float = ELECTION_SECONDS,
    ) -> None:
        self._db = db
        self._start = start
        self._stop = stop
        self._every = every
        self.polling = False

    async def run(self) -> None:
        """Until cancelled: take the lock when free, poll while holding it."""
        while True:
            conn: AsyncConnection | None = None
            try:
                conn = await self._db.engine.connect()
                taken = bool(await conn.scalar(select(func.pg_try_advisory_lock(POLLER_LOCK))))
                await conn.commit()  # a session lock: no transaction stays open meanwhile
                if taken:
                    log.info("this worker polls Telegram")
                    await self._start()
                    self.polling = True
                    while True:  # the session is the lock: keep checking it is alive
                        await asyncio.sleep(self._every)
                        await conn.execute(text("SELECT 1"))
                        await conn.commit()
            except asyncio.CancelledError:
                raise
            except Exception as error:  # the database went away: the lock went with it
                log.warning("poller election: %s", error)
            finally:
                if self.polling:
                    self.polling = False
                    with contextlib.suppress(Exception):
                        await self._stop()
                if conn is not None:
                    with contextlib.suppress(Exception):
                        # Never back to the pool: the lock must end with this session.
                        await conn.invalidate()
                        await conn.close()
            await asyncio.sleep(self._every)
