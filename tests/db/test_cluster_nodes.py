"""ClusterNodeController: registration, shard conflicts, heartbeats and dead nodes."""

from __future__ import annotations

from datetime import timedelta

import discord.utils
import pytest

from fish_bot.core.cluster import ClusterInfo
from fish_bot.core.cluster_membership import ClusterMembership
from fish_bot.database.controllers.cluster import ShardClaimConflict, node_alive
from fish_bot.database.coordinator import DatabaseCoordinator


def _node(name: str, ids: tuple[int, ...], pid: int = 100, count: int = 4) -> ClusterInfo:
    return ClusterInfo(name, count, ids, host="other-host", pid=pid, version="0.1.0")


async def test_register_heartbeat_and_unregister(db: DatabaseCoordinator) -> None:
    node = _node("a", (0, 1))
    row = await db.cluster_node.register(node, guild_count=3)
    assert (row.name, row.shard_ids, row.shard_count, row.host) == ("a", [0, 1], 4, "other-host")
    assert await db.cluster_node.heartbeat(node, guild_count=7)
    (stored,) = await db.cluster_node.nodes()
    assert stored.guild_count == 7 and node_alive(stored)
    assert await db.cluster_node.unregister(node)
    assert await db.cluster_node.nodes() == []
    assert not await db.cluster_node.heartbeat(node, guild_count=7)  # gone: register again


async def test_a_live_node_keeps_its_shards_and_is_named(
    db: DatabaseCoordinator, db_backend: str
) -> None:
    await db.cluster_node.register(_node("first", (0, 1)))
    with pytest.raises(ShardClaimConflict) as caught:
        await db.cluster_node.register(_node("second", (1, 2), pid=200))
    assert "'first'" in str(caught.value)
    assert caught.value.holder.name == "first"
    if db_backend == "sqlite":
        assert "SQLite holds one bot process" in str(caught.value)
    else:
        assert "Shard(s) 1 already run" in str(caught.value)
        await db.cluster_node.register(_node("third", (2, 3), pid=300))  # disjoint: fine
        names = [node.name for node in await db.cluster_node.nodes()]
        assert names == ["first", "third"]


async def test_same_name_twice_and_other_shard_counts_are_refused(
    db: DatabaseCoordinator, db_backend: str
) -> None:
    await db.cluster_node.register(_node("a", (0, 1)))
    with pytest.raises(ShardClaimConflict, match="already runs as node 'a'"):
        await db.cluster_node.register(_node("a", (2, 3), pid=999))
    if db_backend == "postgresql":
        with pytest.raises(ShardClaimConflict, match="same --shard-count"):
            await db.cluster_node.register(_node("b", (5,), pid=5, count=8))


async def test_a_node_silent_for_60_seconds_is_dead_and_replaced(db: DatabaseCoordinator) -> None:
    await db.cluster_node.register(_node("old", (0, 1)))
    stale = discord.utils.utcnow() - timedelta(seconds=61)
    await db.cluster_node.update_where({"name": "old"}, {"heartbeat_at": stale})
    (old,) = await db.cluster_node.nodes()
    assert not node_alive(old)
    await db.cluster_node.register(_node("new", (1, 2), pid=2))
    assert [node.name for node in await db.cluster_node.nodes()] == ["new"]


async def test_a_node_whose_local_process_is_gone_is_dead_at_once(
    db: DatabaseCoordinator,
) -> None:
    crashed = ClusterInfo("crashed", 4, (0,), pid=2**22 + 12345)  # this host, no such pid
    await db.cluster_node.register(crashed)
    (row,) = await db.cluster_node.nodes()
    assert not node_alive(row)
    await db.cluster_node.register(ClusterInfo("crashed", 4, (0,)))  # the restart takes over


async def test_membership_registers_beats_and_leaves(db: DatabaseCoordinator) -> None:
    node = _node("m", (0,))
    membership = ClusterMembership(db, node, lambda: 42, interval=3600)
    await membership.start()
    assert membership.running
    await db.cluster_node.delete_where({"name": "m"})  # an operator removed the row
    await membership.beat()  # registers again
    (row,) = await db.cluster_node.nodes()
    assert row.guild_count == 42
    await membership.stop()
    assert await db.cluster_node.nodes() == []
