"""The engine's setup for :class:`~fish_bot.database.service.DatabaseService`: SQLite's
pragmas and ``BEGIN IMMEDIATE``, the statement and transaction counters, and which connection
errors are worth retrying."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError
from sqlalchemy.ext.asyncio import AsyncEngine

SQLITE_BUSY_TIMEOUT_MS = 30_000
#: Execution option that makes a SQLite transaction start with BEGIN IMMEDIATE.
IMMEDIATE = "fishbot_sqlite_immediate"
#: Execution option of a one-statement read: no BEGIN/COMMIT round trips around it.
READ_ONLY = "fishbot_read_only"


@dataclass
class QueryStats:
    """Counters kept for health and metrics."""

    queries: int = 0
    total_seconds: float = 0.0
    errors: int = 0
    retries: int = 0
    by_statement: dict[str, int] = field(default_factory=dict)
    #: Transactions begun, committed and rolled back (each is a round trip on its own).
    transactions: int = 0
    commits: int = 0
    rollbacks: int = 0


def is_transient(error: BaseException) -> bool:
    """Whether a connection-level error is worth retrying."""
    if isinstance(error, (ConnectionError, TimeoutError, OSError)):
        return True
    if isinstance(error, DBAPIError) and error.connection_invalidated:
        return True
    if isinstance(error, InterfaceError):
        return True
    if isinstance(error, OperationalError):
        text = str(error.orig).lower() if error.orig is not None else str(error).lower()
        transient = (
            "connection",
            "could not connect",
            "timeout",
            "too many clients",
            "the database system is starting up",
            "server closed",
            "unable to open database",
            "database is locked",
        )
        return any(word in text for word in transient)
    name = type(error).__name__
    return name in {
        "CannotConnectNowError",
        "TooManyConnectionsError",
        "ConnectionDoesNotExistError",
    }


def install_listeners(engine: AsyncEngine, stats: QueryStats, *, sqlite: bool) -> None:
    """SQLite's pragmas and BEGIN (IMMEDIATE) on ``engine``, and the counters kept in ``stats``."""
    sync_engine = engine.sync_engine

    if sqlite:

        @event.listens_for(sync_engine, "connect")
        def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
            # Let SQLAlchemy (not the driver) decide when transactions begin.
            dbapi_connection.isolation_level = None
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.close()

        @event.listens_for(sync_engine, "begin")
        def _sqlite_begin(conn: sa.Connection) -> None:
            options = conn.get_execution_options()
            if options.get(READ_ONLY, False):
                return  # the driver runs the statement in autocommit mode: no BEGIN
            conn.exec_driver_sql("BEGIN IMMEDIATE" if options.get(IMMEDIATE) else "BEGIN")

    def real(conn: sa.Connection) -> bool:
        return not conn.get_execution_options().get(READ_ONLY, False)

    @event.listens_for(sync_engine, "begin")
    def _count_begin(conn: sa.Connection) -> None:
        if real(conn):
            stats.transactions += 1

    @event.listens_for(sync_engine, "commit")
    def _count_commit(conn: sa.Connection) -> None:
        if real(conn):
            stats.commits += 1

    @event.listens_for(sync_engine, "rollback")
    def _count_rollback(conn: sa.Connection) -> None:
        if real(conn):
            stats.rollbacks += 1

    @event.listens_for(sync_engine, "before_cursor_execute")
    def _before(
        conn: Any, _cursor: Any, _stmt: Any, _params: Any, context: Any, _many: Any
    ) -> None:
        conn.info.setdefault("fishbot_query_start", []).append(time.perf_counter())

    @event.listens_for(sync_engine, "after_cursor_execute")
    def _after(conn: Any, _cursor: Any, stmt: str, _params: Any, _context: Any, _many: Any) -> None:
        starts = conn.info.get("fishbot_query_start")
        if starts:
            stats.total_seconds += time.perf_counter() - starts.pop()
        stats.queries += 1
        verb = stmt.lstrip().split(None, 1)[0].upper() if stmt.strip() else "?"
        stats.by_statement[verb] = stats.by_statement.get(verb, 0) + 1

    @event.listens_for(sync_engine, "handle_error")
    def _error(_context: Any) -> None:
        stats.errors += 1


def short_error(error: BaseException) -> str:
    """A one-line description of an error, without SQL or parameters."""
    orig = getattr(error, "orig", None)
    text = str(orig) if orig is not None else str(error)
    first = text.strip().splitlines()[0] if text.strip() else type(error).__name__
    return f"{type(orig or error).__name__}: {first}"[:300]
