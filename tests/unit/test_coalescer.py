"""Coalescer: calls that arrive while one is in flight run together."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import pytest

from fish_bot.database.batching import Coalescer
from fish_bot.exceptions import DatabaseUnavailable


class Store:
    """A fake write path: each write takes a loop turn; a batch records what it held."""

    def __init__(self, bad: set[int] | None = None, down: bool = False) -> None:
        self.alone: list[int] = []
        self.batches: list[list[int]] = []
        self.bad = bad or set()
        self.down = down

    async def one(self, item: int) -> int:
        await asyncio.sleep(0.01)
        if self.down:
            raise DatabaseUnavailable("down")
        if item in self.bad:
            raise ValueError(f"bad {item}")
        self.alone.append(item)
        return item * 10

    async def batch(self, take: Callable[[], list[int]]) -> list[int]:
        await asyncio.sleep(0.01)  # waiting for the transaction: more items arrive meanwhile
        items = take()
        if self.down:
            raise DatabaseUnavailable("down")
        if self.bad & set(items):
            raise ValueError("a bad row in the batch")
        self.batches.append(items)
        return [item * 10 for item in items]


async def test_a_lone_write_goes_alone_and_a_burst_is_batched() -> None:
    store = Store()
    coalescer = Coalescer(store.one, store.batch)
    assert await coalescer.submit(1) == 10
    assert store.alone == [1] and store.batches == []

    results = await asyncio.gather(*(coalescer.submit(i) for i in range(2, 52)))
    assert results == [i * 10 for i in range(2, 52)]
    assert store.alone == [1, 2]  # the first of the burst went alone, the rest queued
    assert sorted(i for batch in store.batches for i in batch) == list(range(3, 52))
    assert len(store.batches) == 1 and coalescer.batches == 1


async def test_a_failed_batch_retries_each_write_alone() -> None:
    store = Store(bad={7})
    coalescer = Coalescer(store.one, store.batch)
    results = await asyncio.gather(
        *(coalescer.submit(i) for i in range(1, 11)), return_exceptions=True
    )
    assert isinstance(results[6], ValueError) and "bad 7" in str(results[6])
    assert [r for r in results if not isinstance(r, Exception)] == [
        i * 10 for i in range(1, 11) if i != 7
    ]


async def test_a_database_outage_fails_the_whole_batch_at_once() -> None:
    store = Store(down=True)
    coalescer = Coalescer(store.one, store.batch)
    results = await asyncio.gather(*(coalescer.submit(i) for i in range(5)), return_exceptions=True)
    assert all(isinstance(r, DatabaseUnavailable) for r in results)
    assert store.alone == []  # nothing was tried again item by item


async def test_a_failure_before_the_batch_took_its_items_does_not_spin() -> None:
    calls = 0

    async def one(item: int) -> int:
        await asyncio.sleep(0.01)
        return item

    async def batch(take: Callable[[], list[int]]) -> list[int]:
        nonlocal calls
        calls += 1
        raise DatabaseUnavailable("could not open the transaction")

    coalescer = Coalescer(one, batch)
    results = await asyncio.gather(*(coalescer.submit(i) for i in range(4)), return_exceptions=True)
    assert results[0] == 0
    assert all(isinstance(r, DatabaseUnavailable) for r in results[1:])
    assert calls == 1


async def test_a_cancelled_caller_is_left_out_of_the_batch() -> None:
    store = Store()
    coalescer = Coalescer(store.one, store.batch)
    first = asyncio.ensure_future(coalescer.submit(1))
    await asyncio.sleep(0)
    second = asyncio.ensure_future(coalescer.submit(2))
    third = asyncio.ensure_future(coalescer.submit(3))
    await asyncio.sleep(0)
    second.cancel()
    assert await first == 10 and await third == 30
    assert store.batches == [[3]]


def test_limit_must_be_positive() -> None:
    async def nothing(item: int) -> int:
        return item

    with pytest.raises(ValueError):
        Coalescer(nothing, nothing, limit=0)  # type: ignore[arg-type]
