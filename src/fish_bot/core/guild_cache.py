"""GuildCache: one value per guild, loaded on first use and kept until invalidated.

The one per-guild cache of the framework: the permission store, the moderation restriction
cache, the prefix cache and the guild configuration cache (``bot.guild_configs``) are each one::

    cache: GuildCache[set[int]] = GuildCache(load_pollbans, name="poll bans")
    users = await cache.get(guild_id)            # loads once, then from memory
    cache.mutate(guild_id, lambda users: users.add(user_id))  # after a committed write
    cache.invalidate(guild_id)                    # or invalidate() for every guild

* Loading is serialised per guild (an ``asyncio.Lock`` per guild, :meth:`GuildCache.lock`):
  concurrent first reads of a guild run the loader once, and wait for it together; writers
  may queue on the same lock.
* ``invalidate`` and ``mutate`` win over a load that is running: a load that started before
  them returns its value to its caller but does not store it, so the cache never keeps a value
  read before a write it has been told about.
* ``cacheable`` (optional) is asked before a loaded value is stored: e.g. "not inside an open
  database transaction", whose rows may still roll back.
* A loader that raises stores nothing; the error reaches the caller and the next read tries
  again.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterable, Mapping
from typing import Generic, TypeVar

__all__ = ["GuildCache"]

V = TypeVar("V")


class GuildCache(Generic[V]):
    """Per-guild values loaded on first use, with a per-guild lock and invalidation."""

    def __init__(
        self,
        loader: Callable[[int], Awaitable[V]],
        *,
        name: str = "guild cache",
        cacheable: Callable[[], bool] | None = None,
    ) -> None:
        self.loader = loader
        self.name = name
        self.cacheable = cacheable
        self._values: dict[int, V] = {}
        self._locks: dict[int, asyncio.Lock] = {}
        #: The loads running now: their readers wait for them here, all at once.
        self._loads: dict[int, asyncio.Future[None]] = {}
        #: Bumped by every invalidate/mutate of a guild (and by invalidate() for all guilds).
        self._generations: dict[int, int] = {}
        self._epoch = 0

    def lock(self, guild_id: int) -> asyncio.Lock:
        """The guild's lock: loads hold it; a writer may hold it to queue behind a load and
        other writers of the guild (never call :meth:`get` of the guild while holding it)."""
        lock = self._locks.get(guild_id)
        if lock is None:
            lock = self._locks[guild_id] = asyncio.Lock()
        return lock

    def _generation(self, guild_id: int) -> tuple[int, int]:
        return self._epoch, self._generations.get(guild_id, 0)

    def _bump(self, guild_id: int) -> None:
        self._generations[guild_id] = self._generations.get(guild_id, 0) + 1

    async def get(self, guild_id: int) -> V:
        """The guild's value: from memory, or loaded (once, under the guild's lock).

        Reads that arrive while the guild is loading wait for that load together (one
        future), not one after another on the lock: a burst of first reads (a chat flood
        right after start-up) is woken all at once when the value is there.
        """
        if guild_id in self._values:
            return self._values[guild_id]
        loading = self._loads.get(guild_id)
        if loading is not None:
            await asyncio.shield(loading)
            if guild_id in self._values:
                return self._values[guild_id]
        async with self.lock(guild_id):
            if guild_id in self._values:
                return self._values[guild_id]
            before = self._generation(guild_id)
            self._loads[guild_id] = loading = asyncio.get_running_loop().create_future()
            try:
                value = await self.loader(guild_id)
                if self._generation(guild_id) == before and (
                    self.cacheable is None or self.cacheable()
                ):
                    self._values[guild_id] = value
            finally:
                del self._loads[guild_id]
                loading.set_result(None)  # the waiters look again (a failed load: they try)
            return value

    def peek(self, guild_id: int) -> V | None:
        """The cached value without loading it (None when the guild is not loaded)."""
        return self._values.get(guild_id)

    def is_loaded(self, guild_id: int) -> bool:
        """Whether the guild's value is in memory."""
        return guild_id in self._values

    def loaded(self) -> list[int]:
        """The guilds whose value is in memory."""
        return list(self._values)

    async def preload(self, guild_ids: Iterable[int]) -> None:
        """Load several guilds ahead of their first use."""
        for guild_id in guild_ids:
            await self.get(guild_id)

    def fill(self, values: Mapping[int, V]) -> None:
        """Store values read elsewhere (e.g. one query for every guild at start-up)."""
        for guild_id, value in values.items():
            self._bump(guild_id)  # a load running now read before these values
            self._values[guild_id] = value

    def mutate(self, guild_id: int, change: Callable[[V], object]) -> bool:
        """Apply ``change`` to the cached value in place (after a committed write).

        A guild that is not loaded is left alone (it is read fresh on first use); returns
        whether a cached value was changed.
        """
        self._bump(guild_id)
        if guild_id not in self._values:
            return False
        change(self._values[guild_id])
        return True

    def invalidate(self, guild_id: int | None = None) -> None:
        """Forget one guild's value (or every guild's): it is loaded again on next use."""
        if guild_id is None:
            self._epoch += 1
            self._values.clear()
            return
        self._bump(guild_id)
        self._values.pop(guild_id, None)

    def __len__(self) -> int:
        return len(self._values)

    def __repr__(self) -> str:
        return f"<GuildCache {self.name!r}: {len(self._values)} guilds loaded>"
