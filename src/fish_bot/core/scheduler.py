"""JobScheduler: persisted jobs that run at a time, and keep their promise across restarts.

Work that must happen at a time (an unban, a reminder, an ad expiry) is stored as a
:class:`~fish_bot.database.models.ScheduledJob` row instead of an in-memory sleep. A cog
registers one handler per job type and schedules jobs; the scheduler's runner
(:mod:`fish_bot.core.scheduler_runner`) runs every due job once::

    async def unban(job: ScheduledJob) -> None:
        guild = bot.get_guild(job.guild_id)
        ...  # must be idempotent: it may run again after a crash

    bot.scheduler.register_handler("moderation.unban", unban)      # in cog_load
    await bot.scheduler.schedule(
        "moderation.unban", until, {"user_id": member.id}, guild_id=guild.id
    )
    bot.scheduler.unregister_handler("moderation.unban")          # in cog_unload

Guarantees:

* A job runs once: each run first *claims* the row with a conditional ``UPDATE``, so two
  runners (or two ``run_due`` calls) never run the same job.
* Jobs due while the bot was down run right after :meth:`JobScheduler.start`.
* A job interrupted by a crash is run again after the restart (at-least-once): handlers must be
  idempotent. A job interrupted by a clean :meth:`JobScheduler.stop` is given back without
  counting the attempt.
* A failing handler is retried with exponential backoff (30 s, 1 min, 2 min... capped at 1 h)
  until ``max_attempts``, then the job is ``failed`` and keeps its last error.
* A job whose type has no handler (its cog is not loaded) stays pending and is not polled for:
  registering the handler wakes the runner.

Time comes from ``clock`` (``discord.utils.utcnow`` by default) and waiting from asyncio
timers only, so a virtual clock (SimCord's ``env.advance_time``) drives the scheduler in tests.

One scheduler per database, unless it is given a ``cluster`` (a
:class:`~fish_bot.core.cluster.ClusterInfo`) on PostgreSQL: then it runs only the jobs of its
shards' guilds (and its share of jobs without a guild) with leased ``SKIP LOCKED`` claims and
NOTIFY wake-ups (:mod:`fish_bot.core.scheduler_cluster`), and never resets other processes'
jobs. Otherwise :meth:`JobScheduler.start` puts jobs left ``running`` back to ``pending``.

The bot calls :meth:`JobScheduler.start_soon` when it is ready: a start that fails (its first
write fails: a read-only database file, a database that drops right after start-up) is
retried with backoff (5 s, 10 s, 20 s... capped at 5 min) until it works, logged at each
attempt, and reported by :meth:`JobScheduler.health` (``/healthz`` answers 503 with the reason,
``status`` shows it) until then.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

import discord.utils

from fish_bot.core.scheduler_cluster import JobLeases
from fish_bot.core.scheduler_runner import JobHandler, JobRunner
from fish_bot.core.text import clip

if TYPE_CHECKING:
    from fish_bot.core.cluster import ClusterInfo
    from fish_bot.database.coordinator import DatabaseCoordinator

__all__ = ["JobHandler", "JobScheduler"]


class JobScheduler(JobRunner):
    """Runs persisted jobs at their time through registered handlers."""

    def __init__(
        self,
        db: DatabaseCoordinator,
        *,
        logger: logging.Logger | None = None,
        clock: Callable[[], datetime] = discord.utils.utcnow,
        poll_interval: float = 60.0,
        retry_base: float = 30.0,
        retry_max: float = 3600.0,
        job_timeout: float | None = 300.0,
        batch_size: int = 50,
        shutdown_timeout: float = 10.0,
        error_backoff: float = 5.0,
        start_backoff: float = 5.0,
        start_backoff_max: float = 300.0,
        cluster: ClusterInfo | None = None,
        lease_seconds: float = 60.0,
    ) -> None:
        if poll_interval <= 0:
            raise ValueError("poll_interval must be positive")
        if batch_size < 1:
            raise ValueError("batch_size must be at least 1")
        self.db = db
        self.log = logger or logging.getLogger(__name__)
        self.clock = clock
        self.poll_interval = poll_interval
        self.retry_base = retry_base
        self.retry_max = retry_max
        #: A handler still running after this many seconds is cancelled and counts as failed.
        self.job_timeout = job_timeout
        self.batch_size = batch_size
        #: How long :meth:`stop` lets running handlers finish before cancelling them.
        self.shutdown_timeout = shutdown_timeout
        #: First wait after an error in the runner loop (doubles, capped at 5 min).
        self.error_backoff = error_backoff
        #: First wait after a failed start (doubles up to ``start_backoff_max``).
        self.start_backoff = start_backoff
        self.start_backoff_max = start_backoff_max
        #: Why the last start failed (None once started, or before any attempt).
        self.start_error: str | None = None
        #: Failed start attempts since the last successful start.
        self.start_attempts = 0
        #: When the next start attempt is due (None: no retry waiting).
        self.next_start_at: datetime | None = None
        self._starter: asyncio.Task[None] | None = None
        #: Cluster mode (PostgreSQL and a node): leased claims and NOTIFY wake-ups.
        self.leases: JobLeases | None = None
        if cluster is not None and db.service.dialect == "postgresql":
            self.leases = JobLeases(
                lambda: self.controller,
                db.service,
                cluster,
                lease_seconds=lease_seconds,
                wake=self._wake_for_notice,
                clock=clock,
            )
        self.stats: dict[str, Any] = {
            "ran": 0,
            "failed": 0,
            "last_run_at": None,
            "last_error": None,
        }
        self._handlers: dict[str, JobHandler] = {}
        self._runner: asyncio.Task[None] | None = None
        self._active: set[asyncio.Task[bool]] = set()
        #: Set by a wake-up that came while the runner was busy: it must not go to sleep.
        self._woken = False
        #: The runner's current sleep; cancelling it wakes the runner early.
        self._sleeper: asyncio.Task[None] | None = None
        #: When the runner will look again on its own (None: it is not sleeping).
        self._sleep_until: datetime | None = None

    # --- handlers ------------------------------------------------------------------------

    @property
    def handlers(self) -> list[str]:
        """The job types that have a handler."""
        return sorted(self._handlers)

    def register_handler(self, job_type: str, handler: JobHandler) -> None:
        """Make ``handler`` run the jobs of ``job_type`` (replacing any earlier handler)."""
        if not job_type:
            raise ValueError("job_type must not be empty")
        if not callable(handler):
            raise TypeError("handler must be an async callable taking the job")
        self._handlers[job_type] = handler
        self._wake_runner()  # jobs of this type may be waiting already

    def unregister_handler(self, job_type: str) -> bool:
        """Stop running ``job_type`` jobs (they stay pending); returns whether it had one."""
        return self._handlers.pop(job_type, None) is not None

    # --- scheduling ----------------------------------------------------------------------

    async def schedule(
        self,
        job_type: str,
        run_at: datetime,
        payload: dict[str, Any] | None = None,
        *,
        guild_id: int | None = None,
        max_attempts: int = 5,
    ) -> int:
        """Store a job to run at ``run_at`` (aware; a past time runs it at once); its id.

        Inside ``db.transaction()`` the job joins the transaction: it exists, and the runner
        is woken, only once the transaction commits.
        """
        if run_at.tzinfo is None or run_at.utcoffset() is None:
            raise ValueError("run_at must be timezone-aware (use discord.utils.utcnow())")
        job = await self.controller.add(
            job_type,
            run_at,
            payload or {},
            guild_id=guild_id,
            max_attempts=max_attempts,
            notify=self.leases is not None,
        )
        assert job.id is not None
        await self.db.service.after_commit(lambda: self._wake_for(run_at))
        return job.id

    async def pending_count(self, *job_types: str, guild_id: int | None = None) -> int:
        """How many jobs (of these types; none named: of every type) wait to run."""
        return await self.controller.count_pending(job_types or None, guild_id=guild_id)

    async def cancel(self, job_id: int) -> bool:
        """Cancel a pending job; False when it is running, finished or unknown."""
        return await self.controller.cancel(job_id)

    async def cancel_where(
        self,
        job_type: str,
        guild_id: int | None = None,
        payload_filter: dict[str, Any] | None = None,
    ) -> int:
        """Cancel pending jobs of a type (in a guild, whose payload holds these values)."""
        return await self.controller.cancel_where(job_type, guild_id, payload_filter)

    # --- starting and stopping -----------------------------------------------------------

    async def start(self) -> None:
        """Give back jobs a crash left running, then start the runner (idempotent).

        Jobs that came due while the bot was down run right away.
        """
        if self.is_running:
            return
        if self.leases is not None:
            # Other processes' running jobs are theirs: a dead runner's lease expires instead.
            await self.leases.start()
        else:
            reset = await self.controller.reset_stale_running()
            if reset:
                self.log.warning(
                    "%d scheduled job(s) were interrupted by a restart; rerunning", reset
                )
        if self.is_running:  # another start() won the race while we awaited
            return
        self._runner = asyncio.create_task(self._run_forever(), name="fish-bot-job-scheduler")
        self._runner.add_done_callback(self._runner_done)

    def start_soon(self) -> None:
        """Start in the background, retrying with backoff until the start works (idempotent).

        Each failed attempt is logged with its reason and the time of the next attempt; the
        reason stays in :attr:`start_error` (and :meth:`health`) until a start works.
        """
        if self.is_running or (self._starter is not None and not self._starter.done()):
            return
        self._starter = asyncio.create_task(
            self._start_with_retry(), name="fish-bot-job-scheduler-start"
        )

    async def _start_with_retry(self) -> None:
        delay = self.start_backoff
        while not self.is_running:
            try:
                await self.start()
            except Exception as error:
                self.start_attempts += 1
                text = f"{type(error).__name__}: {error}" if str(error) else type(error).__name__
                self.start_error = clip(text, 500)
                self.next_start_at = self.clock() + timedelta(seconds=delay)
                self.log.error(
                    "The job scheduler could not start (attempt %d): %s; retrying in %.0fs. "
                    "Timed jobs (unbans, reminders...) wait until it starts.",
                    self.start_attempts,
                    self.start_error,
                    delay,
                )
                await self._pause(delay)
                delay = min(delay * 2, self.start_backoff_max)
                continue
            if self.start_attempts:
                self.log.warning(
                    "The job scheduler started after %d failed attempt(s)", self.start_attempts
                )
            self.start_error = None
            self.start_attempts = 0
            self.next_start_at = None

    async def _pause(self, seconds: float) -> None:
        """Wait before the next start attempt."""
        await asyncio.sleep(seconds)

    def health(self) -> dict[str, Any]:
        """``running``, and while it is not: why the last start failed and when it retries."""
        return {
            "running": self.is_running,
            "starting": self._starter is not None and not self._starter.done(),
            "start_error": self.start_error,
            "start_attempts": self.start_attempts,
            "next_start_at": self.next_start_at.isoformat() if self.next_start_at else None,
            "handlers": self.handlers,
            "last_error": self.stats["last_error"],
        }

    def status_text(self) -> str:
        """One line for ``status``: running, or why not."""
        if self.is_running:
            return "✅ running"
        if self.start_error:
            when = (
                f" (retry <t:{int(self.next_start_at.timestamp())}:R>)"
                if self.next_start_at
                else ""
            )
            return f"❌ not running: {clip(self.start_error, 300)}{when}"
        starting = self._starter is not None and not self._starter.done()
        return "⏳ starting" if starting else "⏸️ not started"

    async def stop(self) -> None:
        """Stop the runner; running handlers get ``shutdown_timeout`` seconds, then are cancelled.

        A cancelled handler's job goes back to pending (its attempt not counted).
        """
        starter, self._starter = self._starter, None
        if starter is not None and not starter.done():
            starter.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await starter
        runner, self._runner = self._runner, None
        if runner is not None and not runner.done():
            runner.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await runner
        self._sleep_until = None
        active = set(self._active)
        if active:
            _, still_running = await asyncio.wait(active, timeout=self.shutdown_timeout)
            for task in still_running:
                task.cancel()
            if still_running:
                await asyncio.wait(still_running)
        if self.leases is not None:
            await self.leases.stop()
        for task in active:
            if not task.cancelled() and task.exception() is not None:
                self.log.error("Scheduled job task ended with an error", exc_info=task.exception())
