"""One process of the cluster tests: a node that registers and runs scheduled jobs.

``python cluster_worker.py URL NODE SHARD_COUNT SHARD_IDS LEASE_SECONDS`` registers the node in
``cluster_node`` (exit 2 with the refusal when its shards are taken), starts a JobScheduler in
cluster mode with a ``test.work`` handler and prints ``ready``. The handler records each run in
``job_run`` (every run, to count duplicates) and its effect in ``job_effect`` (once per job: an
idempotent handler), then takes 0.1 s. It runs until killed or sent SIGTERM.
"""

from __future__ import annotations

import asyncio
import signal
import sys

import sqlalchemy as sa

from fish_bot.core.cluster import ClusterInfo, parse_shard_ids
from fish_bot.core.cluster_membership import ClusterMembership
from fish_bot.core.scheduler import JobScheduler
from fish_bot.database.controllers.cluster import ShardClaimConflict
from fish_bot.database.coordinator import DatabaseCoordinator
from fish_bot.database.models.scheduler import ScheduledJob
from fish_bot.database.service import DatabaseService


async def main(url: str, node: str, count: int, ids: str, lease: float) -> int:
    service = DatabaseService(url)
    await service.connect()
    db = DatabaseCoordinator(service)
    info = ClusterInfo(node_name=node, shard_count=count, shard_ids=parse_shard_ids(ids))
    membership = ClusterMembership(db, info, interval=1.0)
    try:
        await membership.start()
    except ShardClaimConflict as error:
        print(error, file=sys.stderr, flush=True)
        await service.disconnect()
        return 2
    scheduler = JobScheduler(
        db, cluster=info, lease_seconds=lease, poll_interval=1.0, batch_size=10
    )

    async def work(job: ScheduledJob) -> None:
        async with service.transaction() as session:
            values = {"job": job.id, "node": node, "guild": job.guild_id}
            await session.execute(
                sa.text(
                    "INSERT INTO job_run (job_id, node, guild_id) VALUES (:job, :node, :guild)"
                ),
                values,
            )
            await session.execute(
                sa.text(
                    "INSERT INTO job_effect (job_id, node, guild_id) VALUES (:job, :node, :guild)"
                    " ON CONFLICT (job_id) DO NOTHING"
                ),
                values,
            )
        await asyncio.sleep(0.1)

    scheduler.register_handler("test.work", work)
    await scheduler.start()
    print("ready", flush=True)
    stop = asyncio.Event()
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
    await stop.wait()
    await scheduler.stop()
    await membership.stop()
    await service.disconnect()
    return 0


if __name__ == "__main__":
    url, node, count, ids, lease = sys.argv[1:6]
    sys.exit(asyncio.run(main(url, node, int(count), ids, float(lease))))
