"""DatabaseService: one async engine per process, sessions and ambient transactions.

* ``session()`` gives a session. Inside a ``transaction()`` of the same task it is that
  transaction's session (nothing is committed when it closes); otherwise it is a fresh session
  that commits when the block ends cleanly and rolls back when it raises.
* ``transaction()`` opens a transaction and makes it *ambient*: every ``session()`` (so every
  controller call) made in the same asyncio task joins it, so several controller calls commit or
  roll back together. A nested ``transaction()`` becomes a SAVEPOINT.
* ``after_commit(callback)`` runs ``callback`` once the work done so far is committed: at once
  when no transaction is open, after the outermost ``transaction()`` commits otherwise; it is
  dropped when that transaction (or the SAVEPOINT it was registered in) rolls back.
* SQLite is opened with WAL, foreign keys and a busy timeout, and write transactions start with
  ``BEGIN IMMEDIATE`` so that concurrent writers queue instead of failing; this process's
  writers queue on an asyncio lock first (in order, no busy-handler sleeps). One-statement
  reads (``session(read_only=True)``) run outside any transaction.
* ``bus`` (a :class:`~fish_bot.database.notify.CacheBus`) tells the bot's other processes
  which cached data a write changed (PostgreSQL NOTIFY in the write's transaction, or Redis).
* Connecting is retried a bounded number of times with backoff on transient errors; then
  :class:`~fish_bot.exceptions.DatabaseUnavailable` is raised.

The writer queue, the opening of a session of its own and the retries are in
:mod:`fish_bot.database.sessions`.
"""

from __future__ import annotations

import asyncio
import contextvars
import inspect
import logging
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

from fish_bot.database.engine import (
    SQLITE_BUSY_TIMEOUT_MS,
    QueryStats,
    install_listeners,
    short_error,
)
from fish_bot.database.notify import CacheBus
from fish_bot.database.sessions import SessionOpeningMixin
from fish_bot.exceptions import DatabaseUnavailable

if TYPE_CHECKING:
    from fish_bot.config import Settings

log = logging.getLogger(__name__)


AfterCommit = Callable[[], object]
"""A callback run after a commit: a plain function, or an async one (its result is awaited)."""


@dataclass
class _Ambient:
    """The transaction a task has open: its session, the task that owns it and the callbacks
    waiting for its commit (one list per open SAVEPOINT level, the outermost first)."""

    session: AsyncSession
    task: asyncio.Task[Any] | None
    depth: int = 0
    after_commit: list[list[AfterCommit]] = field(default_factory=lambda: [[]])


_ambient: contextvars.ContextVar[_Ambient | None] = contextvars.ContextVar(
    "fishbot_ambient_transaction", default=None
)


class DatabaseService(SessionOpeningMixin):
    """Owns the engine and hands out sessions and transactions."""

    def __init__(
        self,
        url: str,
        *,
        echo: bool = False,
        pool_size: int = 5,
        max_overflow: int = 10,
        pool_timeout: float = 30.0,
        connect_retries: int = 3,
        retry_backoff: float = 0.25,
        engine_options: dict[str, Any] | None = None,
    ) -> None:
        self.url = url
        self.echo = echo
        self.pool_size = pool_size
        self.max_overflow = max_overflow
        self.pool_timeout = pool_timeout
        self.connect_retries = connect_retries
        self.retry_backoff = retry_backoff
        #: Extra keyword arguments for ``create_async_engine`` (e.g. ``connect_args``).
        self.engine_options = dict(engine_options or {})
        self._dialect_of: tuple[str, str] | None = None
        self.stats = QueryStats()
        self._engine: AsyncEngine | None = None
        self._sessionmaker: async_sessionmaker[AsyncSession] | None = None
        #: SQLite allows one writer: this process's writers queue here, in order, instead of
        #: polling in SQLite's busy handler (which sleeps up to 100 ms between attempts).
        self._sqlite_writer = asyncio.Lock()
        self._writer: asyncio.Task[Any] | None = None
        #: How long a SQLite writer waits for this process's other writers (SQLite's own
        #: busy timeout); then DatabaseUnavailable.
        self.writer_wait_seconds = SQLITE_BUSY_TIMEOUT_MS / 1000
        #: Cross-process cache invalidation (off on SQLite; see ``database/notify.py``).
        self.bus = CacheBus(self)

    @classmethod
    def from_settings(cls, settings: Settings) -> DatabaseService:
        """Build the service for a bot's settings."""
        return cls(
            settings.effective_database_url,
            echo=settings.db_echo,
            pool_size=settings.db_pool_size,
            max_overflow=settings.db_max_overflow,
            pool_timeout=settings.db_pool_timeout,
            connect_retries=settings.db_connect_retries,
        )

    # --- lifecycle -----------------------------------------------------------------------

    @property
    def dialect(self) -> str:
        """``sqlite`` or ``postgresql`` (read once per URL: asked on every statement)."""
        known = self._dialect_of
        if known is None or known[0] != self.url:
            known = self._dialect_of = (self.url, make_url(self.url).get_backend_name())
        return known[1]

    @property
    def is_sqlite(self) -> bool:
        return self.dialect == "sqlite"

    @property
    def connected(self) -> bool:
        return self._engine is not None

    @property
    def engine(self) -> AsyncEngine:
        if self._engine is None:
            raise DatabaseUnavailable("the database is not connected (call connect() first)")
        return self._engine

    def safe_url(self) -> str:
        """The URL with any password hidden, for logs and messages."""
        return make_url(self.url).render_as_string(hide_password=True)

    async def connect(self) -> None:
        """Create the engine and check that the database answers (with bounded retries)."""
        if self._engine is not None:
            return
        url = make_url(self.url)
        # A SQLite file cannot drop a connection: no pre-ping round trip at each checkout.
        kwargs: dict[str, Any] = {"echo": self._engine_echo(), "pool_pre_ping": not self.is_sqlite}
        if self.is_sqlite:
            database = url.database or ""
            if database and database != ":memory:" and not database.startswith("file:"):
                await asyncio.to_thread(Path(database).parent.mkdir, parents=True, exist_ok=True)
            kwargs["connect_args"] = {"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000}
            if url.get_driver_name() == "aiosqlite":
                from fish_bot.database.sqlite_driver import one_trip_dbapi

                kwargs["module"] = one_trip_dbapi()  # one thread hop per statement
        else:
            kwargs.update(
                pool_size=self.pool_size,
                max_overflow=self.max_overflow,
                pool_timeout=self.pool_timeout,
                pool_recycle=1800,
            )
        for key, value in self.engine_options.items():
            if key == "connect_args":
                kwargs["connect_args"] = {**kwargs.get("connect_args", {}), **value}
            else:
                kwargs[key] = value
        engine = create_async_engine(url, **kwargs)
        install_listeners(engine, self.stats, sqlite=self.is_sqlite)
        self._engine = engine
        self._sessionmaker = async_sessionmaker(engine, expire_on_commit=False)
        try:
            await self._with_retries(self._ping, "connect")
        except BaseException:
            await engine.dispose()
            self._engine = None
            self._sessionmaker = None
            raise
        log.info("Database connected: %s", self.safe_url())

    def _engine_echo(self) -> bool:
        """SQLAlchemy's ``echo`` flag for the engine, so each statement is printed once.

        When the process has log handlers (``fish-bot run``), the statements are logged through
        them (the ``sqlalchemy.engine.Engine`` logger at INFO); ``echo=True`` would add
        SQLAlchemy's own stdout handler beside them and print every statement twice.
        """
        if not self.echo:
            return False
        if logging.getLogger().handlers:
            logging.getLogger("sqlalchemy.engine.Engine").setLevel(logging.INFO)
            return False
        return True

    async def disconnect(self) -> None:
        """Dispose of the engine and its pool."""
        if self._engine is not None:
            await self._engine.dispose()
            self._engine = None
            self._sessionmaker = None

    async def _ping(self) -> None:
        async with self.engine.connect() as conn:
            await conn.execute(sa.text("SELECT 1"))

    # --- sessions and transactions -------------------------------------------------------

    def current_session(self) -> AsyncSession | None:
        """The ambient transaction's session of this task, if one is open."""
        ambient = _ambient.get()
        if ambient is None or ambient.task is not asyncio.current_task():
            return None
        return ambient.session

    def in_transaction(self) -> bool:
        return self.current_session() is not None

    def _current_ambient(self) -> _Ambient | None:
        ambient = _ambient.get()
        if ambient is None or ambient.task is not asyncio.current_task():
            return None
        return ambient

    async def after_commit(self, callback: AfterCommit) -> None:
        """Run ``callback`` once what this task wrote so far is committed.

        Outside a ``transaction()`` everything is committed already: ``callback`` runs now
        (awaited when it is async, its error propagates). Inside one, it runs after the
        outermost transaction commits, in registration order; it is dropped when that
        transaction, or the SAVEPOINT open when it was registered, rolls back. An error of a
        deferred callback is logged (the commit stands) and the other callbacks still run.
        """
        ambient = self._current_ambient()
        if ambient is None:
            result = callback()
            if inspect.isawaitable(result):
                await result
            return
        ambient.after_commit[-1].append(callback)

    @staticmethod
    async def _run_after_commit(callbacks: list[AfterCommit]) -> None:
        for callback in callbacks:
            try:
                result = callback()
                if inspect.isawaitable(result):
                    await result
            except Exception:
                log.exception("An after-commit callback failed (the commit stands)")

    @asynccontextmanager
    async def session(
        self, *, write: bool = False, read_only: bool = False, single: bool = False
    ) -> AsyncIterator[AsyncSession]:
        """A session: the ambient transaction's, or a new one that commits at the end.

        ``write=True`` marks a session that will write, so SQLite takes its write lock at the
        start (no lock-upgrade failures between concurrent writers). ``read_only=True`` marks
        a session that runs ONE read statement: it runs outside a transaction (no BEGIN and
        COMMIT round trips, never a lock); it must not write, nor rely on several statements
        seeing the same snapshot. ``write=True, single=True`` marks a session that runs ONE
        write statement (an ``UPDATE ... RETURNING``, an upsert): atomic by itself, it runs
        without BEGIN and COMMIT round trips (still in SQLite's writer queue). Inside a
        ``transaction()`` these flags are ignored.
        """
        ambient = self.current_session()
        if ambient is not None:
            yield ambient
            return
        async with self._own_session(write=write, read_only=read_only, single=single) as session:
            yield session

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[AsyncSession]:
        """Open a transaction that every controller call in this task joins.

        Commits when the block ends cleanly, rolls back everything when it raises. Inside an
        open transaction, this opens a SAVEPOINT instead: an error rolls back only the inner
        block (and still propagates).
        """
        current = self._current_ambient()
        if current is not None:
            current.after_commit.append([])
            committed = False
            try:
                async with current.session.begin_nested():
                    yield current.session
                committed = True
            finally:
                level = current.after_commit.pop()
                if committed:  # the SAVEPOINT is released: its callbacks wait for the outer one
                    current.after_commit[-1].extend(level)
            return
        async with self._own_session(write=True) as session:
            ambient = _Ambient(session=session, task=asyncio.current_task())
            token = _ambient.set(ambient)
            try:
                yield session
            finally:
                _ambient.reset(token)
        await self._run_after_commit(ambient.after_commit[0])

    # --- health --------------------------------------------------------------------------

    async def health(self) -> dict[str, Any]:
        """A small status: ok, latency in ms, dialect, pool use and query counters."""
        status: dict[str, Any] = {"dialect": self.dialect, "url": self.safe_url()}
        if self._engine is None:
            status.update(ok=False, error="not connected")
            return status
        started = time.perf_counter()
        try:
            await asyncio.wait_for(self._ping(), timeout=5)
        except Exception as error:
            status.update(ok=False, error=short_error(error))
        else:
            status.update(ok=True, latency_ms=round((time.perf_counter() - started) * 1000, 2))
        status["pool"] = self.pool_status()
        status["queries"] = self.stats.queries
        status["query_errors"] = self.stats.errors
        status["retries"] = self.stats.retries
        return status

    def pool_status(self) -> dict[str, int]:
        """Connections in use and idle in the pool (zeros when unknown)."""
        pool: Any = self.engine.pool if self._engine is not None else None
        result = {"size": 0, "checked_out": 0, "idle": 0, "overflow": 0}
        if pool is None:
            return result
        for key, method in (
            ("size", "size"),
            ("checked_out", "checkedout"),
            ("idle", "checkedin"),
            ("overflow", "overflow"),
        ):
            getter = getattr(pool, method, None)
            if callable(getter):
                try:
                    result[key] = int(getter())
                except Exception:  # pragma: no cover - pool without that counter
                    result[key] = 0
        return result
