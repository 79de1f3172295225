"""Cluster mode: which shards this process runs, and which guilds it therefore owns.

A large bot runs its shards in several processes (``fish-bot run --shard-count 8
--shard-ids 0-3`` here, ``--shard-ids 4-7`` there) on one PostgreSQL database. Each process
has a :class:`ClusterInfo`: its node name, the shard count and its shard ids. A guild belongs to
shard ``(guild_id >> 22) % shard_count`` (Discord's rule), so :meth:`ClusterInfo.owns_guild`
tells whether this process is the one that should act for a guild (run its scheduled jobs, own
its buffered state).

Without shard options (``shard_count`` None) the process runs every shard and owns every guild:
today's single-process behaviour. ``docs/scaling.md`` is the operator's guide.
"""

from __future__ import annotations

import os
import socket
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

__all__ = [
    "ClusterInfo",
    "format_shard_ids",
    "parse_shard_ids",
    "shard_of",
    "validate_shards",
]

#: The most shards one bot may have (Discord's largest bots are far below this).
MAX_SHARDS = 65536


def shard_of(guild_id: int, shard_count: int) -> int:
    """The shard a guild lives on: ``(guild_id >> 22) % shard_count``."""
    return (int(guild_id) >> 22) % shard_count


def parse_shard_ids(text: str | Iterable[int]) -> tuple[int, ...]:
    """``"0-3,5"`` -> ``(0, 1, 2, 3, 5)``; raises ValueError with a one-line reason.

    Ranges are inclusive; a shard named twice (``0-3,2``) is an error, not merged.
    """
    if not isinstance(text, str):
        values = [int(value) for value in text]
    else:
        values = []
        parts = [part.strip() for part in text.split(",")]
        if not any(parts):
            raise ValueError("no shard ids given (example: 0-3,5)")
        for part in parts:
            if not part:
                raise ValueError(f"empty item in shard ids {text!r} (example: 0-3,5)")
            low_text, dash, high_text = part.partition("-")
            try:
                low = int(low_text)
                high = int(high_text) if dash else low
            except ValueError:
                raise ValueError(f"{part!r} is not a shard id or range (example: 0-3,5)") from None
            if low < 0 or high < 0:
                raise ValueError(f"shard ids cannot be negative (got {part!r})")
            if high < low:
                raise ValueError(f"range {part!r} runs backwards (write {high}-{low})")
            if high - low >= MAX_SHARDS:
                raise ValueError(f"range {part!r} is too large")
            values.extend(range(low, high + 1))
    seen: set[int] = set()
    for value in values:
        if value < 0:
            raise ValueError(f"shard ids cannot be negative (got {value})")
        if value in seen:
            raise ValueError(f"shard {value} is named twice")
        seen.add(value)
    return tuple(sorted(values))


def validate_shards(
    shard_count: int | None, shard_ids: Sequence[int] | None
) -> tuple[int | None, tuple[int, ...] | None]:
    """Check a shard count and id set together; raises ValueError with a one-line reason."""
    if shard_count is not None and not 1 <= shard_count <= MAX_SHARDS:
        raise ValueError(f"the shard count must be between 1 and {MAX_SHARDS} (got {shard_count})")
    if shard_ids is None:
        return shard_count, None
    ids = parse_shard_ids(shard_ids)
    if shard_count is None:
        raise ValueError("shard ids need a shard count (--shard-count / FISHBOT_SHARD_COUNT)")
    outside = [shard for shard in ids if shard >= shard_count]
    if outside:
        raise ValueError(
            f"shard {outside[0]} is outside the shard count {shard_count} "
            f"(ids run from 0 to {shard_count - 1})"
        )
    return shard_count, ids


def format_shard_ids(shard_ids: Sequence[int] | None) -> str:
    """``(0, 1, 2, 3, 5)`` -> ``"0-3,5"`` (None: ``"all"``)."""
    if shard_ids is None:
        return "all"
    ids = sorted(shard_ids)
    parts: list[str] = []
    index = 0
    while index < len(ids):
        end = index
        while end + 1 < len(ids) and ids[end + 1] == ids[end] + 1:
            end += 1
        parts.append(str(ids[index]) if end == index else f"{ids[index]}-{ids[end]}")
        index = end + 1
    return ",".join(parts)


def _version() -> str:
    from fish_bot import __version__

    return str(__version__)


@dataclass(frozen=True)
class ClusterInfo:
    """This process's place in the cluster: node name, shard count and shard ids.

    ``shard_count`` None: discord.py picks the count and this process runs every shard.
    ``shard_ids`` None with a count: every shard of that count.
    """

    node_name: str
    shard_count: int | None = None
    shard_ids: tuple[int, ...] | None = None
    host: str = field(default_factory=socket.gethostname)
    pid: int = field(default_factory=os.getpid)
    version: str = field(default_factory=_version)

    @classmethod
    def from_settings(cls, settings: object) -> ClusterInfo:
        """The node of a :class:`~fish_bot.config.Settings` (name defaults to host-pid)."""
        count: int | None = getattr(settings, "shard_count", None)
        ids_value: Sequence[int] | None = getattr(settings, "shard_ids", None)
        count, ids = validate_shards(count, ids_value)
        if count is not None and ids is None:
            ids = tuple(range(count))
        name = str(getattr(settings, "cluster_name", "") or "").strip()
        host = socket.gethostname()
        pid = os.getpid()
        return cls(node_name=name or f"{host}-{pid}", shard_count=count, shard_ids=ids)

    @property
    def clustered(self) -> bool:
        """Whether this process runs only part of the shards (others run the rest)."""
        return (
            self.shard_count is not None
            and self.shard_ids is not None
            and len(self.shard_ids) < self.shard_count
        )

    @property
    def shard_set(self) -> frozenset[int]:
        if self.shard_ids is None:
            return frozenset()
        return frozenset(self.shard_ids)

    @property
    def lock_scope(self) -> str | None:
        """The run lock's name part: one lock per shard set (None: the whole bot)."""
        if not self.clustered:
            return None
        ids = format_shard_ids(self.shard_ids).replace(",", "_")
        return f"shards-{ids}-of-{self.shard_count}"

    def gateway_options(self) -> dict[str, object]:
        """The AutoShardedBot options of this node (none: discord.py decides)."""
        if self.shard_count is None:
            return {}
        return {"shard_count": self.shard_count, "shard_ids": list(self.shard_ids or ())}

    def shard_of(self, guild_id: int) -> int | None:
        """The shard of a guild (None when discord.py picks the count)."""
        if self.shard_count is None:
            return None
        return shard_of(guild_id, self.shard_count)

    def owns_guild(self, guild_id: int | None) -> bool:
        """Whether this process runs the shard of ``guild_id`` (no guild: every process)."""
        if guild_id is None or self.shard_count is None or self.shard_ids is None:
            return True
        return shard_of(guild_id, self.shard_count) in self.shard_set

    def owns_shard(self, shard: int | None) -> bool:
        if shard is None or self.shard_ids is None:
            return True
        return shard in self.shard_set

    def describe(self) -> str:
        """``node 'a' (shards 0-3 of 8)``."""
        if self.shard_count is None:
            return f"node {self.node_name!r} (all shards)"
        return (
            f"node {self.node_name!r} (shards {format_shard_ids(self.shard_ids)} "
            f"of {self.shard_count})"
        )

    def labels(self) -> dict[str, str]:
        """For ``/metrics`` and ``/healthz``."""
        return {
            "node": self.node_name,
            "shard_count": "" if self.shard_count is None else str(self.shard_count),
            "shard_ids": format_shard_ids(self.shard_ids),
        }
