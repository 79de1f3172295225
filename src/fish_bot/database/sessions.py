"""How :class:`~fish_bot.database.service.DatabaseService` opens a session of its own.

* SQLite's writer queue: this process's write transactions wait their turn on a FIFO lock
  (bounded by SQLite's busy timeout) instead of polling in SQLite's busy handler.
* The execution options of write (``BEGIN IMMEDIATE`` on SQLite), read-only and one-statement
  sessions, and the commit, rollback and close of a session the service owns.
* Bounded retries with backoff of transient connection errors, then
  :class:`~fish_bot.exceptions.DatabaseUnavailable`.

``DatabaseService`` is composed of :class:`SessionOpeningMixin`; its public API
(``session()``, ``transaction()``) is in ``service.py``.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING, Any

from fish_bot.database.engine import IMMEDIATE, READ_ONLY, is_transient, short_error
from fish_bot.exceptions import DatabaseUnavailable

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

    from fish_bot.database.engine import QueryStats

#: The service's logger: these parts log as they did when they were in ``service.py``.
log = logging.getLogger("fish_bot.database.service")


class SessionOpeningMixin:
    """The writer queue, session opening and connection retries of the database service."""

    if TYPE_CHECKING:  # provided by DatabaseService
        connect_retries: int
        retry_backoff: float
        stats: QueryStats
        writer_wait_seconds: float
        _sessionmaker: async_sessionmaker[AsyncSession] | None
        _sqlite_writer: asyncio.Lock
        _writer: asyncio.Task[Any] | None

        @property
        def is_sqlite(self) -> bool: ...

        def safe_url(self) -> str: ...

    async def _with_retries(self, operation: Any, what: str) -> Any:
        """Run ``operation`` (an async callable), retrying transient connection errors."""
        attempts = self.connect_retries + 1
        for attempt in range(1, attempts + 1):
            try:
                return await operation()
            except Exception as error:
                if not is_transient(error):
                    raise
                if attempt == attempts:
                    raise DatabaseUnavailable(
                        f"The database at {self.safe_url()} is unreachable after {attempts} "
                        f"attempts ({what}): {short_error(error)}"
                    ) from error
                self.stats.retries += 1
                delay = self.retry_backoff * 2 ** (attempt - 1)
                log.warning(
                    "Database %s failed (attempt %d/%d), retrying in %.2fs: %s",
                    what,
                    attempt,
                    attempts,
                    delay,
                    short_error(error),
                )
                await asyncio.sleep(delay)
        raise AssertionError("unreachable")  # pragma: no cover

    @asynccontextmanager
    async def _writer_turn(self, write: bool) -> AsyncIterator[None]:
        """On SQLite, wait for this process's other write transactions to end first.

        A FIFO lock: an uncontended writer takes it at once (no timer); a writer that has to
        wait gives up after SQLite's own busy timeout with :class:`DatabaseUnavailable`, as
        SQLite would have, so a write that waits on another task's write can never hang. A
        task that already holds it and opens a second write session of its own goes on
        without it, to SQLite's busy timeout, as before (it would otherwise wait for itself).
        """
        task = asyncio.current_task()
        if not (write and self.is_sqlite) or (task is not None and task is self._writer):
            yield
            return
        lock = self._sqlite_writer
        if lock.locked():
            try:
                async with asyncio.timeout(self.writer_wait_seconds):
                    await lock.acquire()
            except TimeoutError:
                raise DatabaseUnavailable(
                    "the database stayed locked by another write for "
                    f"{self.writer_wait_seconds:g} s"
                ) from None
        else:
            await lock.acquire()
        self._writer = task
        try:
            yield
        finally:
            self._writer = None
            lock.release()

    async def _open_session(
        self, *, write: bool, read_only: bool = False, single: bool = False
    ) -> AsyncSession:
        if self._sessionmaker is None:
            raise DatabaseUnavailable("the database is not connected (call connect() first)")
        maker = self._sessionmaker
        options: dict[str, Any] | None = None
        if write and not single:
            options = {IMMEDIATE: True} if self.is_sqlite else None
        elif read_only or single:
            # SQLite: the listener leaves BEGIN out (the driver autocommits each statement);
            # PostgreSQL: asyncpg runs it outside a transaction (no BEGIN, no COMMIT).
            options = {READ_ONLY: True}
            if not self.is_sqlite:
                options["isolation_level"] = "AUTOCOMMIT"

        async def open_one() -> AsyncSession:
            session = maker()
            try:
                await session.connection(execution_options=options)
            except BaseException:
                await session.close()
                raise
            return session

        session: AsyncSession = await self._with_retries(open_one, "open session")
        return session

    @asynccontextmanager
    async def _own_session(
        self, *, write: bool, read_only: bool = False, single: bool = False
    ) -> AsyncIterator[AsyncSession]:
        """A session of its own (in the writer queue when it writes): committed when the block
        ends cleanly, rolled back when it raises, closed either way."""
        async with self._writer_turn(write):
            session = await self._open_session(write=write, read_only=read_only, single=single)
            try:
                yield session
                await session.commit()
            except BaseException:
                await session.rollback()
                raise
            finally:
                await session.close()
