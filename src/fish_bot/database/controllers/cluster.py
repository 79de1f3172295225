"""ClusterNodeController: the cluster's node registry (``cluster_node``).

A node registers at start-up (:meth:`ClusterNodeController.register`), renews its heartbeat
every :data:`HEARTBEAT_SECONDS` and removes itself on a clean stop. A node whose heartbeat is
older than :data:`DEAD_AFTER_SECONDS` is dead; so is a node on this host whose process is gone
(a crash, ``kill -9``), so a restarted node does not wait a minute. Registration refuses a
shard that a live node already runs (:class:`ShardClaimConflict`, naming that node); on
PostgreSQL it runs under a transaction-scoped advisory lock, so two nodes starting at the same
moment cannot both win.
"""

from __future__ import annotations

import os
import socket
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

import discord
import sqlalchemy as sa

from fish_bot.core.cluster import ClusterInfo, format_shard_ids
from fish_bot.database.controllers.base import BaseController
from fish_bot.database.models.cluster import ClusterNode

if TYPE_CHECKING:
    from fish_bot.database.service import DatabaseService

#: How often a node renews its heartbeat (seconds).
HEARTBEAT_SECONDS = 10.0
#: A node whose heartbeat is older than this (seconds) is dead.
DEAD_AFTER_SECONDS = 60.0
#: Dead nodes are forgotten this long after their last heartbeat.
FORGET_AFTER = timedelta(days=1)
#: The advisory lock key under which nodes register (PostgreSQL).
REGISTER_LOCK_KEY = 0x46495348_0001

_T = ClusterNode.__table__.c  # type: ignore[attr-defined]


class ShardClaimConflict(Exception):
    """A live node already runs a shard this node claims."""

    def __init__(self, message: str, holder: ClusterNode) -> None:
        super().__init__(message)
        #: A detached copy of the live node (the session that read it rolls back).
        self.holder = ClusterNode(**holder.model_dump())


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OSError):
        return True
    return True


def node_alive(node: ClusterNode, now: datetime | None = None) -> bool:
    """Whether a node counts as alive: a recent heartbeat, and its process exists if local."""
    now = now or discord.utils.utcnow()
    if node.heartbeat_at < now - timedelta(seconds=DEAD_AFTER_SECONDS):
        return False
    if node.host == socket.gethostname() and node.pid != os.getpid():
        return _pid_alive(node.pid)
    return True


def _overlap(node: ClusterNode, info: ClusterInfo) -> set[int] | None:
    """The shards both run (None: they cannot share the bot, e.g. other shard counts)."""
    if node.shard_count is None or info.shard_count is None:
        return None  # one of them runs every shard
    if node.shard_count != info.shard_count:
        return None
    theirs = set(node.shard_ids or range(node.shard_count))
    ours = set(info.shard_ids or range(info.shard_count))
    return theirs & ours


def describe_node(node: ClusterNode) -> str:
    shards = (
        "all shards"
        if node.shard_count is None
        else f"shards {format_shard_ids(node.shard_ids)} of {node.shard_count}"
    )
    return f"node {node.name!r} ({shards}, pid {node.pid} on {node.host})"


class ClusterNodeController(BaseController[ClusterNode]):
    """Register, heartbeat and list the cluster's nodes."""

    def __init__(self, service: DatabaseService) -> None:
        super().__init__(ClusterNode, service)

    async def register(
        self, info: ClusterInfo, *, guild_count: int = 0, now: datetime | None = None
    ) -> ClusterNode:
        """Add (or take back) this node's row; raises :class:`ShardClaimConflict`."""
        now = now or discord.utils.utcnow()
        async with self._session(write=True) as session:
            if self.service.dialect == "postgresql":
                await session.execute(sa.select(sa.func.pg_advisory_xact_lock(REGISTER_LOCK_KEY)))
            nodes = (await session.execute(sa.select(ClusterNode))).scalars().all()
            replaced: list[str] = []
            for node in nodes:
                same = node.name == info.node_name
                if same and node.host == info.host and node.pid == info.pid:
                    continue  # our own row (registered earlier by this process)
                if not node_alive(node, now):
                    if (
                        same
                        or _overlap(node, info) != set()
                        or (node.heartbeat_at < now - FORGET_AFTER)
                    ):
                        replaced.append(node.name)
                    continue
                if same:
                    raise ShardClaimConflict(
                        f"Another process already runs as {describe_node(node)}: stop it, or "
                        "give this one another FISHBOT_CLUSTER_NAME.",
                        node,
                    )
                if self.service.is_sqlite:
                    raise ShardClaimConflict(
                        f"SQLite holds one bot process and {describe_node(node)} runs on this "
                        "database: use PostgreSQL (FISHBOT_DATABASE_URL=postgresql+asyncpg://"
                        "...) to run several processes.",
                        node,
                    )
                shared = _overlap(node, info)
                if shared is None:
                    raise ShardClaimConflict(
                        f"{describe_node(node).capitalize()} is live and its shards overlap "
                        f"this node's ({info.describe()}): every node must use the same "
                        "--shard-count and its own shards.",
                        node,
                    )
                if shared:
                    raise ShardClaimConflict(
                        f"Shard(s) {format_shard_ids(sorted(shared))} already run on live "
                        f"{describe_node(node)}: stop it first, or pick other --shard-ids.",
                        node,
                    )
            if replaced:
                await session.execute(sa.delete(ClusterNode).where(_T.name.in_(replaced)))
            row = ClusterNode(
                name=info.node_name,
                shard_count=info.shard_count,
                shard_ids=None if info.shard_ids is None else list(info.shard_ids),
                host=info.host,
                pid=info.pid,
                version=info.version,
                guild_count=guild_count,
                started_at=now,
                heartbeat_at=now,
            )
            merged = await session.merge(row)
            await session.flush()
            return merged

    async def heartbeat(
        self, info: ClusterInfo, *, guild_count: int, now: datetime | None = None
    ) -> bool:
        """Renew this node's heartbeat; False when its row is gone (register again)."""
        now = now or discord.utils.utcnow()
        changed = await self.update_where(
            [_T.name == info.node_name, _T.pid == info.pid, _T.host == info.host],
            {"heartbeat_at": now, "guild_count": guild_count},
        )
        return changed > 0

    async def unregister(self, info: ClusterInfo) -> bool:
        """Remove this node's row (a clean stop)."""
        removed = await self.delete_where(
            [_T.name == info.node_name, _T.pid == info.pid, _T.host == info.host]
        )
        return removed > 0

    async def nodes(self) -> Sequence[ClusterNode]:
        """Every registered node, by name."""
        return await self.find_all(None, order_by=[_T.name])

    async def live_nodes(self, now: datetime | None = None) -> list[ClusterNode]:
        now = now or discord.utils.utcnow()
        return [node for node in await self.nodes() if node_alive(node, now)]
