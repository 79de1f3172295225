"""Cluster mode with real processes on one PostgreSQL database (docs/scaling.md).

* 300 jobs over guilds of three shards, three node processes, one killed with SIGKILL halfway
  and started again: every job's effect happened exactly once, on the process owning its guild
  (jobs without a guild: on some live process), none lost; no job ran twice on live processes.
* Two processes claiming the same shard: the second (``fish-bot run``) exits 2 naming the first.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import discord.utils
import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import create_async_engine

from fish_bot.core.cluster import shard_of
from fish_bot.database.coordinator import DatabaseCoordinator

from .conftest import FAKE_TOKEN, Instance, run

pytestmark = pytest.mark.postgres

WORKER = Path(__file__).with_name("cluster_worker.py")
ROOT = Path(__file__).resolve().parents[2]


def _env(**extra: str) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if not key.startswith("FISHBOT_")}
    env.update({"PYTHONPATH": str(ROOT / "src"), **extra})
    return env


def _start(
    url: str, node: str, ids: str, count: int = 3, lease: float = 2.0
) -> subprocess.Popen[str]:
    process = subprocess.Popen(
        [sys.executable, str(WORKER), url, node, str(count), ids, str(lease)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=_env(),
    )
    assert process.stdout is not None
    line = process.stdout.readline()
    assert line.strip() == "ready", process.stderr.read() if process.stderr else line
    return process


@pytest.fixture
def processes() -> Iterator[list[subprocess.Popen[str]]]:
    started: list[subprocess.Popen[str]] = []
    yield started
    for process in started:
        if process.poll() is None:
            process.kill()
        process.wait(timeout=30)


def _wait(condition: Callable[[], bool], what: str, timeout: float = 120.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"gave up waiting for {what}"
        time.sleep(0.05)


def _query(instance: Instance, sql: str) -> list[Any]:
    async def action() -> list[Any]:
        engine = create_async_engine(instance.database_url)
        try:
            async with engine.connect() as connection:
                return list((await connection.execute(sa.text(sql))).all())
        finally:
            await engine.dispose()

    return run(action)


def _guild(index: int, shard: int) -> int:
    """A guild id on ``shard`` of 3 (Discord's rule: (id >> 22) % shard_count)."""
    guild_id = ((index * 3 + shard) << 22) + 12345
    assert shard_of(guild_id, 3) == shard
    return guild_id


def test_300_jobs_three_processes_one_killed_each_runs_once_on_its_owner(
    db_backend: str,
    make_instance: Callable[[str], Instance],
    processes: list[subprocess.Popen[str]],
) -> None:
    instance = make_instance("cluster")
    url = instance.database_url

    async def prepare(db: DatabaseCoordinator) -> None:
        async with db.service.transaction() as session:
            for table in ("job_run", "job_effect"):
                unique = " PRIMARY KEY" if table == "job_effect" else ""
                await session.execute(
                    sa.text(
                        f"CREATE TABLE {table} (job_id BIGINT{unique}, node TEXT, guild_id BIGINT)"
                    )
                )
        now = discord.utils.utcnow()
        for index in range(270):
            await db.scheduled_job.add(
                "test.work", now, {"i": index}, guild_id=_guild(index, index % 3)
            )
        for index in range(30):
            await db.scheduled_job.add(
                "test.work", now + timedelta(milliseconds=index), {"g": index}
            )

    run(lambda: instance.with_db(prepare))
    owners = {"a": 0, "b": 1, "c": 2, "c2": 2}
    processes.append(_start(url, "a", "0"))
    processes.append(_start(url, "b", "1"))
    killed = _start(url, "c", "2")
    processes.append(killed)

    def runs_of_c() -> int:
        return int(_query(instance, "SELECT count(*) FROM job_run WHERE node = 'c'")[0][0])

    _wait(lambda: runs_of_c() >= 40, "node c to run 40 jobs")
    killed.send_signal(signal.SIGKILL)  # no release, no unregister: its leases must expire
    killed.wait(timeout=30)
    ran_by_killed = {
        row[0] for row in _query(instance, "SELECT job_id FROM job_run WHERE node = 'c'")
    }
    assert 40 <= len(ran_by_killed) < 100  # killed halfway through its 90+ jobs

    processes.append(_start(url, "c2", "2"))  # shard 2 comes back (the dead c is replaced)

    def finished() -> int:
        return int(
            _query(instance, "SELECT count(*) FROM scheduled_job WHERE status = 'done'")[0][0]
        )

    _wait(lambda: finished() == 300, "all 300 jobs to be done")

    jobs = {row[0]: row[1] for row in _query(instance, "SELECT id, guild_id FROM scheduled_job")}
    statuses = Counter(row[0] for row in _query(instance, "SELECT status FROM scheduled_job"))
    assert statuses == {"done": 300}
    effects = _query(instance, "SELECT job_id, node, guild_id FROM job_effect")
    assert sorted(row[0] for row in effects) == sorted(jobs)  # each job's effect exactly once
    for job_id, node, guild_id in effects:
        if guild_id is not None:
            assert shard_of(guild_id, 3) == owners[node], (job_id, node)
    global_nodes = {node for _, node, guild_id in effects if guild_id is None}
    assert global_nodes <= set(owners)
    runs = _query(instance, "SELECT job_id, node FROM job_run")
    for job_id, node in runs:
        guild_id = jobs[job_id]
        if guild_id is not None:
            assert shard_of(guild_id, 3) == owners[node]
    live_runs = Counter(job_id for job_id, node in runs if node != "c")
    assert max(live_runs.values()) == 1  # no duplicate among live processes
    per_job = Counter(job_id for job_id, _ in runs)
    reruns = {job_id for job_id, count in per_job.items() if count > 1}
    assert reruns <= ran_by_killed  # only jobs the killed process had in hand ran again
    assert set(per_job) == set(jobs)  # none lost


def test_second_process_claiming_a_taken_shard_exits_2_naming_the_first(
    db_backend: str,
    make_instance: Callable[[str], Instance],
    processes: list[subprocess.Popen[str]],
) -> None:
    instance = make_instance("taken")
    run(lambda: instance.with_db(lambda db: db.cluster_node.nodes()))  # migrate first
    processes.append(_start(instance.database_url, "first-node", "0-1", count=4))
    result = subprocess.run(
        [sys.executable, "-m", "fish_bot", "run", "--shard-count", "4", "--shard-ids", "1-2"],
        capture_output=True,
        text=True,
        timeout=120,
        env=_env(
            DISCORD_TOKEN=FAKE_TOKEN,
            FISHBOT_DATABASE_URL=instance.database_url,
            FISHBOT_DATA_DIR=str(instance.data_dir),
            FISHBOT_CLUSTER_NAME="second-node",
        ),
        cwd=str(instance.data_dir.parent.parent),
    )
    assert result.returncode == 2, result.stderr
    assert "'first-node'" in result.stderr
    assert "Shard(s) 1 already run" in result.stderr
    nodes = run(lambda: instance.with_db(lambda db: db.cluster_node.nodes()))
    assert [node.name for node in nodes] == ["first-node"]  # the refused one left no row


def test_a_node_that_cannot_reach_discord_leaves_no_row_and_uses_the_rest_base(
    db_backend: str, make_instance: Callable[[str], Instance]
) -> None:
    import socket

    with socket.socket() as probe:  # a port nothing listens on: the "proxy" is down
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    instance = make_instance("unreachable")
    instance.data_dir.mkdir(parents=True)
    result = subprocess.run(
        [sys.executable, "-m", "fish_bot", "run", "--shard-count", "2", "--shard-ids", "0"],
        capture_output=True,
        text=True,
        timeout=120,
        env=_env(
            DISCORD_TOKEN=FAKE_TOKEN,
            FISHBOT_DATABASE_URL=instance.database_url,
            FISHBOT_DATA_DIR=str(instance.data_dir),
            FISHBOT_CLUSTER_NAME="lonely",
            FISHBOT_DISCORD_API_BASE=f"http://127.0.0.1:{port}/api/v10",
        ),
        cwd=str(instance.data_dir.parent),
    )
    assert result.returncode == 1, result.stderr
    assert "Could not reach Discord" in result.stderr
    assert f"127.0.0.1:{port}" in result.stderr  # REST went to the configured base
    assert run(lambda: instance.with_db(lambda db: db.cluster_node.nodes())) == []
