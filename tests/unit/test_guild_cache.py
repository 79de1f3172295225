"""GuildCache: one value per guild, loaded once, invalidated on write."""

from __future__ import annotations

import asyncio

import pytest

from fish_bot.core.guild_cache import GuildCache


class Loader:
    """Loads ``{guild_id: set}`` from a dict standing in for the database; counts reads."""

    def __init__(self) -> None:
        self.rows: dict[int, set[int]] = {1: {10}, 2: {20}}
        self.calls = 0
        self.gate: asyncio.Event | None = None

    async def __call__(self, guild_id: int) -> set[int]:
        self.calls += 1
        value = set(self.rows.get(guild_id, set()))  # read before waiting
        if self.gate is not None:
            await self.gate.wait()
        return value


async def test_loads_once_per_guild_then_serves_from_memory() -> None:
    loader = Loader()
    cache = GuildCache(loader)
    assert await cache.get(1) == {10}
    assert await cache.get(1) == {10}
    assert loader.calls == 1
    assert cache.is_loaded(1) and not cache.is_loaded(2)
    assert await cache.get(2) == {20}
    assert loader.calls == 2


async def test_concurrent_first_reads_run_the_loader_once() -> None:
    loader = Loader()
    loader.gate = asyncio.Event()
    cache = GuildCache(loader)
    readers = [asyncio.create_task(cache.get(1)) for _ in range(5)]
    await asyncio.sleep(0)
    loader.gate.set()
    assert [await reader for reader in readers] == [{10}] * 5
    assert loader.calls == 1


async def test_invalidate_one_guild_or_all() -> None:
    loader = Loader()
    cache = GuildCache(loader)
    await cache.preload([1, 2])
    loader.rows[1] = {11}
    loader.rows[2] = {21}
    cache.invalidate(1)
    assert await cache.get(1) == {11}
    assert await cache.get(2) == {20}  # still cached
    cache.invalidate()
    assert await cache.get(2) == {21}
    assert len(cache) == 1  # only guild 2 was read again


async def test_mutate_changes_a_loaded_guild_and_skips_an_unloaded_one() -> None:
    loader = Loader()
    cache = GuildCache(loader)
    await cache.get(1)
    assert cache.mutate(1, lambda users: users.add(12)) is True
    assert await cache.get(1) == {10, 12}
    assert cache.mutate(2, lambda users: users.add(22)) is False
    assert not cache.is_loaded(2)


@pytest.mark.parametrize("write", ["invalidate", "mutate", "invalidate_all", "fill"])
async def test_a_write_during_a_load_keeps_the_stale_read_out_of_the_cache(write: str) -> None:
    loader = Loader()
    loader.gate = asyncio.Event()
    cache = GuildCache(loader)
    reader = asyncio.create_task(cache.get(1))
    await asyncio.sleep(0)  # the load has read {10} and waits
    loader.rows[1] = {10, 13}  # a write commits meanwhile, and tells the cache
    if write == "invalidate":
        cache.invalidate(1)
    elif write == "mutate":
        cache.mutate(1, lambda users: users.add(13))
    elif write == "invalidate_all":
        cache.invalidate()
    else:
        cache.fill({1: {10, 13}})
    loader.gate.set()
    assert await reader == {10}  # the caller gets what it read...
    loader.gate = None
    assert await cache.get(1) == {10, 13}  # ...but the cache does not keep it


async def test_a_failing_load_stores_nothing_and_is_retried() -> None:
    calls = 0

    async def flaky(guild_id: int) -> str:
        nonlocal calls
        calls += 1
        if calls == 1:
            raise ConnectionError("database down")
        return "ok"

    cache: GuildCache[str] = GuildCache(flaky)
    with pytest.raises(ConnectionError):
        await cache.get(1)
    assert not cache.is_loaded(1)
    assert await cache.get(1) == "ok"


async def test_values_read_while_not_cacheable_are_not_kept() -> None:
    loader = Loader()
    allowed = False
    cache = GuildCache(loader, cacheable=lambda: allowed)
    assert await cache.get(1) == {10}
    assert not cache.is_loaded(1)
    allowed = True
    await cache.get(1)
    assert cache.is_loaded(1) and loader.calls == 2


async def test_fill_and_peek() -> None:
    cache = GuildCache(Loader())
    cache.fill({5: {50}})
    assert cache.peek(5) == {50}
    assert cache.peek(6) is None
    assert cache.loaded() == [5]
    assert "1 guilds loaded" in repr(cache)


async def test_readers_of_a_running_load_are_woken_together() -> None:
    """A flood of first reads waits on the load itself, not one after another on the lock:
    once the value is there, every reader has it within a couple of loop turns."""
    loader = Loader()
    loader.gate = asyncio.Event()
    cache = GuildCache(loader)
    first = asyncio.create_task(cache.get(1))
    await asyncio.sleep(0)
    readers = [asyncio.create_task(cache.get(1)) for _ in range(500)]
    await asyncio.sleep(0)

    loader.gate.set()
    for _ in range(4):
        await asyncio.sleep(0)

    assert first.done() and all(reader.done() for reader in readers)
    assert {frozenset(reader.result()) for reader in readers} == {frozenset({10})}
    assert loader.calls == 1


async def test_readers_of_a_failed_load_try_again() -> None:
    calls = 0

    async def flaky(guild_id: int) -> set[int]:
        nonlocal calls
        calls += 1
        await asyncio.sleep(0)
        if calls == 1:
            raise RuntimeError("database hiccup")
        return {guild_id}

    cache: GuildCache[set[int]] = GuildCache(flaky)
    results = await asyncio.gather(*(cache.get(7) for _ in range(5)), return_exceptions=True)

    assert isinstance(results[0], RuntimeError)
    assert results[1:] == [{7}] * 4
    assert calls == 2
