"""TaskTracker: outcome counting, exception transparency, active operations, bounded stats."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import discord.utils
import pytest

from fish_bot.core import task_tracker as tt
from fish_bot.core.task_tracker import TaskTracker


class FakeClock:
    """Stands in for time.perf_counter so durations are exact."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> FakeClock:
    fake = FakeClock()
    monkeypatch.setattr(tt.time, "perf_counter", fake)
    return fake


async def run_for(tracker: TaskTracker, clock: FakeClock, name: str, seconds: float) -> None:
    async with tracker.task_context(name):
        clock.now += seconds


async def test_success_and_failure_counting() -> None:
    tracker = TaskTracker()
    async with tracker.task_context("Job") as op:
        op.update_status("Done")
    with pytest.raises(ValueError):
        async with tracker.task_context("Job"):
            raise ValueError("boom")

    stats = tracker.stats("Job")
    assert stats is not None
    assert (stats.runs, stats.successes, stats.failures) == (2, 1, 1)
    assert stats.last_error is not None
    assert stats.last_error.type == "ValueError"
    assert stats.last_error.message == "boom"
    assert [run.success for run in stats.recent_runs] == [True, False]
    assert stats.recent_runs[0].status == "Done"
    assert stats.recent_runs[1].error == "ValueError: boom"
    assert tracker.total_failures == 1
    assert tracker.stats("Never ran") is None


async def test_exception_propagates_as_the_same_object() -> None:
    tracker = TaskTracker()
    error = KeyError("missing")
    with pytest.raises(KeyError) as caught:
        async with tracker.task_context("Lookup"):
            raise error
    assert caught.value is error
    assert caught.value.__traceback__ is not None


async def test_success_false_without_exception_is_a_failure() -> None:
    tracker = TaskTracker()
    async with tracker.task_context("Check") as op:
        op.update_status("Remote API said no", success=False)

    stats = tracker.stats("Check")
    assert stats is not None
    assert (stats.runs, stats.failures) == (1, 1)
    assert stats.last_status == "Remote API said no"
    assert stats.last_error is not None
    assert stats.last_error.type is None
    assert stats.last_error.message == "Remote API said no"
    assert tracker.total_failures == 1


async def test_success_true_after_false_flips_back() -> None:
    tracker = TaskTracker()
    async with tracker.task_context("Retry") as op:
        op.update_status("First attempt failed", success=False)
        op.update_status("Second attempt worked", success=True)
        op.update_status("Cleaning up")  # no success argument: outcome unchanged

    stats = tracker.stats("Retry")
    assert stats is not None
    assert (stats.successes, stats.failures) == (1, 0)
    assert stats.last_status == "Cleaning up"


async def test_cancellation_propagates_and_is_recorded() -> None:
    tracker = TaskTracker()
    entered = asyncio.Event()

    async def body() -> None:
        async with tracker.task_context("Loop"):
            entered.set()
            await asyncio.sleep(60)

    task = asyncio.create_task(body())
    await entered.wait()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task

    stats = tracker.stats("Loop")
    assert stats is not None
    assert (stats.runs, stats.failures, stats.cancellations) == (1, 1, 1)
    assert stats.recent_runs[-1].cancelled
    assert tracker.active() == []


async def test_concurrent_runs_of_one_name_are_tracked_apart() -> None:
    tracker = TaskTracker()
    release = asyncio.Event()
    both_in = asyncio.Barrier(3)

    async def body(label: str) -> None:
        async with tracker.task_context("Sync") as op:
            op.update_status(f"working on {label}")
            await both_in.wait()
            await release.wait()

    tasks = [asyncio.create_task(body("a")), asyncio.create_task(body("b"))]
    await both_in.wait()

    active = tracker.active()
    assert [op.name for op in active] == ["Sync", "Sync"]
    assert len({op.id for op in active}) == 2
    assert {op.status for op in active} == {"working on a", "working on b"}
    assert all(op.started_at.tzinfo is not None for op in active)
    assert tracker.stats("Sync") is None  # nothing finished yet

    release.set()
    await asyncio.gather(*tasks)
    assert tracker.active() == []
    stats = tracker.stats("Sync")
    assert stats is not None
    assert stats.runs == 2


async def test_history_keeps_the_last_20_runs(clock: FakeClock) -> None:
    tracker = TaskTracker()
    for index in range(25):
        async with tracker.task_context("Tick") as op:
            op.update_status(f"run {index}")
            clock.now += 0.001

    stats = tracker.stats("Tick")
    assert stats is not None
    assert stats.runs == 25
    assert len(stats.recent_runs) == 20
    assert [run.status for run in stats.recent_runs] == [f"run {i}" for i in range(5, 25)]


async def test_average_p95_and_max(clock: FakeClock) -> None:
    tracker = TaskTracker()
    for ms in range(1, 101):  # 1 ms .. 100 ms, in order
        await run_for(tracker, clock, "Query", ms / 1000)

    stats = tracker.stats("Query")
    assert stats is not None
    assert stats.avg_duration == pytest.approx(0.0505)
    assert stats.p95_duration == pytest.approx(0.095)
    assert stats.max_duration == pytest.approx(0.100)


async def test_p95_uses_a_bounded_window_but_max_is_all_time(clock: FakeClock) -> None:
    tracker = TaskTracker(window_size=10)
    for _ in range(10):
        await run_for(tracker, clock, "Job", 5.0)
    for _ in range(10):
        await run_for(tracker, clock, "Job", 0.010)

    stats = tracker.stats("Job")
    assert stats is not None
    assert stats.p95_duration == pytest.approx(0.010)
    assert stats.max_duration == pytest.approx(5.0)
    assert stats.avg_duration == pytest.approx((50 + 0.1) / 20)


async def test_summary_lines(clock: FakeClock) -> None:
    tracker = TaskTracker()
    await run_for(tracker, clock, "Initialization", 0.012)
    assert tracker.summary_lines() == [
        "Initialization: 1 run, 100% ok, avg 12 ms, p95 12 ms, max 12 ms"
    ]

    with pytest.raises(RuntimeError):
        async with tracker.task_context("Cleanup"):
            clock.now += 2.5
            raise RuntimeError("disk full")
    lines = tracker.summary_lines()
    assert lines[0] == (
        "Cleanup: 1 run, 0% ok, avg 2.50 s, p95 2.50 s, max 2.50 s, "
        "last error: RuntimeError: disk full"
    )
    assert len(tracker.summary_lines(limit=1)) == 1
    assert tracker.summary_lines(limit=0) == []


async def test_success_rate_is_never_rounded_up_to_100(clock: FakeClock) -> None:
    tracker = TaskTracker()
    for _ in range(199):
        await run_for(tracker, clock, "Job", 0.001)
    async with tracker.task_context("Job") as op:
        op.update_status("bad", success=False)
    op_failed_last = tracker.summary_lines()[0]
    assert "99% ok" in op_failed_last


async def test_last_operation_and_timestamps(monkeypatch: pytest.MonkeyPatch) -> None:
    fixed = datetime(2030, 1, 2, 3, 4, 5, tzinfo=UTC)
    monkeypatch.setattr(discord.utils, "utcnow", lambda: fixed)
    tracker = TaskTracker()
    assert tracker.last_operation is None

    async with tracker.task_context("First"):
        pass
    with pytest.raises(OSError):
        async with tracker.task_context("Second"):
            raise OSError("nope")

    last = tracker.last_operation
    assert last is not None
    assert (last.name, last.finished_at, last.success) == ("Second", fixed, False)
    stats = tracker.all_stats()
    assert list(stats) == ["First", "Second"]
    assert stats["First"].last_run_at == fixed
    assert stats["Second"].last_error is not None
    assert stats["Second"].last_error.time == fixed
    assert tracker.total_runs == 2
    assert tracker.total_failures == 1


async def test_context_object_cannot_be_entered_twice() -> None:
    tracker = TaskTracker()
    context = tracker.task_context("Once")
    async with context:
        pass
    with pytest.raises(RuntimeError):
        async with context:
            pass
