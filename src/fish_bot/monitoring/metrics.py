"""In-process metrics: cheap counters on the hot path, Prometheus text on demand.

The event, command and error paths only bump integers in dictionaries (no I/O, no locks: the
bot runs on one event loop). Everything else (task statistics, database counters, pool use,
cog state) is read when ``/metrics`` is scraped. :func:`render_metrics` writes the Prometheus
text exposition format (version 0.0.4) itself, so no client library is needed.

The metric names and their meaning are listed in ``docs/operations.md``.
"""

from __future__ import annotations

import math
import time
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import discord
from discord import app_commands
from discord.ext import commands

from fish_bot.core.errors import unwrap
from fish_bot.exceptions import PermissionDenied, UserFacingError

if TYPE_CHECKING:
    from fish_bot.core.host import FishHost as FishBot

#: Upper bounds (seconds) of the command latency histogram buckets.
LATENCY_BUCKETS: tuple[float, ...] = (0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)

#: At most this many commands may be "in flight" (started, not yet finished) in the latency
#: bookkeeping; older entries are dropped (a command whose end was never seen).
MAX_IN_FLIGHT = 1000

#: Error categories counted by ``fishbot_command_errors_total``.
ERROR_CATEGORIES = ("denied", "user", "unexpected")

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"


def classify_error(error: BaseException) -> str | None:
    """``denied``, ``user`` or ``unexpected`` for a command error (None: not counted).

    *denied*: a permission rule or check refused the command. *user*: the user's input or
    timing (bad argument, cooldown, a :class:`UserFacingError`). *unexpected*: a bug or an
    outage, answered with an apology and an error id.
    """
    original = unwrap(error)
    if isinstance(original, commands.CommandNotFound):
        return None
    denial = getattr(original, "denial", None)
    if isinstance(denial, PermissionDenied) or isinstance(original, PermissionDenied):
        return "denied"
    if isinstance(original, (commands.CheckFailure, app_commands.CheckFailure)):
        return "denied"
    if isinstance(
        original,
        (
            UserFacingError,
            commands.UserInputError,
            commands.CommandOnCooldown,
            commands.MaxConcurrencyReached,
            commands.DisabledCommand,
            app_commands.TransformerError,
            app_commands.CommandOnCooldown,
        ),
    ):
        return "user"
    return "unexpected"


@dataclass
class Histogram:
    """Cumulative-bucket histogram of one label set."""

    buckets: Sequence[float]
    counts: list[int] = field(default_factory=list)
    total: float = 0.0
    count: int = 0

    def __post_init__(self) -> None:
        if not self.counts:
            self.counts = [0] * len(self.buckets)

    def observe(self, value: float) -> None:
        self.total += value
        self.count += 1
        for index, bound in enumerate(self.buckets):
            if value <= bound:
                self.counts[index] += 1
                break

    def cumulative(self) -> Iterator[tuple[str, int]]:
        running = 0
        for bound, count in zip(self.buckets, self.counts, strict=True):
            running += count
            yield _number(bound), running
        yield "+Inf", self.count


class BotMetrics:
    """The counters a running bot keeps; one per :class:`~fish_bot.bot.FishBot`."""

    def __init__(self, buckets: Sequence[float] = LATENCY_BUCKETS) -> None:
        self.buckets = tuple(buckets)
        #: gateway/client event name -> times dispatched
        self.events: dict[str, int] = {}
        #: (command, type) -> completed runs
        self.commands: dict[tuple[str, str], int] = {}
        #: (command, category) -> errors
        self.command_errors: dict[tuple[str, str], int] = {}
        #: command -> latency histogram (start to completion or error)
        self.latency: dict[str, Histogram] = {}
        #: exception type -> unexpected errors reported with an error id
        self.unexpected: dict[str, int] = {}
        self._started: dict[int, float] = {}

    # --- the hot path ------------------------------------------------------------------

    def count_event(self, name: str) -> None:
        """Called for every dispatched event: one dictionary update."""
        events = self.events
        events[name] = events.get(name, 0) + 1

    def command_started(self, key: int) -> None:
        started = self._started
        if len(started) >= MAX_IN_FLIGHT:
            # Drop the oldest (insertion order): its end was never seen.
            del started[next(iter(started))]
        started[key] = time.perf_counter()

    def _finish(self, key: int, command: str) -> None:
        start = self._started.pop(key, None)
        if start is None:
            return
        histogram = self.latency.get(command)
        if histogram is None:
            histogram = self.latency[command] = Histogram(self.buckets)
        histogram.observe(time.perf_counter() - start)

    def command_completed(self, key: int, command: str, kind: str) -> None:
        pair = (command, kind)
        self.commands[pair] = self.commands.get(pair, 0) + 1
        self._finish(key, command)

    def command_failed(self, key: int | None, command: str, error: BaseException) -> None:
        category = classify_error(error)
        if key is not None:
            if category is None:
                self._started.pop(key, None)
            else:
                self._finish(key, command)
        if category is None:
            return
        pair = (command, category)
        self.command_errors[pair] = self.command_errors.get(pair, 0) + 1

    def unexpected_error(self, kind: str) -> None:
        self.unexpected[kind] = self.unexpected.get(kind, 0) + 1

    # --- listeners (installed by fish_bot.monitoring.Monitor) ----------------------------

    async def on_command(self, ctx: commands.Context[Any]) -> None:
        self.command_started(context_key(ctx))

    async def on_command_completion(self, ctx: commands.Context[Any]) -> None:
        name = ctx.command.qualified_name if ctx.command else "?"
        self.command_completed(context_key(ctx), name, context_kind(ctx))

    async def on_command_error(self, ctx: commands.Context[Any], error: Exception) -> None:
        name = ctx.command.qualified_name if ctx.command else "?"
        self.command_failed(context_key(ctx), name, error)

    async def on_interaction(self, interaction: discord.Interaction) -> None:
        if interaction.type is discord.InteractionType.application_command:
            self.command_started(interaction.id)

    async def on_app_command_completion(
        self,
        interaction: discord.Interaction,
        command: app_commands.Command[Any, ..., Any] | app_commands.ContextMenu,
    ) -> None:
        if isinstance(command, commands.hybrid.HybridAppCommand):
            return  # counted by on_command_completion
        kind = "context_menu" if isinstance(command, app_commands.ContextMenu) else "slash"
        self.command_completed(interaction.id, command.qualified_name, kind)

    def app_command_failed(self, interaction: discord.Interaction, error: BaseException) -> None:
        """Called by the bot's slash-command error handler (pure slash commands)."""
        command = interaction.command
        name = command.qualified_name if command is not None else "?"
        self.command_failed(interaction.id, name, error)


def context_key(ctx: commands.Context[Any]) -> int:
    """The id that ties a command's start to its end."""
    return ctx.interaction.id if ctx.interaction is not None else ctx.message.id


def context_kind(ctx: commands.Context[Any]) -> str:
    return "slash" if ctx.interaction is not None else "prefix"


# --- the exposition format -----------------------------------------------------------------


def _number(value: float | int | bool | None) -> str:
    if value is None:
        return "NaN"
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, int):
        return str(value)
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "+Inf" if value > 0 else "-Inf"
    if value.is_integer() and abs(value) < 1e15:
        return str(int(value))
    return repr(value)


def _escape(value: object) -> str:
    return str(value).replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')


def _labels(labels: Mapping[str, object]) -> str:
    if not labels:
        return ""
    inner = ",".join(f'{key}="{_escape(value)}"' for key, value in labels.items())
    return "{" + inner + "}"


class Exposition:
    """Builds the Prometheus text: one HELP and TYPE line per family, then its samples."""

    def __init__(self) -> None:
        self._lines: list[str] = []

    def family(
        self,
        name: str,
        kind: str,
        help_text: str,
        samples: Iterable[tuple[Mapping[str, object], float | int | bool | None]],
    ) -> None:
        self._lines.append(f"# HELP {name} {help_text}")
        self._lines.append(f"# TYPE {name} {kind}")
        for labels, value in samples:
            self._lines.append(f"{name}{_labels(labels)} {_number(value)}")

    def histogram(
        self, name: str, help_text: str, series: Iterable[tuple[Mapping[str, object], Histogram]]
    ) -> None:
        self._lines.append(f"# HELP {name} {help_text}")
        self._lines.append(f"# TYPE {name} histogram")
        for labels, histogram in series:
            for bound, count in histogram.cumulative():
                merged = {**labels, "le": bound}
                self._lines.append(f"{name}_bucket{_labels(merged)} {count}")
            self._lines.append(f"{name}_sum{_labels(labels)} {_number(histogram.total)}")
            self._lines.append(f"{name}_count{_labels(labels)} {histogram.count}")

    def text(self) -> str:
        return "\n".join(self._lines) + "\n"


def _finite(value: float | None) -> float | None:
    if value is None or not math.isfinite(value):
        return None
    return value


def render_metrics(bot: FishBot, metrics: BotMetrics) -> str:
    """Everything ``/metrics`` shows, in the Prometheus text format."""
    out = Exposition()
    now = discord.utils.utcnow()
    out.family("fishbot_up", "gauge", "1 while the process serves metrics.", [({}, 1)])
    out.family(
        "fishbot_ready",
        "gauge",
        "1 when the bot is logged in and its guild cache is filled.",
        [({}, bot.is_ready() and not bot.is_closed())],
    )
    out.family(
        "fishbot_uptime_seconds",
        "gauge",
        "Seconds since the bot object was created.",
        [({}, max(0.0, (now - bot.started_at).total_seconds()))],
    )
    out.family("fishbot_guilds", "gauge", "Guilds the bot is in.", [({}, len(bot.guilds))])
    shards = getattr(bot, "shards", {}) or {}
    out.family(
        "fishbot_gateway_latency_seconds",
        "gauge",
        "Heartbeat latency of each shard.",
        [({"shard": shard_id}, _finite(info.latency)) for shard_id, info in shards.items()],
    )
    out.family(
        "fishbot_events_total",
        "counter",
        "Events dispatched by the client, by event name.",
        [({"event": name}, count) for name, count in sorted(metrics.events.items())],
    )
    out.family(
        "fishbot_commands_total",
        "counter",
        "Commands that completed without error, by command and type (prefix, slash, context_menu).",
        [
            ({"command": name, "type": kind}, count)
            for (name, kind), count in sorted(metrics.commands.items())
        ],
    )
    out.family(
        "fishbot_command_errors_total",
        "counter",
        "Commands that ended in an error, by command and category (denied, user, unexpected).",
        [
            ({"command": name, "category": category}, count)
            for (name, category), count in sorted(metrics.command_errors.items())
        ],
    )
    out.histogram(
        "fishbot_command_duration_seconds",
        "Time from a command's start to its completion or error.",
        [({"command": name}, hist) for name, hist in sorted(metrics.latency.items())],
    )
    out.family(
        "fishbot_unexpected_errors_total",
        "counter",
        "Unexpected errors (answered with an apology and an error id), by exception type.",
        [({"type": kind}, count) for kind, count in sorted(metrics.unexpected.items())],
    )
    _render_cogs(bot, out)
    _render_database(bot, out)
    return out.text()


def _render_cogs(bot: FishBot, out: Exposition) -> None:
    cogs = sorted(bot.fish_cogs(), key=lambda cog: cog.qualified_name)
    states = [(cog.qualified_name, cog.status_summary()) for cog in cogs]
    for key, help_text in (
        ("ready", "1 when the cog finished its initialisation."),
        ("paused", "1 when the cog is paused (globally)."),
        ("errors", "1 when the cog recorded an error."),
    ):
        out.family(
            f"fishbot_cog_{key}",
            "gauge",
            help_text,
            [({"cog": name}, bool(state.get(key))) for name, state in states],
        )
    out.family(
        "fishbot_cog_load_errors",
        "gauge",
        "Cog packages that failed to load.",
        [({}, len(bot.cog_load_errors))],
    )
    runs: list[tuple[dict[str, object], float | int | None]] = []
    failures: list[tuple[dict[str, object], float | int | None]] = []
    average: list[tuple[dict[str, object], float | int | None]] = []
    p95: list[tuple[dict[str, object], float | int | None]] = []
    active: list[tuple[dict[str, object], float | int | None]] = []
    for cog in cogs:
        tracker = cog.task_tracker
        active.append(({"cog": cog.qualified_name}, len(tracker.active())))
        for task, stats in sorted(tracker.all_stats().items()):
            labels: dict[str, object] = {"cog": cog.qualified_name, "task": task}
            runs.append((labels, stats.runs))
            failures.append((labels, stats.failures))
            average.append((labels, stats.avg_duration))
            p95.append((labels, stats.p95_duration))
    out.family("fishbot_task_runs_total", "counter", "Finished runs of a tracked task.", runs)
    out.family(
        "fishbot_task_failures_total",
        "counter",
        "Failed (or cancelled) runs of a tracked task.",
        failures,
    )
    out.family(
        "fishbot_task_duration_avg_seconds", "gauge", "Mean duration of a tracked task.", average
    )
    out.family(
        "fishbot_task_duration_p95_seconds",
        "gauge",
        "95th percentile duration of a tracked task (recent runs).",
        p95,
    )
    out.family("fishbot_tasks_active", "gauge", "Tracked tasks running now, per cog.", active)


def _render_database(bot: FishBot, out: Exposition) -> None:
    service = bot.database
    stats = service.stats
    dialect = {"dialect": service.dialect}
    out.family(
        "fishbot_db_queries_total",
        "counter",
        "SQL statements executed.",
        [(dialect, stats.queries)],
    )
    out.family(
        "fishbot_db_query_seconds_total",
        "counter",
        "Time spent executing SQL statements.",
        [(dialect, stats.total_seconds)],
    )
    out.family(
        "fishbot_db_query_errors_total",
        "counter",
        "SQL statements that raised an error.",
        [(dialect, stats.errors)],
    )
    out.family(
        "fishbot_db_retries_total",
        "counter",
        "Connection attempts retried after a transient error.",
        [(dialect, stats.retries)],
    )
    out.family(
        "fishbot_db_statements_total",
        "counter",
        "SQL statements executed, by verb (SELECT, INSERT...).",
        [({"verb": verb}, count) for verb, count in sorted(stats.by_statement.items())],
    )
    pool = service.pool_status()
    out.family(
        "fishbot_db_pool_connections",
        "gauge",
        "Connection pool: size, checked_out (in use), idle and overflow.",
        [({"state": state}, value) for state, value in pool.items()],
    )
    out.family(
        "fishbot_db_connected",
        "gauge",
        "1 while the database engine exists (see /healthz for a live check).",
        [({}, service.connected)],
    )
