"""The records a :class:`~fish_bot.core.task_tracker.TaskTracker` reports, and their bookkeeping.

The frozen snapshots it hands out (:class:`TaskStats` per operation name, :class:`RunRecord`,
:class:`ErrorInfo`, :class:`ActiveOperation`, :class:`LastOperation`), the bounded per-name
accumulator they are taken from, and the one-line summary shown in a cog's status embed.
:mod:`fish_bot.core.task_tracker` re-exports the public names.
"""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass
from datetime import datetime

from fish_bot.core.durations import format_elapsed
from fish_bot.core.text import clip

HISTORY_SIZE = 20
"""How many past runs are kept per operation name."""

DURATION_WINDOW = 200
"""How many recent durations the 95th percentile is computed over."""


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
