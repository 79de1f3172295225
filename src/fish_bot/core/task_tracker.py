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
import math
import time
from collections import deque
from dataclasses import dataclass
from datetime import datetime
from types import TracebackType

import discord.utils

from fish_bot.core.durations import format_elapsed
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

HISTORY_SIZE = 20
"""How many past runs are kept per operation name."""

DURATION_WINDOW = 200
"""How many recent durations the 95th percentile is computed over."""

_MAX_ERROR_TEXT = 500
"""Longest error message kept (longer messages are cut, with an ellipsis)."""

_log = logging.getLogger(__name__)


# --- public records ------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ErrorInfo:
    """The last failure of an operation.

    ``type`` is the exception class name, or ``None`` when the run failed without an exception
    (``update_status(..., success=False)``); ``message`` is the exception text, or the status
    message in that case. ``time`` is when the failing run finished.
    """

    type: str | None
    message: str
    time: datetime

    def __str__(self) -> str:
        if self.type is None:
            return self.message
        return f"{self.type}: {self.message}" if self.message else self.type


@dataclass(frozen=True, slots=True)
class RunRecord:
    """One finished run of an operation."""

    started_at: datetime
    """Wall-clock start (``discord.utils.utcnow()``)."""
    finished_at: datetime
    """Wall-clock end."""
    duration: float
    """Seconds, measured with :func:`time.perf_counter`."""
    success: bool
    """Whether the run counts as a success."""
    status: str | None
    """The last status message set by the run, if any."""
    error: str | None
    """``"Type: message"`` when the body raised (``"CancelledError: cancelled"`` when cancelled),
    the status message when it failed through ``success=False``, else ``None``."""
    cancelled: bool = False
    """Whether the run ended with :class:`asyncio.CancelledError`."""


@dataclass(frozen=True, slots=True)
class TaskStats:
    """A snapshot of the statistics of one operation name."""

    name: str
    runs: int
    successes: int
    failures: int
    """Failed runs, cancelled runs included."""
    cancellations: int
    """How many of the failures were cancellations."""
    avg_duration: float
    """Mean duration in seconds over all runs."""
    p95_duration: float
    """95th percentile (nearest rank) in seconds over the last :data:`DURATION_WINDOW` runs."""
    max_duration: float
    """Longest run in seconds, over all runs."""
    last_error: ErrorInfo | None
    last_status: str | None
    """Final status message of the most recent run (``None`` if it set none)."""
    last_run_at: datetime | None
    """When the most recent run finished."""
    recent_runs: tuple[RunRecord, ...]
    """The last :data:`HISTORY_SIZE` runs, oldest first."""

    @property
    def success_rate(self) -> float:
        """Successes divided by runs (``1.0`` when there were no runs)."""
        return self.successes / self.runs if self.runs else 1.0

    @property
    def last_success(self) -> bool | None:
        """Whether the most recent run succeeded (``None`` before the first run)."""
        return self.recent_runs[-1].success if self.recent_runs else None


@dataclass(frozen=True, slots=True)
class ActiveOperation:
    """A snapshot of an operation that is running now."""

    id: int
    name: str
    started_at: datetime
    status: str | None
    elapsed: float
    """Seconds since it started."""


@dataclass(frozen=True, slots=True)
class LastOperation:
    """The most recently finished operation."""

    id: int
    name: str
    finished_at: datetime
    success: bool


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


# --- per-name accumulator --------------------------------------------------------------------


class _NameStats:
    """Mutable statistics of one operation name (bounded memory)."""

    __slots__ = (
        "cancellations",
        "durations",
        "failures",
        "history",
        "last_error",
        "last_run_at",
        "last_status",
        "max_duration",
        "name",
        "runs",
        "successes",
        "total_duration",
    )

    def __init__(self, name: str, history_size: int, window_size: int) -> None:
        self.name = name
        self.runs = 0
        self.successes = 0
        self.failures = 0
        self.cancellations = 0
        self.total_duration = 0.0
        self.max_duration = 0.0
        self.durations: deque[float] = deque(maxlen=window_size)
        self.history: deque[RunRecord] = deque(maxlen=history_size)
        self.last_error: ErrorInfo | None = None
        self.last_status: str | None = None
        self.last_run_at: datetime | None = None

    def add(self, record: RunRecord, error: ErrorInfo | None) -> None:
        self.runs += 1
        if record.success:
            self.successes += 1
        else:
            self.failures += 1
        if record.cancelled:
            self.cancellations += 1
        self.total_duration += record.duration
        self.max_duration = max(self.max_duration, record.duration)
        self.durations.append(record.duration)
        self.history.append(record)
        if error is not None:
            self.last_error = error
        self.last_status = record.status
        self.last_run_at = record.finished_at

    def snapshot(self) -> TaskStats:
        return TaskStats(
            name=self.name,
            runs=self.runs,
            successes=self.successes,
            failures=self.failures,
            cancellations=self.cancellations,
            avg_duration=self.total_duration / self.runs if self.runs else 0.0,
            p95_duration=_percentile(self.durations, 0.95),
            max_duration=self.max_duration,
            last_error=self.last_error,
            last_status=self.last_status,
            last_run_at=self.last_run_at,
            recent_runs=tuple(self.history),
        )


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


# --- helpers -------------------------------------------------------------------------------


def _percentile(values: deque[float], fraction: float) -> float:
    """Nearest-rank percentile of ``values`` (0.0 for no values)."""
    if not values:
        return 0.0
    ordered = sorted(values)
    rank = max(1, math.ceil(fraction * len(ordered)))
    return ordered[rank - 1]


def _summary_line(stats: TaskStats) -> str:
    runs = f"{stats.runs} run" if stats.runs == 1 else f"{stats.runs} runs"
    ok = math.floor(stats.success_rate * 100)  # floor: 999/1000 must not read as 100%
    line = (
        f"{stats.name}: {runs}, {ok}% ok, avg {format_elapsed(stats.avg_duration)}, "
        f"p95 {format_elapsed(stats.p95_duration)}, max {format_elapsed(stats.max_duration)}"
    )
    if stats.last_success is False and stats.last_error is not None:
        line += f", last error: {clip(str(stats.last_error), 80)}"
    return line
