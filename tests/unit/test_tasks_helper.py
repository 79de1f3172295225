"""The tasks helper: cog_loop waits for ready, skips while paused, tracks, survives errors."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import Any

import pytest
from discord.ext import tasks

from fish_bot.core.task_tracker import TaskTracker, TrackedOperation
from fish_bot.core.tasks import CogTasks, cog_loop, find_loops, stats_for

TICK = 0.01


class FakeBot:
    def __init__(self) -> None:
        self.ready = asyncio.Event()

    async def wait_until_ready(self) -> None:
        await self.ready.wait()


class FakeCog:
    """The parts of a BaseCog the helper uses."""

    qualified_name = "Fake"

    def __init__(self) -> None:
        self.bot = FakeBot()
        self._ready = asyncio.Event()
        self.is_paused = False
        self.task_tracker = TaskTracker()
        self.logger = logging.getLogger("tests.tasks_helper")
        self.errors: list[BaseException] = []

    @property
    def is_ready(self) -> bool:
        return self._ready.is_set()

    async def wait_until_ready(self) -> None:
        await self._ready.wait()

    def record_error(self, error: BaseException) -> None:
        self.errors.append(error)

    def make_ready(self) -> None:
        self.bot.ready.set()
        self._ready.set()


class Holder(CogTasks):
    """A tasks object with a cog loop, a failing loop and a plain discord.py loop."""

    extra_loops = ("plain",)

    def __init__(self, cog: Any) -> None:
        super().__init__(cog)
        self.runs = 0
        self.fail_next = 0
        self.trackers: list[TrackedOperation] = []
        self.plain_runs = 0

    @cog_loop(seconds=TICK, name="Counting")
    async def counting(self, tracker: TrackedOperation) -> None:
        self.trackers.append(tracker)
        if self.fail_next:
            self.fail_next -= 1
            raise RuntimeError("boom")
        self.runs += 1
        tracker.update_status(f"run {self.runs}")

    @tasks.loop(seconds=TICK)
    async def plain(self) -> None:
        self.plain_runs += 1


async def wait_until(condition: Callable[[], bool], seconds: float = 2.0) -> None:
    for _ in range(int(seconds / 0.005)):
        if condition():
            return
        await asyncio.sleep(0.005)
    raise AssertionError("condition not met in time")


@pytest.fixture
async def holder() -> Any:
    cog = FakeCog()
    made = Holder(cog)
    yield made
    made.stop_tasks()
    await asyncio.sleep(0)


async def test_loops_wait_until_bot_and_cog_are_ready(holder: Holder) -> None:
    holder.start_tasks()
    await asyncio.sleep(5 * TICK)
    assert holder.runs == 0
    holder.cog.bot.ready.set()  # the bot is ready, the cog is not yet
    await asyncio.sleep(5 * TICK)
    assert holder.runs == 0
    holder.cog._ready.set()  # type: ignore[attr-defined]
    await wait_until(lambda: holder.runs >= 2)


async def test_each_iteration_runs_in_a_task_context(holder: Holder) -> None:
    holder.cog.make_ready()  # type: ignore[attr-defined]
    holder.start_tasks()
    await wait_until(lambda: holder.runs >= 3)
    stats = holder.cog.task_tracker.stats("Counting")
    assert stats is not None
    assert stats.runs >= 3
    assert stats.failures == 0
    assert stats.last_status is not None and stats.last_status.startswith("run ")
    assert all(isinstance(tracker, TrackedOperation) for tracker in holder.trackers)


async def test_iterations_are_skipped_while_paused(holder: Holder) -> None:
    cog: Any = holder.cog
    cog.make_ready()
    cog.is_paused = True
    holder.start_tasks()
    await wait_until(lambda: stats_for(holder, "Counting").skipped_paused >= 3)
    assert holder.runs == 0
    assert cog.task_tracker.stats("Counting") is None  # nothing ran, nothing tracked
    cog.is_paused = False
    await wait_until(lambda: holder.runs >= 2)


async def test_an_exception_is_logged_recorded_counted_and_the_loop_goes_on(
    holder: Holder, caplog: pytest.LogCaptureFixture
) -> None:
    cog: Any = holder.cog
    cog.make_ready()
    holder.fail_next = 2
    with caplog.at_level(logging.ERROR, logger="tests.tasks_helper"):
        holder.start_tasks()
        await wait_until(lambda: holder.runs >= 2)
    stats = stats_for(holder, "Counting")
    assert stats.failures == 2
    assert stats.last_error == "RuntimeError: boom"
    assert [str(error) for error in cog.errors] == ["boom", "boom"]
    tracked = cog.task_tracker.stats("Counting")
    assert tracked is not None and tracked.failures == 2
    assert holder.counting.is_running()
    failures = [r for r in caplog.records if "Counting" in r.getMessage()]
    assert failures and failures[0].exc_info is not None  # logged with its traceback


async def test_start_and_stop_manage_cog_loops_and_listed_plain_loops(holder: Holder) -> None:
    holder.cog.make_ready()  # type: ignore[attr-defined]
    loops = holder.loops
    assert {loop.coro.__name__ for loop in loops} == {"counting", "plain"}
    holder.start_tasks()
    holder.start_tasks()  # starting twice is harmless
    await wait_until(lambda: holder.runs >= 1 and holder.plain_runs >= 1)
    assert all(loop.is_running() for loop in holder.loops)
    holder.stop_tasks()
    await wait_until(lambda: not any(loop.is_running() for loop in holder.loops))
    runs = holder.runs
    await asyncio.sleep(5 * TICK)
    assert holder.runs == runs
    lines = holder.status_lines()
    assert any(line.startswith("Counting: stopped") for line in lines)


async def test_each_holder_has_its_own_loop() -> None:
    first, second = Holder(FakeCog()), Holder(FakeCog())
    assert first.counting is not second.counting
    assert first.counting is first.counting  # the same per-instance copy every time


async def test_a_loop_declared_on_the_cog_itself() -> None:
    class CogWithLoop(FakeCog):
        def __init__(self) -> None:
            super().__init__()
            self.beats = 0

        @cog_loop(seconds=TICK)
        async def beat(self) -> None:
            self.beats += 1

    cog = CogWithLoop()
    cog.make_ready()
    loops = find_loops(cog)
    assert len(loops) == 1
    loops[0].start()
    try:
        await wait_until(lambda: cog.beats >= 2)
        stats = cog.task_tracker.stats("Beat")  # the humanised function name
        assert stats is not None and stats.runs >= 2
    finally:
        loops[0].cancel()


def test_cog_loop_needs_an_interval_and_an_async_function() -> None:
    with pytest.raises(ValueError):
        cog_loop()
    with pytest.raises(TypeError):
        cog_loop(seconds=1)(lambda self: None)  # type: ignore[arg-type, return-value]


def test_an_unknown_extra_loop_is_an_error() -> None:
    class Broken(CogTasks):
        extra_loops = ("missing",)

    with pytest.raises(AttributeError, match="missing"):
        _ = Broken(FakeCog()).loops  # type: ignore[arg-type]
