"""The persisted job scheduler: jobs run once, at their time, and survive restarts.

Runs on SQLite and, when FISHBOT_TEST_DATABASE_URL is set, on PostgreSQL (the ``db`` fixture).
Time comes from a fake clock the tests move by hand; the only real waiting is bounded by short
``asyncio.wait_for`` timeouts that fail the test instead of hanging it.
"""

from __future__ import annotations

import asyncio
import logging
from collections import Counter
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import discord
import pytest
import simcord
from discord.ext import commands

from fish_bot.core.scheduler import JobScheduler
from fish_bot.database.coordinator import DatabaseCoordinator
from fish_bot.database.models import JobStatus, ScheduledJob

START = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
WAIT = 10.0  # seconds before a test that awaits the runner gives up


class FakeClock:
    """A clock the test moves by hand."""

    def __init__(self, now: datetime = START) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


class Recorder:
    """A handler that records the jobs it ran and can be awaited."""

    def __init__(self) -> None:
        self.calls: list[ScheduledJob] = []
        self.called = asyncio.Event()

    async def __call__(self, job: ScheduledJob) -> None:
        self.calls.append(job)
        self.called.set()

    @property
    def ids(self) -> list[int | None]:
        return [job.id for job in self.calls]

    async def wait(self) -> None:
        await asyncio.wait_for(self.called.wait(), timeout=WAIT)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
async def scheduler(db: DatabaseCoordinator, clock: FakeClock) -> AsyncIterator[JobScheduler]:
    sched = JobScheduler(db, clock=clock, logger=logging.getLogger("test.scheduler"))
    try:
        yield sched
    finally:
        await sched.stop()


async def _until_asleep(sched: JobScheduler) -> None:
    """Wait until the started runner has done its work and sleeps."""

    for _ in range(int(WAIT / 0.005)):
        if sched.sleeping_until is not None:
            return
        await asyncio.sleep(0.005)
    raise AssertionError("the runner never went to sleep")


async def _job(db: DatabaseCoordinator, job_id: int) -> ScheduledJob:
    job = await db.scheduled_job.get_by_id(job_id)
    assert job is not None
    return job


async def test_due_job_runs_exactly_once(
    db: DatabaseCoordinator, scheduler: JobScheduler, clock: FakeClock
) -> None:
    handler = Recorder()
    scheduler.register_handler("reminder", handler)
    job_id = await scheduler.schedule("reminder", clock(), {"text": "hi"}, guild_id=10)

    assert await scheduler.run_due() == 1
    assert await scheduler.run_due() == 0

    assert handler.ids == [job_id]
    assert handler.calls[0].payload == {"text": "hi"}
    assert handler.calls[0].guild_id == 10
    assert handler.calls[0].attempts == 1
    job = await _job(db, job_id)
    assert job.status == JobStatus.DONE
    assert job.finished_at is not None
    assert scheduler.stats["ran"] == 1
    assert scheduler.stats["failed"] == 0
    assert scheduler.stats["last_run_at"] == clock()


async def test_future_job_waits_for_its_time(
    db: DatabaseCoordinator, scheduler: JobScheduler, clock: FakeClock
) -> None:
    handler = Recorder()
    scheduler.register_handler("unban", handler)
    job_id = await scheduler.schedule("unban", clock() + timedelta(hours=1), {"user_id": 5})

    assert await scheduler.run_due() == 0
    clock.advance(minutes=59)
    assert await scheduler.run_due() == 0
    assert handler.calls == []
    assert await db.scheduled_job.next_run_at() == START + timedelta(hours=1)

    clock.advance(minutes=1)
    assert await scheduler.run_due() == 1
    assert handler.ids == [job_id]
    assert await db.scheduled_job.next_run_at() is None


async def test_started_runner_runs_a_job_scheduled_for_now(
    db: DatabaseCoordinator, scheduler: JobScheduler, clock: FakeClock
) -> None:
    handler = Recorder()
    scheduler.register_handler("reminder", handler)
    await scheduler.start()
    assert scheduler.is_running
    await scheduler.start()  # idempotent
    await _until_asleep(scheduler)
    assert scheduler.sleeping_until == clock() + timedelta(seconds=scheduler.poll_interval)

    clock.advance(days=3)  # the runner is asleep for up to poll_interval (60 s)
    job_id = await scheduler.schedule("reminder", clock(), {"n": 1})
    await handler.wait()

    assert handler.ids == [job_id]
    await scheduler.stop()
    assert not scheduler.is_running
    assert (await _job(db, job_id)).status == JobStatus.DONE


async def test_job_scheduled_inside_a_transaction_runs_after_commit(
    db: DatabaseCoordinator, scheduler: JobScheduler, clock: FakeClock
) -> None:
    handler = Recorder()
    scheduler.register_handler("reminder", handler)
    await scheduler.start()
    await _until_asleep(scheduler)
    async with db.transaction():
        job_id = await scheduler.schedule("reminder", clock())
        await db.guild.ensure(1)
    await handler.wait()
    assert handler.ids == [job_id]


async def test_rolled_back_schedule_never_runs(
    db: DatabaseCoordinator, scheduler: JobScheduler, clock: FakeClock
) -> None:
    handler = Recorder()
    scheduler.register_handler("reminder", handler)
    with pytest.raises(RuntimeError):
        async with db.transaction():
            await scheduler.schedule("reminder", clock())
            raise RuntimeError("abort")
    assert await scheduler.run_due() == 0
    assert await db.scheduled_job.count() == 0


async def test_cancel_prevents_the_run(
    db: DatabaseCoordinator, scheduler: JobScheduler, clock: FakeClock
) -> None:
    handler = Recorder()
    scheduler.register_handler("unban", handler)
    job_id = await scheduler.schedule("unban", clock() + timedelta(minutes=5))

    assert await scheduler.cancel(job_id) is True
    assert await scheduler.cancel(job_id) is False  # only pending jobs
    assert await scheduler.cancel(999_999) is False
    clock.advance(hours=1)
    assert await scheduler.run_due() == 0
    assert handler.calls == []
    job = await _job(db, job_id)
    assert job.status == JobStatus.CANCELLED
    assert job.finished_at is not None


async def test_cancel_where_matches_type_guild_and_payload(
    db: DatabaseCoordinator, scheduler: JobScheduler, clock: FakeClock
) -> None:
    later = clock() + timedelta(hours=1)
    a = await scheduler.schedule("unban", later, {"user_id": 1, "case": 7}, guild_id=10)
    b = await scheduler.schedule("unban", later, {"user_id": 2}, guild_id=10)
    c = await scheduler.schedule("unban", later, {"user_id": 1}, guild_id=20)
    d = await scheduler.schedule("unmute", later, {"user_id": 1}, guild_id=10)
    e = await scheduler.schedule("unban", later, {}, guild_id=10)

    assert await scheduler.cancel_where("unban", 10, {"user_id": 1}) == 1
    assert await scheduler.cancel_where("unban", 10, {"user_id": 1}) == 0
    assert await scheduler.cancel_where("unban", payload_filter={"user_id": 1}) == 1  # any guild

    pending = await db.scheduled_job.pending()
    assert [job.id for job in pending] == [b, d, e]
    assert [job.id for job in await db.scheduled_job.pending("unban")] == [b, e]
    assert [job.id for job in await db.scheduled_job.pending(guild_id=10)] == [b, d, e]
    assert (await _job(db, a)).status == JobStatus.CANCELLED
    assert (await _job(db, c)).status == JobStatus.CANCELLED

    # No payload filter: every pending job of the type in the guild.
    assert await scheduler.cancel_where("unban", 10) == 2
    assert [job.id for job in await db.scheduled_job.pending()] == [d]


async def test_failing_handler_is_retried_then_fails(
    db: DatabaseCoordinator, scheduler: JobScheduler, clock: FakeClock
) -> None:
    calls: list[int] = []

    async def broken(job: ScheduledJob) -> None:
        calls.append(job.attempts)
        raise RuntimeError("discord said no")

    scheduler.register_handler("unban", broken)
    job_id = await scheduler.schedule("unban", clock(), {"user_id": 1}, max_attempts=2)

    assert await scheduler.run_due() == 1
    job = await _job(db, job_id)
    assert job.status == JobStatus.PENDING
    assert job.attempts == 1
    assert job.run_at == START + timedelta(seconds=30)
    assert job.last_error is not None and "discord said no" in job.last_error
    assert await scheduler.run_due() == 0  # not before the retry time

    clock.advance(seconds=30)
    assert await scheduler.run_due() == 1
    job = await _job(db, job_id)
    assert job.status == JobStatus.FAILED
    assert job.attempts == 2
    assert job.finished_at is not None
    assert calls == [1, 2]
    assert scheduler.stats["failed"] == 2
    assert "discord said no" in scheduler.stats["last_error"]

    clock.advance(days=1)
    assert await scheduler.run_due() == 0  # a failed job is never run again


async def test_retry_after_a_failure_then_success(
    db: DatabaseCoordinator, scheduler: JobScheduler, clock: FakeClock
) -> None:
    attempts: list[int] = []

    async def flaky(job: ScheduledJob) -> None:
        attempts.append(job.attempts)
        if job.attempts == 1:
            raise TimeoutError

    scheduler.register_handler("reminder", flaky)
    job_id = await scheduler.schedule("reminder", clock())
    assert await scheduler.run_due() == 1
    clock.advance(minutes=1)
    assert await scheduler.run_due() == 1
    assert attempts == [1, 2]
    assert (await _job(db, job_id)).status == JobStatus.DONE


async def test_handler_that_hangs_times_out_and_is_retried(
    db: DatabaseCoordinator, clock: FakeClock
) -> None:
    async def hangs(job: ScheduledJob) -> None:
        await asyncio.Event().wait()

    sched = JobScheduler(db, clock=clock, job_timeout=0.05)
    sched.register_handler("slow", hangs)
    job_id = await sched.schedule("slow", clock())
    assert await asyncio.wait_for(sched.run_due(), timeout=WAIT) == 1
    job = await _job(db, job_id)
    assert job.status == JobStatus.PENDING
    assert job.attempts == 1
    assert job.last_error == "TimeoutError"


def test_retry_delay_backs_off_exponentially_with_a_cap(db: DatabaseCoordinator) -> None:
    sched = JobScheduler(db)
    assert [sched.retry_delay(n) for n in (1, 2, 3, 4)] == [30, 60, 120, 240]
    assert sched.retry_delay(20) == 3600


async def test_job_without_handler_stays_pending_until_one_is_registered(
    db: DatabaseCoordinator, scheduler: JobScheduler, clock: FakeClock
) -> None:
    job_id = await scheduler.schedule("ads.expire", clock() - timedelta(minutes=1))
    assert await scheduler.run_due() == 0
    job = await _job(db, job_id)
    assert job.status == JobStatus.PENDING
    assert job.attempts == 0

    await scheduler.start()
    await _until_asleep(scheduler)
    # Nothing to run: the runner sleeps a full poll interval instead of spinning on the job.
    assert await scheduler._seconds_until_next() == scheduler.poll_interval

    handler = Recorder()
    scheduler.register_handler("ads.expire", handler)  # the cog loads: the runner wakes up
    await handler.wait()
    assert handler.ids == [job_id]


async def test_reregistering_replaces_the_handler(
    scheduler: JobScheduler, clock: FakeClock
) -> None:
    old, new = Recorder(), Recorder()
    scheduler.register_handler("reminder", old)
    scheduler.register_handler("reminder", new)  # cog reload
    await scheduler.schedule("reminder", clock())
    assert await scheduler.run_due() == 1
    assert old.calls == []
    assert len(new.calls) == 1

    assert scheduler.unregister_handler("reminder") is True
    assert scheduler.unregister_handler("reminder") is False
    await scheduler.schedule("reminder", clock())
    assert await scheduler.run_due() == 0


async def test_concurrent_runs_run_each_job_once(db: DatabaseCoordinator, clock: FakeClock) -> None:
    seen: Counter[int | None] = Counter()

    async def handler(job: ScheduledJob) -> None:
        await asyncio.sleep(0)
        seen[job.id] += 1

    first = JobScheduler(db, clock=clock)
    second = JobScheduler(DatabaseCoordinator(db.service), clock=clock)  # another runner
    ids = [await first.schedule("reminder", clock(), {"n": n}) for n in range(12)]
    for sched in (first, second):
        sched.register_handler("reminder", handler)

    results = await asyncio.gather(first.run_due(), second.run_due(), first.run_due())

    assert sum(results) == len(ids)
    assert seen == Counter(dict.fromkeys(ids, 1))
    assert await db.scheduled_job.count({"status": JobStatus.DONE.value}) == len(ids)


async def test_jobs_due_while_down_run_after_restart(
    db: DatabaseCoordinator, clock: FakeClock
) -> None:
    before = JobScheduler(db, clock=clock)
    job_id = await before.schedule("unban", clock() + timedelta(minutes=10), {"user_id": 3})
    await before.stop()  # the bot shuts down before the job is due

    clock.advance(hours=2)  # ... and comes back later
    after = JobScheduler(DatabaseCoordinator(db.service), clock=clock)
    handler = Recorder()
    after.register_handler("unban", handler)
    await after.start()
    try:
        await handler.wait()
    finally:
        await after.stop()

    assert handler.ids == [job_id]
    assert (await _job(db, job_id)).status == JobStatus.DONE


async def test_job_interrupted_by_a_crash_runs_again_after_restart(
    db: DatabaseCoordinator, clock: FakeClock
) -> None:
    job_id = (await db.scheduled_job.add("unban", clock(), {"user_id": 3})).id
    assert job_id is not None
    assert await db.scheduled_job.claim(job_id) is True  # the process dies while it runs
    assert await db.scheduled_job.claim(job_id) is False

    sched = JobScheduler(DatabaseCoordinator(db.service), clock=clock)
    handler = Recorder()
    sched.register_handler("unban", handler)
    await sched.start()
    try:
        await handler.wait()
    finally:
        await sched.stop()
    assert handler.ids == [job_id]
    assert handler.calls[0].attempts == 2


async def test_reset_stale_running_puts_running_jobs_back(
    db: DatabaseCoordinator, clock: FakeClock
) -> None:
    jobs = db.scheduled_job
    running = await jobs.add("unban", clock(), {})
    waiting = await jobs.add("unban", clock() + timedelta(hours=1), {})
    assert running.id is not None and waiting.id is not None
    assert await jobs.claim(running.id, now=clock()) is True
    assert await jobs.claim(waiting.id, now=clock()) is False  # not due yet

    assert await jobs.reset_stale_running() == 1
    assert (await _job(db, running.id)).status == JobStatus.PENDING
    assert (await _job(db, waiting.id)).status == JobStatus.PENDING
    assert await jobs.reset_stale_running() == 0


async def test_stop_interrupts_a_running_handler_and_gives_the_job_back(
    db: DatabaseCoordinator, clock: FakeClock
) -> None:
    started = asyncio.Event()

    async def slow(job: ScheduledJob) -> None:
        started.set()
        await asyncio.Event().wait()  # never finishes on its own

    sched = JobScheduler(db, clock=clock, shutdown_timeout=0.05)
    sched.register_handler("slow", slow)
    job_id = await sched.schedule("slow", clock())
    await sched.start()
    await asyncio.wait_for(started.wait(), timeout=WAIT)
    await sched.stop()

    job = await _job(db, job_id)
    assert job.status == JobStatus.PENDING
    assert job.attempts == 0


async def test_runner_survives_a_database_error(
    db: DatabaseCoordinator, clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    controller = db.scheduled_job
    real_due = controller.due
    failures = [RuntimeError("database down")]

    async def flaky_due(*args: object, **kwargs: object) -> list[ScheduledJob]:
        if failures:
            raise failures.pop()
        return await real_due(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(controller, "due", flaky_due)
    sched = JobScheduler(db, clock=clock, error_backoff=0.01)
    handler = Recorder()
    sched.register_handler("reminder", handler)
    job_id = await sched.schedule("reminder", clock())
    await sched.start()
    try:
        await handler.wait()
        assert sched.is_running
    finally:
        await sched.stop()
    assert handler.ids == [job_id]
    assert "database down" in sched.stats["last_error"]


async def test_schedule_validates_its_arguments(scheduler: JobScheduler) -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        await scheduler.schedule("reminder", datetime(2026, 1, 1))
    with pytest.raises(ValueError, match="max_attempts"):
        await scheduler.schedule("reminder", START, max_attempts=0)
    with pytest.raises(ValueError, match="JSON"):
        await scheduler.schedule("reminder", START, {"when": START})
    with pytest.raises(ValueError, match="job_type"):
        await scheduler.schedule("x" * 65, START)


async def test_due_lists_pending_jobs_in_run_order(
    db: DatabaseCoordinator, clock: FakeClock
) -> None:
    jobs = db.scheduled_job
    late = await jobs.add("a", clock() + timedelta(minutes=2), {})
    early = await jobs.add("b", clock() - timedelta(minutes=5), {})
    same = await jobs.add("a", clock() - timedelta(minutes=5), {})
    future = await jobs.add("a", clock() + timedelta(days=1), {})
    assert future.id is not None

    due = await jobs.due(clock() + timedelta(minutes=2))
    assert [job.id for job in due] == [early.id, same.id, late.id]
    assert [job.id for job in await jobs.due(clock(), limit=1)] == [early.id]
    assert [job.id for job in await jobs.due(clock(), job_types=["a"])] == [same.id]
    assert await jobs.next_run_at(job_types=["a"]) == clock() - timedelta(minutes=5)
    assert await jobs.next_run_at(job_types=["zzz"]) is None


class _SchedulerBot(commands.Bot):
    """A bare bot that starts a JobScheduler in setup_hook, as FishBot does."""

    def __init__(self, db: DatabaseCoordinator) -> None:
        super().__init__(command_prefix="!", intents=discord.Intents.default())
        # A long poll keeps advance_time cheap: each idle wake-up costs real database round trips.
        self.scheduler = JobScheduler(db, poll_interval=1800)
        self.handler = Recorder()

    async def setup_hook(self) -> None:
        self.scheduler.register_handler("reminder", self.handler)
        await self.scheduler.start()

    async def close(self) -> None:
        await self.scheduler.stop()
        await super().close()


async def test_virtual_time_drives_the_runner(db: DatabaseCoordinator) -> None:
    bot = _SchedulerBot(db)
    async with simcord.run(bot) as env:
        due = discord.utils.utcnow() + timedelta(hours=2)
        job_id = await bot.scheduler.schedule("reminder", due, {"text": "tea"})
        await env.settle()
        await env.advance_time(3600)
        assert bot.handler.calls == []

        await env.advance_time(3600)
        assert bot.handler.ids == [job_id]
        assert (await _job(db, job_id)).status == JobStatus.DONE
        assert bot.scheduler.stats["last_run_at"] == due


async def test_pending_count_counts_waiting_jobs_by_type_and_guild(
    db: DatabaseCoordinator, scheduler: JobScheduler, clock: FakeClock
) -> None:
    later = clock() + timedelta(hours=1)
    await scheduler.schedule("unban", later, guild_id=1)
    await scheduler.schedule("unban", later, guild_id=2)
    done = await scheduler.schedule("reminder", later, guild_id=1)
    await scheduler.schedule("reminder", later, guild_id=1)
    assert await scheduler.cancel(done)
    assert await scheduler.pending_count("unban") == 2
    assert await scheduler.pending_count("unban", "reminder") == 3
    assert await scheduler.pending_count("unban", guild_id=2) == 1
    assert await scheduler.pending_count() == 3
    assert await scheduler.pending_count("nothing") == 0


async def test_a_failed_start_is_retried_until_it_works(
    db: DatabaseCoordinator, clock: FakeClock, caplog: pytest.LogCaptureFixture
) -> None:
    sched = JobScheduler(
        db, clock=clock, logger=logging.getLogger("test.scheduler"), start_backoff=0.01
    )
    reset = db.scheduled_job.reset_stale_running
    failures = 3

    async def flaky() -> int:
        nonlocal failures
        if failures:
            failures -= 1
            raise ConnectionError("database dropped")
        return await reset()

    db.scheduled_job.reset_stale_running = flaky  # type: ignore[method-assign]
    try:
        sched.start_soon()
        sched.start_soon()  # idempotent while a start is under way
        for _ in range(int(WAIT / 0.005)):
            if sched.is_running:
                break
            await asyncio.sleep(0.005)
        assert sched.is_running
        assert failures == 0
        assert sched.health()["running"] is True and sched.start_error is None
        assert caplog.text.count("The job scheduler could not start") == 3
        assert "started after 3 failed attempt(s)" in caplog.text
    finally:
        await sched.stop()
    assert sched.status_text() == "⏸️ not started"
