"""The database handle: one named transaction per service call.

SQLite gets WAL, a busy timeout, foreign keys and IMMEDIATE write transactions, so two
writers queue instead of failing half-way; PostgreSQL gets row locks where capacity is at
stake (see `lock_for_update`)."""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from contextlib import asynccontextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Select, bindparam, delete, event, insert, select
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine

from storage import schema
from storage.changes import TOUCHED, TableChanges, changes_of, written_table
from storage.sqlite_one_hop import one_hop_dbapi

log = logging.getLogger(__name__)

SQLITE_BUSY_TIMEOUT_MS = 30_000
POOL_TIMEOUT_SECONDS = 60


# A write made ready by the table's own store, for a transaction not begun yet.
PendingWrite = Callable[[AsyncConnection], Awaitable[None]]


class AlreadyProcessed(Exception):
    """The inbound message (Telegram update, Twilio MessageSid) was handled before."""


@dataclass
class Inbound:
    """What a handler hands to a service so that the effect and its bookkeeping commit
    together: the inbound id (processed at most once) and the sender's next conversation
    state."""

    channel: str
    external_id: str
    conversation_key: str | None = None
    next_state: str | None = None
    next_data: dict[str, Any] = field(default_factory=dict)
    clear_state: bool = False
    # A state change decided but not written yet: the turn's end writes it if no service did.
    unsaved: bool = False
    # What the sender's row should say and does not yet, as the people store's write of it,
    # run by the turn's first write: a turn then writes once, or not at all when nothing
    # changes.
    sender_changes: PendingWrite | None = None

    def forget_state(self) -> None:
        """Drop a pending state change (its transaction failed)."""
        self.next_state, self.next_data, self.clear_state = None, {}, False
        self.unsaved = False

    def goto(self, state: str | None, **data: Any) -> Inbound:
        """Set the conversation state that commits with the effect (None ends it)."""
        if state is None:
            self.clear_state, self.next_state, self.next_data = True, None, {}
        else:
            self.clear_state, self.next_state, self.next_data = False, state, dict(data)
        self.unsaved = True
        return self


def async_url(url: str) -> str:
    """Map the configured URL to its asyncio driver."""
    parsed = make_url(url)
    backend = parsed.get_backend_name()
    if backend == "sqlite":
        return str(parsed.set(drivername="sqlite+aiosqlite"))
    if backend in ("postgresql", "postgres"):
        return parsed.set(drivername="postgresql+asyncpg").render_as_string(hide_password=False)
    raise ValueError(f"unsupported database {backend}")


@dataclass
class TransactionCounts:
    """How many write and read transactions this handle has begun (tests and benches check
    what one turn costs)."""

    writes: int = 0
    reads: int = 0


# The counts of the inbound turn running in this task, if any: what one update cost.
turn_costs: ContextVar[TransactionCounts | None] = ContextVar("turn_costs", default=None)


class Database:
    """An async engine with named transactions."""

    def __init__(
        self, url: str, *, echo: bool = False, pool_size: int = 10, max_overflow: int = 10
    ) -> None:
        self.url = async_url(url)
        self.is_sqlite = self.url.startswith("sqlite")
        kwargs: dict[str, Any] = {"echo": echo}
        if self.is_sqlite:
            kwargs["connect_args"] = {"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000}
            if ":memory:" in self.url or self.url.endswith("sqlite+aiosqlite://"):
                raise ValueError("use a file for SQLite: several connections must share it")
            kwargs["pool_size"] = 5
            kwargs["module"] = one_hop_dbapi()
        else:
            # Several workers share the server's connections (PostgreSQL allows 100 by
            # default): past the pool a caller waits for a connection instead of failing.
            kwargs["pool_size"] = pool_size
            kwargs["max_overflow"] = max_overflow
            kwargs["pool_timeout"] = POOL_TIMEOUT_SECONDS
        self.engine: AsyncEngine = create_async_engine(self.url, **kwargs)
        self.changes: TableChanges = changes_of(self.url)
        _count_writes(self.engine, self.changes)
        self._writers: tuple[asyncio.AbstractEventLoop, asyncio.Lock] | None = None
        if self.is_sqlite:
            _configure_sqlite(self.engine)

    async def close(self) -> None:
        await self.engine.dispose()

    @asynccontextmanager
    async def transaction(
        self, name: str, inbound: Inbound | None = None
    ) -> AsyncIterator[AsyncConnection]:
        """A write transaction named for the logs; claims `inbound` inside it."""
        started = time.perf_counter()
        if (costs := turn_costs.get()) is not None:
            costs.writes += 1
        # SQLite has one writer at a time: our writers queue here, in order, instead of in
        # SQLite's busy handler, whose growing sleeps (up to 100 ms) starve a burst.
        async with self._writer_turn(), self._transaction(inbound) as conn:
            yield conn
        log.debug("transaction %s took %.1f ms", name, (time.perf_counter() - started) * 1000)

    def _writer_turn(self) -> contextlib.AbstractAsyncContextManager[Any]:
        """The process's writer lock on SQLite (one per event loop: the CLI runs several)."""
        if not self.is_sqlite:
            return contextlib.nullcontext()
        loop = asyncio.get_running_loop()
        if self._writers is None or self._writers[0] is not loop:
            self._writers = (loop, asyncio.Lock())
        return self._writers[1]

    @asynccontextmanager
    async def _transaction(self, inbound: Inbound | None) -> AsyncIterator[AsyncConnection]:
        try:
            async with self.engine.connect() as conn:
                touched: set[str] = set()
                conn.sync_connection.info[TOUCHED] = touched  # type: ignore[union-attr]
                async with conn.begin():
                    if inbound is not None:
                        await claim_inbound(conn, inbound)
                        await save_sender_changes(conn, inbound)
                    yield conn
                    if inbound is not None:
                        await save_conversation(conn, inbound)
                self.changes.bump(touched)  # committed: a read begun before it is stale
                conn.sync_connection.info.pop(TOUCHED, None)  # type: ignore[union-attr]
        except BaseException:
            # The state change belonged to the effect that failed: the conversation stays
            # where it was unless the handler decides otherwise after the refusal.
            if inbound is not None:
                inbound.forget_state()
            raise

    @asynccontextmanager
    async def reading(self, name: str) -> AsyncIterator[AsyncConnection]:
        """A read-only transaction (no write lock on SQLite)."""
        if (costs := turn_costs.get()) is not None:
            costs.reads += 1
        async with self.engine.connect() as conn:
            conn = await conn.execution_options(renfort_read_only=True)
            async with conn.begin():
                yield conn
        log.debug("read %s done", name)

    def lock_for_update(self, query: Select[Any]) -> Select[Any]:
        """Lock the selected rows until commit; SQLite's IMMEDIATE lock already does it."""
        return query if self.is_sqlite else query.with_for_update()

    async def lock_rows(self, conn: AsyncConnection, query: Select[Any]) -> None:
        """Lock the selected rows until commit, reading nothing back: on SQLite the write
        transaction's IMMEDIATE lock already holds the whole database, so no statement."""
        if not self.is_sqlite:
            await conn.execute(query.with_for_update())


def _count_writes(engine: AsyncEngine, changes: TableChanges) -> None:
    @event.listens_for(engine.sync_engine, "before_cursor_execute")
    def _on_execute(
        conn: Any, _cursor: Any, statement: str, _parameters: Any, context: Any, _many: bool
    ) -> None:
        table = written_table(statement, context)
        if table is not None:
            changes.bump((table,))
            touched = conn.info.get(TOUCHED)
            if touched is not None:
                touched.add(table)


def _configure_sqlite(engine: AsyncEngine) -> None:
    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # The driver's own transaction handling is switched off so that BEGIN is ours.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(conn: Any) -> None:
        read_only = conn.get_execution_options().get("renfort_read_only", False)
        conn.exec_driver_sql("BEGIN DEFERRED" if read_only else "BEGIN IMMEDIATE")


def insert_ignore(conn: AsyncConnection, table: Any) -> Any:
    """INSERT ... ON CONFLICT DO NOTHING on either backend, values still to give."""
    return _insert_ignore(conn.dialect.name, table)


@functools.cache
def _insert_ignore(dialect: str, table: Any) -> Any:
    # Built once per table (every turn that writes claims its update with one); statements
    # are immutable, `.values()` makes a new one. Each dialect's module is loaded by its own
    # backend only (PostgreSQL's is heavy).
    if dialect == "sqlite":
        from sqlalchemy.dialects import sqlite

        return sqlite.insert(table).on_conflict_do_nothing()
    from sqlalchemy.dialects import postgresql

    return postgresql.insert(table).on_conflict_do_nothing()


def upsert_ignore(conn: AsyncConnection, table: Any, values: Mapping[str, Any]) -> Any:
    """INSERT ... ON CONFLICT DO NOTHING on either backend."""
    return insert_ignore(conn, table).values(**values)


async def is_processed(db: Database, channel: str, external_id: str) -> bool:
    """Whether an inbound id was already handled (a cheap early check)."""
    async with db.reading("is_processed") as conn:
        return await was_processed(conn, channel, external_id)


_IN, _CONVERSATIONS = schema.inbound_processed, schema.conversations
# Every turn runs these: built once (building one took longer than SQLite's answer).
_PROCESSED = select(_IN.c.channel).where(
    _IN.c.channel == bindparam("channel"), _IN.c.external_id == bindparam("external_id")
)
_CONVERSATION = select(_CONVERSATIONS.c.state, _CONVERSATIONS.c.data).where(
    _CONVERSATIONS.c.channel == bindparam("channel"),
    _CONVERSATIONS.c.chat_key == bindparam("chat_key"),
)


async def was_processed(conn: AsyncConnection, channel: str, external_id: str) -> bool:
    found = await conn.scalar(_PROCESSED, {"channel": channel, "external_id": external_id})
    return found is not None


async def _record_inbound(conn: AsyncConnection, inbound: Inbound) -> bool:
    """Insert the inbound id; False when it was already there."""
    values = {
        "channel": inbound.channel,
        "external_id": inbound.external_id,
        "processed_at": schema.now(),
    }
    result = await conn.execute(insert_ignore(conn, schema.inbound_processed), values)
    return bool(result.rowcount)


async def claim_inbound(conn: AsyncConnection, inbound: Inbound) -> None:
    """Record the inbound id; a second claim of the same id aborts the transaction."""
    if not await _record_inbound(conn, inbound):
        raise AlreadyProcessed(f"{inbound.channel}:{inbound.external_id}")


async def mark_processed(db: Database, inbound: Inbound) -> None:
    """Record an inbound id whose handling changed nothing else (idempotent)."""
    async with db.transaction("mark_processed") as conn:
        await _record_inbound(conn, inbound)
        await save_sender_changes(conn, inbound)
        await save_conversation(conn, inbound)


async def save_sender_changes(conn: AsyncConnection, inbound: Inbound) -> None:
    """Store what the sender's channel told us at the start of the turn, if anything."""
    if inbound.sender_changes is None:
        return
    await inbound.sender_changes(conn)
    # A later write of the same turn has nothing more to store (if this transaction rolls
    # back, the next update tells us again).
    inbound.sender_changes = None


async def save_conversation(conn: AsyncConnection, inbound: Inbound) -> None:
    """Write (or end) the sender's conversation state decided by the handler."""
    table = schema.conversations
    if inbound.conversation_key is None or (inbound.next_state is None and not inbound.clear_state):
        return
    key = (table.c.channel == inbound.channel) & (table.c.chat_key == inbound.conversation_key)
    await conn.execute(table.delete().where(key))
    if inbound.next_state is not None:
        await conn.execute(
            insert(table).values(
                channel=inbound.channel,
                chat_key=inbound.conversation_key,
                state=inbound.next_state,
                data=inbound.next_data,
                updated_at=schema.now(),
            )
        )
    inbound.unsaved = False


async def forget_conversations(
    conn: AsyncConnection, chat_keys: Sequence[str], telegram_user_id: int | None
) -> None:
    """End every conversation held under these chat keys (a phone, a private chat), and the
    Telegram user's in groups, whose keys end with ':' and the user's id."""
    table = schema.conversations
    if chat_keys:
        await conn.execute(delete(table).where(table.c.chat_key.in_(chat_keys)))
    if telegram_user_id is not None:
        await conn.execute(delete(table).where(table.c.chat_key.like(f"%:{int(telegram_user_id)}")))


async def load_conversation(
    db: Database, channel: str, chat_key: str
) -> tuple[str, dict[str, Any]] | None:
    """The stored conversation state of a chat, if any."""
    async with db.reading("load_conversation") as conn:
        return await select_conversation(conn, channel, chat_key)


async def select_conversation(
    conn: AsyncConnection, channel: str, chat_key: str
) -> tuple[str, dict[str, Any]] | None:
    row = (await conn.execute(_CONVERSATION, {"channel": channel, "chat_key": chat_key})).first()
    return None if row is None else (row.state, dict(row.data or {}))
