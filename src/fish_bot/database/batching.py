"""Concurrent calls of one kind run together: :class:`Coalescer`.

A burst of the same operation (200 warns at once: 200 case inserts, then 200 mod-log message
ids; 200 ``cases view``: 200 reads of a case) queues on the database (SQLite's one writer, the
pool's few connections), and each call that waits its turn costs the event loop a few turns
of its own, each as long as everything else the burst has ready. The coalescer lets a call go
alone, as before, when no call of its kind is in flight; the calls that arrive while one is
wait in a queue, and one task runs everything queued when its turn comes, in one transaction
or one statement (the batch function takes the queue only once its session is open, so it
holds every call that arrived meanwhile, and a read sees every write committed before it was
asked). Each caller still returns only once its own write is committed, or its own read done.

If a batch fails, each of its calls is tried again alone, so a bad row fails only its own
caller; a database that is down fails them all at once (:class:`DatabaseUnavailable`), without
a retry of each. A caller cancelled before its call was taken is left out of the batch.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Generic, TypeVar

from fish_bot.exceptions import DatabaseUnavailable

__all__ = ["Coalescer"]

log = logging.getLogger(__name__)

T = TypeVar("T")
R = TypeVar("R")

#: The batch function: given ``take`` (call it once its transaction is open; it returns the
#: queued items, at most ``limit``), store them and return one result per item, in order.
BatchFunction = Callable[[Callable[[], list[T]]], Awaitable[list[R]]]


class Coalescer(Generic[T, R]):
    """Runs ``run_one(item)`` when no call of its kind is in flight, else queues the item for
    the next ``run_batch`` (see the module's docstring)."""

    def __init__(
        self,
        run_one: Callable[[T], Awaitable[R]],
        run_batch: BatchFunction[T, R],
        *,
        limit: int = 500,
    ) -> None:
        if limit < 1:
            raise ValueError("limit must be at least 1")
        self._run_one = run_one
        self._run_batch = run_batch
        self.limit = limit
        self._in_flight = 0
        self._queue: list[tuple[T, asyncio.Future[R]]] = []
        self._drainer: asyncio.Task[None] | None = None
        #: How many batches ran and how many items they held (for tests and benchmarks).
        self.batches = 0
        self.batched_items = 0

    async def submit(self, item: T) -> R:
        """Run ``item`` (alone or in the next batch); returns its result (or raises its error)."""
        if not self._in_flight and not self._queue:
            self._in_flight += 1
            try:
                return await self._run_one(item)
            finally:
                self._in_flight -= 1
        future: asyncio.Future[R] = asyncio.get_running_loop().create_future()
        self._queue.append((item, future))
        if self._drainer is None:
            self._drainer = asyncio.get_running_loop().create_task(self._drain())
        return await future

    def _take(self) -> list[tuple[T, asyncio.Future[R]]]:
        taken, self._queue = self._queue[: self.limit], self._queue[self.limit :]
        return [(item, future) for item, future in taken if not future.done()]

    async def _drain(self) -> None:
        try:
            while self._queue:
                await self._one_batch()
        finally:
            self._drainer = None

    async def _one_batch(self) -> None:
        taken: list[tuple[T, asyncio.Future[R]]] = []

        def take() -> list[T]:
            taken.extend(self._take())
            return [item for item, _ in taken]

        self._in_flight += 1
        try:
            results = await self._run_batch(take)
        except asyncio.CancelledError:
            # Stopped (shut down): nobody waits forever for a call that may not be done.
            for _, future in [*taken, *self._queue]:
                future.cancel()
            self._queue = []
            raise
        except Exception as error:
            if not taken:  # failed before its transaction opened: these items were its own
                taken.extend(self._take())
            await self._after_failed_batch(taken, error)
        else:
            self.batches += 1
            self.batched_items += len(taken)
            for (_, future), result in zip(taken, results, strict=True):
                if not future.done():
                    future.set_result(result)
        finally:
            self._in_flight -= 1

    async def _after_failed_batch(
        self, taken: list[tuple[T, asyncio.Future[R]]], error: Exception
    ) -> None:
        if isinstance(error, DatabaseUnavailable):
            for _, future in taken:
                if not future.done():
                    future.set_exception(error)
            return
        if len(taken) > 1:
            log.debug("A batch of %d calls failed (%s); each is tried alone", len(taken), error)
        for item, future in taken:
            if future.done():
                continue
            try:
                result = await self._run_one(item)
            except Exception as alone:
                future.set_exception(alone)
            else:
                future.set_result(result)
