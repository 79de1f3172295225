"""SQLite through aiosqlite in one trip to its thread per statement.

aiosqlite runs each call on a worker thread of its own: a call is a queue put, a thread
wake-up and a hop back to the event loop, a tenth of a millisecond or more each on a busy
machine. SQLAlchemy's aiosqlite adapter makes four such calls per statement (make a cursor,
execute, fetch the rows, close the cursor) and one more for every COMMIT and ROLLBACK, even
when no transaction is open and sqlite3 makes them no-ops. This adapter runs the whole
statement (cursor, execute, rows, close) in one call, and leaves COMMIT and ROLLBACK out when
sqlite3 says no transaction is open. What reaches SQLite is the same: the same statements, in
the same order, on the same connection.

Server-side cursors (streamed results) keep SQLAlchemy's own adapter. The service passes
:func:`one_trip_dbapi` as ``create_async_engine(module=...)`` for ``sqlite+aiosqlite`` URLs.
"""

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
from sqlalchemy.util import EMPTY_DICT
from sqlalchemy.util.concurrency import await_

#: What one call on the worker thread hands back: description, rows, rowcount, lastrowid.
Outcome = tuple[Any, list[Any], int, int | None]


def _run_statement(
    connection: sqlite3.Connection, operation: str, parameters: Any, many: bool
) -> Outcome:
    """On aiosqlite's thread: the whole statement, from a new cursor to its closing."""
    cursor = connection.cursor()
    try:
        if many:
            cursor.executemany(operation, parameters)
        elif parameters is None:
            cursor.execute(operation)
        else:
            cursor.execute(operation, parameters)
        description = cursor.description
        rows = cursor.fetchall() if description else []
        return description, rows, cursor.rowcount, cursor.lastrowid
    finally:
        cursor.close()


class OneTripCursor(AsyncAdapt_aiosqlite_cursor):
    """A cursor whose statement runs in one call on aiosqlite's thread; its rows are kept
    here (as SQLAlchemy's adapter keeps them), so fetching them costs no further call."""

    __slots__ = ("_arraysize", "_description", "_lastrowid", "_rowcount")

    _awaitable_cursor_close = False  # nothing to close on the thread: the cursor is gone

    def __init__(self, adapt_connection: AsyncAdapt_aiosqlite_connection) -> None:
        # No call to the parent: it would open a driver cursor (a call of its own).
        self._adapt_connection = adapt_connection
        self._connection = adapt_connection._connection
        self._cursor = None  # type: ignore[assignment]
        self._soft_closed_memoized = EMPTY_DICT
        self._rows = deque()
        self._description: Any = None
        self._rowcount = -1
        self._lastrowid: int | None = None
        self._arraysize = 1

    @property
    def description(self) -> Any:
        return self._description

    @property
    def rowcount(self) -> int:
        return self._rowcount

    @property
    def lastrowid(self) -> int:
        return self._lastrowid  # type: ignore[return-value]

    @property
    def arraysize(self) -> int:
        return self._arraysize

    @arraysize.setter
    def arraysize(self, value: int) -> None:
        self._arraysize = value

    def execute(self, operation: Any, parameters: Any = None) -> Any:
        try:
            return await_(self._run(operation, parameters, many=False))
        except Exception as error:
            self._adapt_connection._handle_exception(error)

    def executemany(self, operation: Any, seq_of_parameters: Any) -> Any:
        try:
            return await_(self._run(operation, seq_of_parameters, many=True))
        except Exception as error:
            self._adapt_connection._handle_exception(error)

    async def _run(self, operation: str, parameters: Any, *, many: bool) -> None:
        driver: aiosqlite.Connection = self._connection  # type: ignore[assignment]
        async with self._adapt_connection._execute_mutex:
            outcome: Outcome = await driver._execute(
                _run_statement, driver._conn, operation, parameters, many
            )
        self._description, rows, self._rowcount, self._lastrowid = outcome
        self._rows = deque(rows)

    def close(self) -> None:
        self._rows.clear()


class OneTripConnection(AsyncAdapt_aiosqlite_connection):
    """SQLAlchemy's aiosqlite connection with :class:`OneTripCursor`, and no COMMIT or
    ROLLBACK call when no transaction is open (sqlite3 would do nothing with it)."""

    __slots__ = ()

    _cursor_cls = OneTripCursor  # type: ignore[assignment]  # a subclass of the base type

    def _idle(self) -> bool:
        """No transaction open on the connection (read without a call to its thread)."""
        driver: Any = self._connection
        sqlite_connection = getattr(driver, "_connection", None)
        return sqlite_connection is not None and not sqlite_connection.in_transaction

    def commit(self) -> None:
        if not self._idle():
            super().commit()

    def rollback(self) -> None:
        if not self._idle():
            super().rollback()


class OneTripDBAPI(AsyncAdapt_aiosqlite_dbapi):
    """The DBAPI module SQLAlchemy's aiosqlite dialect is given: it makes
    :class:`OneTripConnection` connections."""

    def connect(self, *arg: Any, **kw: Any) -> OneTripConnection:
        creator = kw.pop("async_creator_fn", None)
        pending = creator(*arg, **kw) if creator else self.aiosqlite.connect(*arg, **kw)
        thread = getattr(pending, "_thread", None)
        if thread is not None:
            thread.daemon = True  # as SQLAlchemy's adapter: never keeps the process alive
        return OneTripConnection(self, await_(pending))


def one_trip_dbapi() -> OneTripDBAPI:
    """The module for ``create_async_engine(..., module=...)`` on ``sqlite+aiosqlite``."""
    return OneTripDBAPI(aiosqlite, sqlite3)
