"""Operation tracking for cogs: what is running now, and how past runs went.

Every cog owns a :class:`TaskTracker`. Commands, listeners and background loops wrap their work
in :meth:`TaskTracker.task_context`::

    async with self.task_tracker.task_context("Initialization") as tracker:
        tracker.update_status("Loading cache")
        ...
        tracker.update_status("Ready")

The context manager never swallows or replaces an exception: whatever the body raises (including
:class:`asyncio.CancelledError`) propagates as the very same object. A run counts as a failure
when the body raised, or when the last ``update_status(..., success=...)`` call said
``success=False``; otherwise it is a success.

Statistics are kept per operation name with bounded memory: the last :data:`HISTORY_SIZE` runs
and a window of the last :data:`DURATION_WINDOW` durations (for the 95th percentile). Durations
come from :func:`time.perf_counter`, wall-clock times from :func:`discord.utils.utcnow` (so
SimCord's virtual clock shows up in the timestamps).

The tracker is plain asyncio state: it is meant to be used from the event loop only (any task,
no threads).
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import time
from datetime import datetime
from types import TracebackType

import discord.utils

from fish_bot.core.durations import format_elapsed
from fish_bot.core.task_stats import (
    DURATION_WINDOW,
    HISTORY_SIZE,
    ActiveOperation,
    ErrorInfo,
    LastOperation,
    RunRecord,
    TaskStats,
    _NameStats,
    _summary_line,
)
from fish_bot.core.text import clip

__all__ = [
    "DURATION_WINDOW",
    "HISTORY_SIZE",
    "ActiveOperation",
    "ErrorInfo",
    "LastOperation",
    "RunRecord",
    "TaskStats",
    "TaskTracker",
    "TrackedOperation",
]

_MAX_ERROR_TEXT = 500
"""Longest error message kept (longer messages are cut, with an ellipsis)."""

_log = logging.getLogger(__name__)


# --- the handle given to the body ------------------------------------------------------------


class TrackedOperation:
    """The handle a ``task_context`` body receives; one per run, with its own id."""

    __slots__ = ("_explicit_success", "_started_perf", "id", "name", "started_at", "status")

    def __init__(self, op_id: int, name: str) -> None:
        self.id: int = op_id
        self.name: str = name
        self.started_at: datetime = discord.utils.utcnow()
        self.status: str | None = None
        self._explicit_success: bool | None = None
        self._started_perf: float = time.perf_counter()

    @property
    def elapsed(self) -> float:
        """Seconds since the operation started."""
        return time.perf_counter() - self._started_perf

    @property
    def reported_success(self) -> bool | None:
        """The last ``success`` given to :meth:`update_status` (``None`` if never given)."""
        return self._explicit_success

    def update_status(self, message: str, success: bool | None = None) -> None:
        """Set the current status message, and optionally whether the run succeeded.

        ``success=False`` makes the run count as a failure even if the body returns normally;
        a later ``success=True`` flips it back. ``None`` leaves the outcome unchanged.
        """
        self.status = str(message)
        if success is not None:
            self._explicit_success = bool(success)

    def __repr__(self) -> str:
        return f"<TrackedOperation id={self.id} name={self.name!r} status={self.status!r}>"


# --- the context manager -------------------------------------------------------------------


class _TaskContext:
    """The async context manager returned by :meth:`TaskTracker.task_context` (single use)."""

    __slots__ = ("_name", "_op", "_tracker")

    def __init__(self, tracker: TaskTracker, name: str) -> None:
        self._tracker = tracker
        self._name = name
        self._op: TrackedOperation | None = None

    async def __aenter__(self) -> TrackedOperation:
        if self._op is not None:
            raise RuntimeError("a task_context() object can only be entered once")
        self._op = self._tracker._start(self._name)
        return self._op

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> bool:
        op = self._op
        if op is not None:
            # Bookkeeping must never mask or replace what the body raised.
            try:
                self._tracker._finish(op, exc)
            except Exception:
                _log.exception("TaskTracker could not record operation %r", op.name)
        return False  # never suppress: the body's exception propagates unchanged


# --- the tracker -----------------------------------------------------------------------------


class TaskTracker:
    """Tracks running operations and keeps per-name statistics of finished ones."""

    def __init__(
        self,
        *,
        history_size: int = HISTORY_SIZE,
        window_size: int = DURATION_WINDOW,
        logger: logging.Logger | None = None,
    ) -> None:
        """Create an empty tracker.

        ``history_size`` runs are kept per name, the p95 is computed over the last
        ``window_size`` durations. ``logger`` receives debug lines about finished runs.
        """
        if history_size < 1 or window_size < 1:
            raise ValueError("history_size and window_size must be at least 1")
        self._history_size = history_size
        self._window_size = window_size
        self._logger = logger or _log
        self._ids = itertools.count(1)
        self._active: dict[int, TrackedOperation] = {}
        self._stats: dict[str, _NameStats] = {}
        self._last: LastOperation | None = None
        self._total_failures = 0

    # -- public API -------------------------------------------------------------------------

    def task_context(self, name: str) -> _TaskContext:
        """Track one run of the operation ``name``.

        Use as ``async with tracker.task_context("Name") as op:``; ``op`` is a
        :class:`TrackedOperation` with :meth:`~TrackedOperation.update_status`. Exceptions from
        the body (including cancellation) propagate unchanged and the run is recorded as failed.
        """
        return _TaskContext(self, str(name))

    def active(self) -> list[ActiveOperation]:
        """The operations running now, oldest first (each run has its own id)."""
        return [
            ActiveOperation(
                id=op.id,
                name=op.name,
                started_at=op.started_at,
                status=op.status,
                elapsed=op.elapsed,
            )
            for op in self._active.values()
        ]

    def stats(self, name: str) -> TaskStats | None:
        """Statistics of ``name``, or ``None`` if no run of it has finished yet."""
        entry = self._stats.get(name)
        return entry.snapshot() if entry is not None else None

    def all_stats(self) -> dict[str, TaskStats]:
        """Statistics of every name with at least one finished run, in first-run order."""
        return {name: entry.snapshot() for name, entry in self._stats.items()}

    @property
    def last_operation(self) -> LastOperation | None:
        """The most recently finished operation (``None`` before any finished)."""
        return self._last

    @property
    def total_failures(self) -> int:
        """Failed runs over all names (cancellations included)."""
        return self._total_failures

    @property
    def total_runs(self) -> int:
        """Finished runs over all names."""
        return sum(entry.runs for entry in self._stats.values())

    def summary_lines(self, limit: int = 10) -> list[str]:
        """Compact lines for a status embed, one per name, most recently run first.

        Example: ``"Initialization: 1 run, 100% ok, avg 12 ms, p95 12 ms, max 12 ms"``; a name
        whose last run failed ends with ``", last error: Type: message"``. At most ``limit``
        lines are returned.
        """
        if limit <= 0:
            return []
        entries = sorted(
            self._stats.values(),
            key=lambda e: e.last_run_at.timestamp() if e.last_run_at else 0.0,
            reverse=True,
        )
        return [_summary_line(entry.snapshot()) for entry in entries[:limit]]

    # -- internals used by _TaskContext -----------------------------------------------------

    def _start(self, name: str) -> TrackedOperation:
        op = TrackedOperation(next(self._ids), name)
        self._active[op.id] = op
        return op

    def _finish(self, op: TrackedOperation, exc: BaseException | None) -> None:
        duration = max(0.0, op.elapsed)
        self._active.pop(op.id, None)
        finished_at = discord.utils.utcnow()
        cancelled = isinstance(exc, asyncio.CancelledError)

        error: ErrorInfo | None = None
        if exc is not None:
            message = "cancelled" if cancelled and not str(exc) else clip(str(exc), _MAX_ERROR_TEXT)
            error = ErrorInfo(type=type(exc).__name__, message=message, time=finished_at)
            success = False
        elif op.reported_success is False:
            error = ErrorInfo(type=None, message=op.status or "failed", time=finished_at)
            success = False
        else:
            success = True

        record = RunRecord(
            started_at=op.started_at,
            finished_at=finished_at,
            duration=duration,
            success=success,
            status=op.status,
            error=str(error) if error is not None else None,
            cancelled=cancelled,
        )
        entry = self._stats.get(op.name)
        if entry is None:
            entry = self._stats[op.name] = _NameStats(
                op.name, self._history_size, self._window_size
            )
        entry.add(record, error)
        if not success:
            self._total_failures += 1
        self._last = LastOperation(id=op.id, name=op.name, finished_at=finished_at, success=success)
        self._logger.debug(
            "Operation %r (#%d) %s in %s%s",
            op.name,
            op.id,
            "succeeded" if success else ("was cancelled" if cancelled else "failed"),
            format_elapsed(duration),
            f": {error}" if error is not None else "",
        )
