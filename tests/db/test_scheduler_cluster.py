"""The job scheduler in cluster mode (PostgreSQL): leased claims, take-over and NOTIFY.

Two or three schedulers share one PostgreSQL schema, each with its own DatabaseService (its own
connection pool), as separate processes would.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from datetime import timedelta
from typing import Any

import discord.utils
import pytest

from fish_bot.core.cluster import ClusterInfo, shard_of
from fish_bot.core.scheduler import JobScheduler
from fish_bot.database.coordinator import DatabaseCoordinator
from fish_bot.database.models.scheduler import JobStatus, ScheduledJob

pytestmark = pytest.mark.postgres

ON_0 = 4 << 22  # (4 % 2) == 0: shard 0 of 2
ON_1 = 5 << 22  # shard 1 of 2


@pytest.fixture
async def hubs(
    db_target: Any, db_service: object
) -> AsyncIterator[Callable[[], DatabaseCoordinator]]:
    """More controller hubs on the test's schema, each with a pool of its own."""
    services = []

    async def make() -> DatabaseCoordinator:
        service = db_target.service()
        await service.connect()
        services.append(service)
        return DatabaseCoordinator(service)

    yield make  # type: ignore[misc]
    for service in services:
        await service.disconnect()


def _node(name: str, shard: int) -> ClusterInfo:
    return ClusterInfo(name, 2, (shard,), host="test-host", pid=1)


async def test_claims_take_only_the_nodes_guilds_and_leave_the_rest(
    db_backend: str, db: DatabaseCoordinator
) -> None:
    now = discord.utils.utcnow()
    ours = await db.scheduled_job.add("t", now, guild_id=ON_0)
    theirs = await db.scheduled_job.add("t", now, guild_id=ON_1)
    global_job = await db.scheduled_job.add("t", now)
    assert shard_of(ON_0, 2) == 0 and shard_of(ON_1, 2) == 1
    claimed = await db.scheduled_job.claim_leased(
        now, 10, job_types=["t"], owner="a", lease_seconds=30, shard_count=2, shard_ids=[0]
    )
    assert {job.id for job in claimed} == {ours.id, global_job.id}
    assert all(job.lease_owner == "a" and job.attempts == 1 for job in claimed)
    again = await db.scheduled_job.claim_leased(
        now, 10, job_types=["t"], owner="b", lease_seconds=30, shard_count=2, shard_ids=[0]
    )
    assert again == []  # leased: nobody else takes them
    (left,) = await db.scheduled_job.pending()
    assert left.id == theirs.id


async def test_an_expired_lease_is_taken_over_and_the_old_runner_cannot_finish(
    db_backend: str, db: DatabaseCoordinator
) -> None:
    now = discord.utils.utcnow()
    job = await db.scheduled_job.add("t", now, guild_id=ON_0)
    assert job.id is not None

    async def claim(owner: str, seconds: float) -> list[ScheduledJob]:
        return await db.scheduled_job.claim_leased(
            now + timedelta(seconds=seconds),
            10,
            job_types=["t"],
            owner=owner,
            lease_seconds=30,
            shard_count=2,
            shard_ids=[0],
        )

    assert [job.lease_owner for job in await claim("a", 0)] == ["a"]
    assert await claim("b", 29) == []  # a's lease holds
    assert await db.scheduled_job.renew_leases("a", [job.id], now + timedelta(seconds=60)) == 1
    assert await claim("b", 31) == []  # renewed
    later = now + timedelta(seconds=61)
    (taken,) = await claim("b", 61)  # a died: its lease expired
    assert (taken.id, taken.lease_owner, taken.attempts) == (job.id, "b", 2)
    assert not await db.scheduled_job.finish(job.id, owner="a")  # a's run was taken over
    assert await db.scheduled_job.renew_leases("a", [job.id], later) == 0
    assert await db.scheduled_job.finish(job.id, owner="b")
    stored = await db.scheduled_job.get_by_id(job.id)
    assert stored is not None and stored.status == JobStatus.DONE.value


async def test_concurrent_claims_never_share_a_job(
    db_backend: str, db: DatabaseCoordinator, hubs: Callable[[], object]
) -> None:
    now = discord.utils.utcnow()
    for index in range(60):
        await db.scheduled_job.add("t", now, {"i": index})
    others = [await hubs() for _ in range(3)]  # type: ignore[misc]

    async def claim_all(hub: DatabaseCoordinator, owner: str) -> list[int]:
        got: list[int] = []
        while True:
            jobs = await hub.scheduled_job.claim_leased(
                now, 7, job_types=["t"], owner=owner, lease_seconds=60
            )
            if not jobs:
                return got
            got.extend(job.id for job in jobs if job.id is not None)

    results = await asyncio.gather(
        *(claim_all(hub, f"n{index}") for index, hub in enumerate(others))
    )
    every = [job_id for result in results for job_id in result]
    assert len(every) == 60 and len(set(every)) == 60


async def _idle(*schedulers: JobScheduler) -> None:
    """Until every scheduler's runner has looked for jobs and gone to sleep."""
    for _ in range(3000):
        if all(scheduler.sleeping_until is not None for scheduler in schedulers):
            return
        await asyncio.sleep(0.01)
    raise AssertionError("the runners did not go to sleep")


async def _wait_for(event: asyncio.Event, what: str) -> None:
    try:
        async with asyncio.timeout(30):
            await event.wait()
    except TimeoutError:
        raise AssertionError(f"gave up waiting for {what}") from None


async def test_a_job_scheduled_in_one_process_wakes_the_owner_of_its_guild(
    db_backend: str, db: DatabaseCoordinator, hubs: Callable[[], object]
) -> None:
    hub_b = await hubs()  # type: ignore[misc]
    # An hour between polls: only the NOTIFY can make b run the job in time.
    a = JobScheduler(db, cluster=_node("a", 0), poll_interval=3600)
    b = JobScheduler(hub_b, cluster=_node("b", 1), poll_interval=3600)
    ran: list[tuple[str, int | None]] = []
    done = asyncio.Event()

    def handler(name: str) -> Callable[[ScheduledJob], object]:
        async def run(job: ScheduledJob) -> None:
            ran.append((name, job.guild_id))
            done.set()

        return run

    a.register_handler("t", handler("a"))  # type: ignore[arg-type]
    b.register_handler("t", handler("b"))  # type: ignore[arg-type]
    await a.start()
    await b.start()
    try:
        assert a.leases is not None and b.leases is not None
        assert b.leases.listening
        await _idle(a, b)  # both looked and went to sleep for an hour
        # A rolled-back schedule notifies nobody; the committed one after it arrives alone.
        before = b.leases.notifications
        with pytest.raises(RuntimeError):
            async with db.transaction():
                await a.schedule("t", discord.utils.utcnow(), guild_id=ON_1)
                raise RuntimeError("roll back")
        await a.schedule("t", discord.utils.utcnow(), guild_id=ON_1)
        await _wait_for(done, "b to run the job a scheduled")
        assert ran == [("b", ON_1)]
        assert b.leases.notifications == before + 1
        assert await db.scheduled_job.count_pending() == 0
    finally:
        await a.stop()
        await b.stop()


async def test_a_lost_listener_connection_is_reopened_and_resyncs(
    db_backend: str, db: DatabaseCoordinator, monkeypatch: pytest.MonkeyPatch
) -> None:
    from fish_bot.core import scheduler_cluster

    monkeypatch.setattr(scheduler_cluster, "LISTENER_CHECK_SECONDS", 0.05)
    scheduler = JobScheduler(db, cluster=_node("a", 0), poll_interval=3600)
    ran = asyncio.Event()

    async def handler(job: ScheduledJob) -> None:
        ran.set()

    scheduler.register_handler("t", handler)
    await scheduler.start()
    try:
        assert scheduler.leases is not None
        old = scheduler.leases._connection
        await _idle(scheduler)
        # A job whose notification was missed (added without NOTIFY: as if it was sent while
        # the connection was down): the reconnect wakes the runner, which finds it.
        await db.scheduled_job.add("t", discord.utils.utcnow(), guild_id=ON_0)
        assert not ran.is_set()
        await old.close()
        await _wait_for(ran, "the reconnected listener to wake the runner")
        assert scheduler.leases._connection is not old and scheduler.leases.listening
    finally:
        await scheduler.stop()


async def test_stop_gives_leased_jobs_back(db_backend: str, db: DatabaseCoordinator) -> None:
    scheduler = JobScheduler(db, cluster=_node("a", 0), poll_interval=3600, shutdown_timeout=0)
    started = asyncio.Event()

    async def slow(job: ScheduledJob) -> None:
        started.set()
        await asyncio.sleep(3600)

    scheduler.register_handler("t", slow)
    await scheduler.start()
    job_id = await scheduler.schedule("t", discord.utils.utcnow(), guild_id=ON_0)
    await _wait_for(started, "the job to start")
    await scheduler.stop()
    job = await db.scheduled_job.get_by_id(job_id)
    assert job is not None
    assert (job.status, job.attempts, job.lease_owner) == (JobStatus.PENDING.value, 0, None)


async def test_identify_turns_are_shared_between_processes(
    db_backend: str, db: DatabaseCoordinator, hubs: Callable[[], object]
) -> None:
    from fish_bot.core.identify_lock import IdentifyGate

    other = await hubs()  # type: ignore[misc]
    first = IdentifyGate(db.service, max_concurrency=2, window=0.3)
    second = IdentifyGate(other.service, max_concurrency=2, window=0.3)
    order: list[str] = []
    await first.wait_turn(0)
    order.append("first identifies shard 0")

    async def later() -> None:
        await second.wait_turn(2)  # bucket 2 % 2 == 0: the same as shard 0
        order.append("second identifies shard 2")

    waiting = asyncio.create_task(later())
    await second.wait_turn(1)  # another bucket: no wait for shard 0's window
    order.append("second identifies shard 1")
    await waiting
    assert order == [
        "first identifies shard 0",
        "second identifies shard 1",
        "second identifies shard 2",
    ]
    await first.stop()
    await second.stop()
