"""``fish-bot run`` shard options and ``fish-bot cluster status`` through the command line."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import discord.utils

from fish_bot.core.cluster import ClusterInfo
from fish_bot.database.coordinator import DatabaseCoordinator
from fish_bot.operations.lock import RunLock, running_bot

from .conftest import FAKE_TOKEN, Instance, run


def _last_line(text: str) -> str:
    lines = [line for line in text.splitlines() if line.strip()]
    return lines[-1] if lines else ""


def test_bad_shard_options_stop_run_with_one_line_and_exit_2(
    make_instance: Callable[[str], Instance],
) -> None:
    instance = make_instance("bot")
    instance.extra_env["DISCORD_TOKEN"] = FAKE_TOKEN
    cases = [
        (["--shard-count", "4", "--shard-ids", "0-4"], "shard 4 is outside the shard count 4"),
        (["--shard-count", "4", "--shard-ids", "0-2,2"], "shard 2 is named twice"),
        (["--shard-ids", "0-1"], "shard ids need a shard count"),
        (["--shard-count", "4", "--shard-ids", "x"], "'x' is not a shard id or range"),
    ]
    for args, message in cases:
        result = instance.cli("run", *args)
        assert result.exit_code == 2, (args, result.output)
        assert message in result.output
        assert len([line for line in result.output.splitlines() if line.strip()]) == 1


def test_sqlite_refuses_a_process_that_runs_only_some_shards(
    make_instance: Callable[[str], Instance],
) -> None:
    instance = make_instance("bot")
    instance.extra_env.update({"DISCORD_TOKEN": FAKE_TOKEN, "FISHBOT_SHARD_COUNT": "4"})
    result = instance.cli("run", "--shard-ids", "0-1")
    assert result.exit_code == 2
    assert "SQLite holds one bot process" in result.output
    assert "PostgreSQL" in result.output
    assert running_bot(instance.data_dir) is None  # refused before taking any lock


def test_the_run_lock_is_per_shard_set(make_instance: Callable[[str], Instance]) -> None:
    data_dir = make_instance("bot").data_dir
    first = ClusterInfo("a", 4, (0, 1))
    second = ClusterInfo("b", 4, (2, 3))
    with RunLock(data_dir, scope=first.lock_scope), RunLock(data_dir, scope=second.lock_scope):
        holder = running_bot(data_dir)  # restore/import see a shard set's lock too
        assert holder is not None
    assert running_bot(data_dir) is None


def test_cluster_status_shows_nodes_shards_guilds_and_health(
    make_instance: Callable[[str], Instance],
) -> None:
    instance = make_instance("bot")
    empty = instance.cli("cluster", "status")
    assert empty.exit_code == 0, empty.output
    assert "No node is registered" in empty.output

    async def register(db: DatabaseCoordinator) -> None:
        node = ClusterInfo("eu-1", 4, (0, 1), host="elsewhere", pid=10, version="0.1.0")
        await db.cluster_node.register(node, guild_count=1234)
        await db.cluster_node.heartbeat(node, guild_count=1300)

    run(lambda: instance.with_db(register))
    result = instance.cli("cluster", "status")
    assert result.exit_code == 0, result.output
    assert "eu-1" in result.output and "0-1 of 4" in result.output
    assert "1300" in result.output and "alive" in result.output
    assert "shard(s) 2-3 of 4 run on no live node" in result.output
    strict = instance.cli("cluster", "status", "--strict")
    assert strict.exit_code == 1

    async def age(db: DatabaseCoordinator) -> None:
        old = discord.utils.utcnow() - timedelta(seconds=61)
        await db.cluster_node.update_where({"name": "eu-1"}, {"heartbeat_at": old})

    run(lambda: instance.with_db(age))
    dead = instance.cli("cluster", "status")
    assert "dead" in dead.output
    assert "node 'eu-1' is dead (last heartbeat 61s ago)" in dead.output
