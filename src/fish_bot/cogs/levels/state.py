"""The levels cog's in-memory state: each guild's XP rows, written back in batches.

An ordinary chat message does no database I/O. A guild's rows (and its role rewards) are read
in one query when the guild is first needed (:class:`~fish_bot.core.guild_cache.GuildCache`:
concurrent first messages of a guild share the load, other guilds are not held up), then XP,
level and last-message time change in memory and the member is marked *dirty*.

:meth:`LevelsStore.flush` writes every dirty row in one batched upsert inside one transaction,
at a bounded interval (the cog's flush loop), on demand (a moderator's change, the leaderboard)
and when the cog unloads (shutdown). The rows to write are copied and the dirty marks cleared
before the write starts, so a message handled during the write marks its member again; a
write that fails puts the marks back. Flushes are serialised, so an older copy never lands
after a newer one. A kill -9 loses at most the changes since the last flush, and a row is
never half written (one statement per row set, one transaction).

A guild that has been quiet for the ``idle_eviction`` setting and has nothing to write is
dropped from memory and read again on its next message.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

import discord

from fish_bot.cogs.levels.utils import level_from_xp
from fish_bot.core.guild_cache import GuildCache

if TYPE_CHECKING:
    from fish_bot.database.controllers.levels import LevelsController


def _now() -> float:
    return discord.utils.utcnow().timestamp()


@dataclass(slots=True)
class MemberXP:
    """One member's XP in one guild, as kept in memory."""

    xp: int = 0
    level: int = 0
    last_message_at: datetime | None = None
    blacklisted: bool = False


@dataclass
class GuildLevels:
    """A guild's XP rows and rewards in memory."""

    guild_id: int
    members: dict[int, MemberXP] = field(default_factory=dict)
    #: ``{role id: level}``: the roles the guild's levels hand out.
    rewards: dict[int, int] = field(default_factory=dict)
    #: Members whose row changed since the last flush.
    dirty: set[int] = field(default_factory=set)
    #: When the guild was last used (a POSIX timestamp), for eviction.
    last_used: float = field(default_factory=_now)

    def member(self, member_id: int) -> MemberXP:
        """The member's entry, created (at zero, not yet dirty) when missing."""
        entry = self.members.get(member_id)
        if entry is None:
            entry = self.members[member_id] = MemberXP()
        return entry

    def mark(self, member_id: int) -> None:
        """Note that the member's row must be written at the next flush."""
        self.dirty.add(member_id)

    def set_xp(self, member_id: int, xp: int) -> MemberXP:
        """Give the member exactly ``xp`` (the level follows) and mark it dirty."""
        entry = self.member(member_id)
        entry.xp = xp
        entry.level = level_from_xp(xp)
        self.mark(member_id)
        return entry

    def row(self, member_id: int) -> dict[str, Any]:
        """The member's row as the controller's ``upsert_many`` takes it (a copy)."""
        entry = self.members[member_id]
        return {
            "guild_id": self.guild_id,
            "member_id": member_id,
            "xp": entry.xp,
            "level": entry.level,
            "last_message_at": entry.last_message_at,
            "blacklisted": entry.blacklisted,
        }


@dataclass
class StoreStats:
    """What the store has done since the cog loaded (shown by ``status levels``)."""

    loads: int = 0
    flushes: int = 0
    rows_written: int = 0
    failed_flushes: int = 0
    evictions: int = 0


class LevelsStore:
    """Every loaded guild's :class:`GuildLevels`, the loads and the batched writes."""

    def __init__(self, controller: Callable[[], LevelsController]) -> None:
        self._controller = controller
        self.cache: GuildCache[GuildLevels] = GuildCache(self._load, name="levels")
        self._flush_lock = asyncio.Lock()
        self.stats = StoreStats()

    async def _load(self, guild_id: int) -> GuildLevels:
        rows, rewards = await self._controller().load_guild(guild_id)
        self.stats.loads += 1
        state = GuildLevels(guild_id)
        for row in rows:
            state.members[row.member_id] = MemberXP(
                xp=row.xp,
                level=row.level,
                last_message_at=row.last_message_at,
                blacklisted=row.blacklisted,
            )
        state.rewards = {reward.role_id: reward.level for reward in rewards}
        return state

    def peek(self, guild_id: int) -> GuildLevels | None:
        """The guild's state when it is in memory (no I/O), marked as used."""
        state = self.cache.peek(guild_id)
        if state is not None:
            state.last_used = _now()
        return state

    async def guild(self, guild_id: int) -> GuildLevels:
        """The guild's state, loaded (one query per table) when it is not in memory."""
        state = self.peek(guild_id)
        if state is None:
            state = await self.cache.get(guild_id)
            state.last_used = _now()
        return state

    @property
    def dirty_rows(self) -> int:
        """How many rows wait for the next flush."""
        states = (self.cache.peek(guild_id) for guild_id in self.cache.loaded())
        return sum(len(state.dirty) for state in states if state is not None)

    async def flush(self, guild_ids: Iterable[int] | None = None) -> int:
        """Write the dirty rows (of these guilds, or of every loaded guild); returns how many.

        One transaction, one statement per 1000 rows. On failure the rows stay dirty and the
        error reaches the caller.
        """
        async with self._flush_lock:
            wanted = self.cache.loaded() if guild_ids is None else list(guild_ids)
            taken: list[tuple[GuildLevels, set[int]]] = []
            rows: list[dict[str, Any]] = []
            for guild_id in wanted:
                state = self.cache.peek(guild_id)
                if state is None or not state.dirty:
                    continue
                members, state.dirty = state.dirty, set()
                taken.append((state, members))
                rows.extend(state.row(member_id) for member_id in sorted(members))
            if not rows:
                return 0
            try:
                written = await self._controller().upsert_many(rows)
            except BaseException:
                self.stats.failed_flushes += 1
                for state, members in taken:
                    state.dirty |= members
                raise
            self.stats.flushes += 1
            self.stats.rows_written += written
            return written

    def evict_idle(self, idle_seconds: float) -> list[int]:
        """Drop the guilds unused for ``idle_seconds`` that have nothing to write."""
        cutoff = _now() - idle_seconds
        evicted = []
        for guild_id in self.cache.loaded():
            state = self.cache.peek(guild_id)
            if state is not None and not state.dirty and state.last_used <= cutoff:
                self.cache.invalidate(guild_id)
                evicted.append(guild_id)
        self.stats.evictions += len(evicted)
        return evicted

    async def replace_xp(self, guild_id: int, values: dict[int, int]) -> int:
        """Set many members' XP at once (``levels import``): all stored, or none.

        The rows are written first, in one transaction; memory follows only when it commits.
        Other rows of the guild that wait for a flush are written in the same transaction.
        """
        state = await self.guild(guild_id)
        async with self._flush_lock:
            pending = set(state.dirty)
            rows = []
            for member_id in sorted(set(values) | pending):
                entry = state.members.get(member_id) or MemberXP()
                xp = values.get(member_id, entry.xp)
                rows.append(
                    {
                        "guild_id": guild_id,
                        "member_id": member_id,
                        "xp": xp,
                        "level": level_from_xp(xp),
                        "last_message_at": entry.last_message_at,
                        "blacklisted": entry.blacklisted,
                    }
                )
            written = await self._controller().upsert_many(rows)
            for member_id, xp in values.items():
                entry = state.member(member_id)
                entry.xp, entry.level = xp, level_from_xp(xp)
            self.stats.rows_written += written
            return len(values)
