"""SQLite statements in one trip to the driver's thread.

aiosqlite runs each sqlite3 call in its own thread; SQLAlchemy's adapter makes four calls
for every statement (open a cursor, execute, fetch the rows, close), each a hand-off to that
thread and a wake-up of the event loop (three for a statement run once per parameter set).
Here they run together in the thread: one hand-off per statement (a callout tap burst
measured 11–25 % less CPU per tap).

A transaction's BEGIN goes with its first statement, in the same hand-off: a turn's read (BEGIN,
one statement, COMMIT) is two trips instead of three. Each trip hands the GIL to the driver's
thread and back, which under a hundred updates a second was a tenth of a turn's CPU. BEGIN
DEFERRED takes no lock until the first statement anyway; BEGIN IMMEDIATE now takes the write
lock with it, inside the same transaction, as the first thing it does."""

from __future__ import annotations

import sqlite3
from collections import deque
from typing import Any

import aiosqlite
from sqlalchemy.dialects.sqlite.aiosqlite import (
    AsyncAdapt_aiosqlite_connection,
    AsyncAdapt_aiosqlite_cursor,
    AsyncAdapt_aiosqlite_dbapi,
)

# description, rows, lastrowid, rowcount: what SQLAlchemy reads from a DB-API cursor.
Outcome = tuple[Any, list[Any] | None, int | None, int]


def _run(connection: sqlite3.Connection, operation: str, parameters: Any) -> Outcome:
    """In the driver's thread: the whole statement, rows included."""
    cursor = connection.cursor()
    try:
        if parameters is None:
            cursor.execute(operation)
        else:
            cursor.execute(operation, parameters)
        if cursor.description:
            return cursor.description, cursor.fetchall(), -1, -1
        return None, None, cursor.lastrowid, cursor.rowcount
    finally:
        cursor.close()


def _begun(run: Any, begin: str | None, connection: sqlite3.Connection, *arguments: Any) -> Any:
    """In the driver's thread: the BEGIN held back for this statement, then the statement."""
    if begin is not None:
        connection.execute(begin)
    return run(connection, *arguments)


def _run_many(
    connection: sqlite3.Connection, operation: str, seq_of_parameters: Any
) -> tuple[int | None, int]:
    """In the driver's thread: one statement for every parameter set (lastrowid, rowcount)."""
    cursor = connection.cursor()
    try:
        cursor.executemany(operation, seq_of_parameters)
        return cursor.lastrowid, cursor.rowcount
    finally:
        cursor.close()


# Set on aiosqlite's connection object (SQLAlchemy's adapter has no room for it).
HELD_BEGIN = "_renfort_held_begin"
BEGINS = frozenset({"BEGIN", "BEGIN DEFERRED", "BEGIN IMMEDIATE", "BEGIN EXCLUSIVE"})


def take_held_begin(driver: Any) -> str | None:
    begin: str | None = getattr(driver, HELD_BEGIN, None)
    if begin is not None:
        setattr(driver, HELD_BEGIN, None)
    return begin


class OneHopCursor(AsyncAdapt_aiosqlite_cursor):
    __slots__ = ()

    def executemany(self, operation: Any, seq_of_parameters: Any) -> Any:
        try:
            driver: Any = self._connection
            begin = take_held_begin(driver)
            lastrowid, rowcount = self.await_(
                driver._execute(
                    _begun, _run_many, begin, driver._conn, operation, seq_of_parameters
                )
            )
        except Exception as error:
            self._adapt_connection._handle_exception(error)
        self.description = None
        self.lastrowid, self.rowcount = lastrowid, rowcount

    def execute(self, operation: Any, parameters: Any = None) -> Any:
        # aiosqlite's queue of calls for its thread; not typed, hence Any.
        driver: Any = self._connection
        if not parameters and isinstance(operation, str) and operation.upper() in BEGINS:
            setattr(driver, HELD_BEGIN, operation)  # sent with the next statement
            self.description, self.lastrowid, self.rowcount = None, -1, -1
            return
        try:
            begin = take_held_begin(driver)
            description, rows, lastrowid, rowcount = self.await_(
                driver._execute(_begun, _run, begin, driver._conn, operation, parameters)
            )
        except Exception as error:
            self._adapt_connection._handle_exception(error)
        self.description = description
        if rows is not None:
            self._rows = deque(rows)
        self.lastrowid, self.rowcount = lastrowid, rowcount


class OneHopConnection(AsyncAdapt_aiosqlite_connection):
    __slots__ = ()

    def rollback(self) -> None:
        # SQLAlchemy's pool rolls back every connection handed back to it, even right after
        # a commit: with no transaction open there is nothing to undo, and no trip to the
        # driver's thread (idle then: every call on this connection has returned).
        driver: Any = self._connection
        take_held_begin(driver)
        if driver._conn.in_transaction:
            super().rollback()

    def commit(self) -> None:
        driver: Any = self._connection
        if take_held_begin(driver) is not None:
            return  # a transaction without a statement: SQLite never began it
        super().commit()

    def cursor(self, server_side: bool = False) -> AsyncAdapt_aiosqlite_cursor:
        if server_side:
            return super().cursor(server_side)
        return OneHopCursor(self)


class OneHopDbapi(AsyncAdapt_aiosqlite_dbapi):
    """The aiosqlite DB-API SQLAlchemy uses, with one-trip statements."""

    def connect(self, *arg: Any, **kw: Any) -> AsyncAdapt_aiosqlite_connection:
        connection = super().connect(*arg, **kw)
        if type(connection) is AsyncAdapt_aiosqlite_connection:
            connection.__class__ = OneHopConnection  # same slots: only the cursor differs
        return connection


def one_hop_dbapi() -> OneHopDbapi:
    return OneHopDbapi(aiosqlite, sqlite3)
