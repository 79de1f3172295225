"""The runner inside :class:`~fish_bot.core.scheduler.JobScheduler`: it runs due jobs.

Each run claims a due job (a conditional ``UPDATE``, or a leased claim in cluster mode), runs its
handler under ``job_timeout``, marks it done, or records the failure and its retry time with
exponential backoff; a cancelled run gives the job back. The loop around it sleeps until the
next job that has a handler (at most ``poll_interval``) or until a wake-up (a new job, a new
handler, a NOTIFY), and backs off after an error. :class:`JobScheduler` inherits
:class:`JobRunner` and sets its state in ``__init__``; the guarantees are described in
:mod:`fish_bot.core.scheduler`.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from fish_bot.core.text import clip
from fish_bot.database.models.scheduler import JobStatus, ScheduledJob

if TYPE_CHECKING:
    from fish_bot.core.scheduler_cluster import JobLeases
    from fish_bot.database.controllers.scheduler import ScheduledJobController
    from fish_bot.database.coordinator import DatabaseCoordinator

__all__ = ["JobHandler", "JobRunner"]

JobHandler = Callable[[ScheduledJob], Awaitable[None]]
"""An async function that does one job's work; raising marks the run as failed."""

_MAX_BATCHES = 100
"""At most this many batches per :meth:`JobScheduler.run_due` call (a safety valve)."""

_IDLE_FLOOR = 1.0
"""Shortest sleep when a due job could not be run (never spin hot)."""


class JobRunner:
    """Claims and runs due jobs through their handlers, in a loop (JobScheduler's state)."""

    db: DatabaseCoordinator
    log: logging.Logger
    clock: Callable[[], datetime]
    poll_interval: float
    retry_base: float
    retry_max: float
    job_timeout: float | None
    batch_size: int
    error_backoff: float
    leases: JobLeases | None
    stats: dict[str, Any]
    _handlers: dict[str, JobHandler]
    _runner: asyncio.Task[None] | None
    _active: set[asyncio.Task[bool]]
    _woken: bool
    _sleeper: asyncio.Task[None] | None
    _sleep_until: datetime | None

    # --- the job table and wake-ups ------------------------------------------------------

    @property
    def controller(self) -> ScheduledJobController:
        """The job table (the scheduler's own: cogs use the scheduler's methods)."""
        return self.db.scheduled_job

    def _wake_for(self, run_at: datetime) -> None:
        """Wake the runner when ``run_at`` comes before the time it sleeps until."""
        if self._sleep_until is None or run_at < self._sleep_until or run_at <= self.clock():
            self._wake_runner()

    def _wake_for_notice(self, run_at: datetime | None) -> None:
        """A NOTIFY from another process (run_at None: re-check everything)."""
        if run_at is None:
            self._wake_runner()
        else:
            self._wake_for(run_at)

    @property
    def _owner(self) -> str | None:
        return None if self.leases is None else self.leases.owner

    def _wake_runner(self) -> None:
        self._woken = True
        if self._sleeper is not None:
            self._sleeper.cancel()

    # --- running -------------------------------------------------------------------------

    def retry_delay(self, attempts: int) -> float:
        """Seconds before the next try after ``attempts`` failed runs."""
        return float(min(self.retry_max, self.retry_base * 2 ** max(0, attempts - 1)))

    async def run_due(self) -> int:
        """Run every due job that has a handler, now; returns how many ran."""
        ran = 0
        for _ in range(_MAX_BATCHES):
            job_types = list(self._handlers)
            if not job_types:
                break
            now = self.clock()
            if self.leases is not None:
                jobs = await self.leases.claim(now, self.batch_size, job_types)
                tasks = [self._start_job(job, now, claimed=True) for job in jobs]
            else:
                jobs = await self.controller.due(now, self.batch_size, job_types=job_types)
                tasks = [self._start_job(job, now) for job in jobs]
            if not jobs:
                break
            await asyncio.wait(tasks)  # unlike gather, a cancelled caller leaves them running
            ran += sum(1 for task in tasks if not task.cancelled() and task.result())
            if len(jobs) < self.batch_size:
                break
        return ran

    def _start_job(
        self, job: ScheduledJob, now: datetime, *, claimed: bool = False
    ) -> asyncio.Task[bool]:
        run = self._run_claimed(job) if claimed else self._run_job(job, now)
        task = asyncio.create_task(run, name=f"fish-bot-job-{job.id}")
        self._active.add(task)
        task.add_done_callback(self._active.discard)
        return task

    async def _run_job(self, job: ScheduledJob, now: datetime) -> bool:
        """Claim and run one job; True when this call ran its handler."""
        assert job.id is not None
        try:
            claimed = await self.controller.claim_job(job.id, now=now)
        except Exception as error:
            self._record_error(f"claiming job {job.id}: {error!r}")
            self.log.exception("Could not claim scheduled job %s (%s)", job.id, job.job_type)
            return False
        if claimed is None:
            return False  # someone else ran it, or it was cancelled meanwhile
        return await self._run_claimed(claimed)

    async def _run_claimed(self, claimed: ScheduledJob) -> bool:
        """Run a job this runner has claimed; True when its handler ran."""
        assert claimed.id is not None
        try:
            return await self._run_handler(claimed)
        finally:
            if self.leases is not None:
                self.leases.done(claimed.id)

    async def _run_handler(self, claimed: ScheduledJob) -> bool:
        assert claimed.id is not None
        job = claimed
        handler = self._handlers.get(claimed.job_type)
        if handler is None:  # unregistered between due() and claim(): give it back
            await self._release(claimed)
            return False
        self.stats["ran"] += 1
        self.stats["last_run_at"] = self.clock()
        try:
            # asyncio.timeout (not wait_for): the handler runs in this task, so a virtual clock
            # sees its waits directly.
            async with asyncio.timeout(self.job_timeout):
                await handler(claimed)
        except asyncio.CancelledError:
            self.log.info(
                "Scheduled job %s (%s) interrupted; it will run again",
                claimed.id,
                claimed.job_type,
            )
            await self._release(claimed)
            raise
        except Exception as error:
            await self._handle_failure(claimed, error)
        else:
            try:
                await self.controller.finish(claimed.id, owner=self._owner)
            except Exception as error:
                # The job stays "running" and runs again after the next start-up.
                self._record_error(f"finishing job {job.id}: {error!r}")
                self.log.exception(
                    "Scheduled job %s (%s) ran but could not be marked done",
                    job.id,
                    claimed.job_type,
                )
        return True

    async def _handle_failure(self, job: ScheduledJob, error: Exception) -> None:
        assert job.id is not None
        self.stats["failed"] += 1
        text = f"{type(error).__name__}: {error}" if str(error) else type(error).__name__
        self._record_error(f"job {job.id} ({job.job_type}): {text}")
        retry_at = self.clock() + timedelta(seconds=self.retry_delay(job.attempts))
        try:
            status = await self.controller.fail(job.id, text, retry_at, owner=self._owner)
        except Exception:
            self.log.exception("Could not record the failure of scheduled job %s", job.id)
            status = None
        if status is JobStatus.PENDING:
            self.log.error(
                "Scheduled job %s (%s) failed (attempt %d/%d), retrying at %s",
                job.id,
                job.job_type,
                job.attempts,
                job.max_attempts,
                retry_at.isoformat(),
                exc_info=error,
            )
        else:
            self.log.error(
                "Scheduled job %s (%s) failed (attempt %d/%d), giving up",
                job.id,
                job.job_type,
                job.attempts,
                job.max_attempts,
                exc_info=error,
            )

    async def _release(self, job: ScheduledJob) -> None:
        assert job.id is not None
        try:
            await self.controller.release(job.id, owner=self._owner)
        except Exception:
            # reset_stale_running() at the next start-up gives it back instead.
            self.log.exception("Could not give back scheduled job %s", job.id)

    def _record_error(self, text: str) -> None:
        self.stats["last_error"] = clip(text, 500)

    # --- the runner ----------------------------------------------------------------------

    @property
    def is_running(self) -> bool:
        return self._runner is not None and not self._runner.done()

    @property
    def sleeping_until(self) -> datetime | None:
        """When the idle runner looks for due jobs again on its own (None while it works)."""
        return self._sleep_until

    def _runner_done(self, task: asyncio.Task[None]) -> None:
        if task.cancelled():
            return
        error = task.exception()
        if error is not None:  # pragma: no cover - the loop catches everything it can
            self._record_error(f"runner stopped: {error!r}")
            self.log.critical("The job scheduler stopped after an error", exc_info=error)

    async def _run_forever(self) -> None:
        backoff = self.error_backoff
        while True:
            try:
                self._woken = False
                ran = await self.run_due()
                delay = await self._seconds_until_next()
                if delay <= 0 and ran == 0:
                    delay = _IDLE_FLOOR  # a due job we could not run: do not spin
                backoff = self.error_backoff
            except Exception as error:
                self._record_error(f"runner: {error!r}")
                self.log.exception("Job scheduler loop failed; retrying in %.0fs", backoff)
                delay = backoff
                backoff = min(backoff * 2, 300.0)
                self._woken = False  # back off even if someone scheduled a job meanwhile
            if delay > 0 and not self._woken:
                await self._sleep(delay)

    async def _sleep(self, delay: float) -> None:
        """Sleep ``delay`` seconds, or less when :meth:`_wake_runner` cancels the sleep.

        A plain ``asyncio.sleep`` in a task, awaited through ``asyncio.wait``: a virtual clock
        (SimCord) recognises both, so the idle runner counts as settled and its timer moves
        only with ``advance_time``. (``wait_for`` on an Event is a wait it cannot see through.)
        """
        sleeper = asyncio.create_task(asyncio.sleep(delay), name="fish-bot-job-scheduler-sleep")
        self._sleeper = sleeper
        self._sleep_until = self.clock() + timedelta(seconds=delay)
        try:
            await asyncio.wait({sleeper})
        finally:
            self._sleeper = None
            self._sleep_until = None
            sleeper.cancel()

    async def _seconds_until_next(self) -> float:
        """Seconds until the next job that has a handler, at most ``poll_interval``."""
        job_types = list(self._handlers)
        if not job_types:
            return self.poll_interval
        if self.leases is not None:
            next_at = await self.leases.next_wake_at(job_types)
        else:
            next_at = await self.controller.next_run_at(job_types=job_types)
        if next_at is None:
            return self.poll_interval
        seconds = (next_at - self.clock()).total_seconds()
        return max(0.0, min(self.poll_interval, seconds))
