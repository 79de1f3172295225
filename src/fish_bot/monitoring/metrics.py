"""In-process metrics: cheap counters on the hot path, Prometheus text on demand.

Every gateway event bumps an integer in a dictionary (no I/O, no lock: the bot runs on one
event loop). Commands, errors and latencies are ``prometheus_client`` counters and a histogram.
Everything else (task statistics, database counters, pool use, cog state) is read when
``/metrics`` is scraped, by :class:`ScrapeCollector`, the one collector of on-scrape values;
``prometheus_client`` writes the text exposition format.

The metric names and their meaning are listed in ``docs/operations.md``.
"""

from __future__ import annotations

import math
import time
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any

import discord
from discord import app_commands
from discord.ext import commands
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Histogram,
    disable_created_metrics,
    generate_latest,
)
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from fish_bot.core.error_policy import ERROR_CATEGORIES, classify

if TYPE_CHECKING:
    from fish_bot.core.host import FishHost

# The *_created series would double every counter's output for a value nobody reads.
disable_created_metrics()

#: Upper bounds (seconds) of the command latency histogram buckets.
LATENCY_BUCKETS: tuple[float, ...] = (0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)

#: At most this many commands may be "in flight" (started, not yet finished) in the latency
#: bookkeeping; older entries are dropped (a command whose end was never seen).
MAX_IN_FLIGHT = 1000

#: Error categories counted by ``fishbot_command_errors_total``.

CONTENT_TYPE = CONTENT_TYPE_LATEST


def classify_error(error: BaseException) -> str | None:
    """``denied``, ``user``, ``database`` or ``unexpected`` for a command error (None: not counted).

    The category is the one error policy's (:func:`fish_bot.core.error_policy.classify`):
    *denied*: a permission rule or check refused the command. *user*: the user's input or
    timing (bad argument, cooldown, a :class:`UserFacingError`). *database*: the database was
    unreachable. *unexpected*: a bug, answered with an apology and an error id.
    """
    return classify(error).category


class BotMetrics:
    """The counters a running bot keeps; one per :class:`~fish_bot.bot.FishBot`.

    Commands, errors and latencies are ``prometheus_client`` counters and a histogram in a
    registry of this object's own (two bots in one process never mix). Dispatched events are
    counted in a plain dictionary, the cheapest update there is, since every gateway event
    passes through :meth:`count_event`; :class:`ScrapeCollector` exposes them, and everything
    read from the bot's state, when ``/metrics`` is scraped.
    """

    def __init__(self, buckets: Sequence[float] = LATENCY_BUCKETS) -> None:
        self.registry = CollectorRegistry(auto_describe=False)
        #: gateway/client event name -> times dispatched
        self.events: dict[str, int] = {}
        self.commands = Counter(
            "fishbot_commands",
            "Commands that completed without error, by command and type "
            "(prefix, slash, context_menu).",
            ("command", "type"),
            registry=self.registry,
        )
        self.command_errors = Counter(
            "fishbot_command_errors",
            "Commands that ended in an error, by command and category "
            f"({', '.join(ERROR_CATEGORIES)}).",
            ("command", "category"),
            registry=self.registry,
        )
        self.latency = Histogram(
            "fishbot_command_duration_seconds",
            "Time from a command's start to its completion or error.",
            ("command",),
            buckets=tuple(buckets),
            registry=self.registry,
        )
        self.unexpected = Counter(
            "fishbot_unexpected_errors",
            "Unexpected errors (answered with an apology and an error id), by exception type.",
            ("type",),
            registry=self.registry,
        )
        self._started: dict[int, float] = {}
        self._collector: ScrapeCollector | None = None
        #: The labelled series of each command, kept: ``labels()`` validates and locks at
        #: every call, and these two run for every command.
        self._latency_of: dict[str, Any] = {}
        self._count_of: dict[tuple[str, str], Any] = {}

    def bind(self, bot: FishHost) -> None:
        """Expose ``bot``'s state and the event counts at every scrape (once per bot)."""
        if self._collector is None:
            self._collector = ScrapeCollector(bot, self)
            self.registry.register(self._collector)

    # --- reading (tests, status) ------------------------------------------------------

    def command_error_count(self, command: str, category: str) -> int:
        """How many runs of ``command`` ended in an error of ``category``."""
        value = self.registry.get_sample_value(
            "fishbot_command_errors_total", {"command": command, "category": category}
        )
        return int(value or 0)

    def unexpected_counts(self) -> dict[str, int]:
        """``{exception type: count}`` of the unexpected errors reported with an error id."""
        return {
            sample.labels["type"]: int(sample.value)
            for family in self.unexpected.collect()
            for sample in family.samples
            if sample.name.endswith("_total")
        }

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
        child = self._latency_of.get(command)
        if child is None:
            child = self._latency_of[command] = self.latency.labels(command)
        child.observe(time.perf_counter() - start)

    def command_completed(self, key: int, command: str, kind: str) -> None:
        child = self._count_of.get((command, kind))
        if child is None:
            child = self._count_of[(command, kind)] = self.commands.labels(command, kind)
        child.inc()
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
        self.command_errors.labels(command, category).inc()

    def unexpected_error(self, kind: str) -> None:
        self.unexpected.labels(kind).inc()

    # --- event hooks (installed by fish_bot.monitoring.Monitor; called in dispatch) ------

    def on_command(self, ctx: commands.Context[Any]) -> None:
        self.command_started(context_key(ctx))

    def on_command_completion(self, ctx: commands.Context[Any]) -> None:
        name = ctx.command.qualified_name if ctx.command else "?"
        self.command_completed(context_key(ctx), name, context_kind(ctx))

    def on_command_error(self, ctx: commands.Context[Any], error: Exception) -> None:
        name = ctx.command.qualified_name if ctx.command else "?"
        self.command_failed(context_key(ctx), name, error)

    def on_interaction(self, interaction: discord.Interaction) -> None:
        if interaction.type is discord.InteractionType.application_command:
            self.command_started(interaction.id)

    def on_app_command_completion(
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


# --- values read at scrape time -----------------------------------------------------------

Sample = tuple[Mapping[str, object], float | int | bool | None]


def _value(value: float | int | bool | None) -> float:
    if value is None:
        return math.nan
    return float(value)


def _family(
    name: str, kind: str, help_text: str, samples: Iterable[Sample]
) -> GaugeMetricFamily | CounterMetricFamily:
    """A gauge or counter family whose label names come from its samples."""
    rows = list(samples)
    labels = list(rows[0][0]) if rows else []
    family_type = CounterMetricFamily if kind == "counter" else GaugeMetricFamily
    family = family_type(name, help_text, labels=labels)
    for row_labels, value in rows:
        family.add_metric([str(row_labels[key]) for key in labels], _value(value))
    return family


class ScrapeCollector(Collector):
    """The one collector of values read from the bot when ``/metrics`` is scraped."""

    def __init__(self, bot: FishHost, metrics: BotMetrics) -> None:
        self.bot = bot
        self.metrics = metrics

    def describe(self) -> list[Metric]:
        return []  # values change with the bot's state; nothing to check at registration

    def collect(self) -> Iterator[Metric]:
        bot = self.bot
        now = discord.utils.utcnow()
        yield _family("fishbot_up", "gauge", "1 while the process serves metrics.", [({}, 1)])
        yield _family(
            "fishbot_cluster_node",
            "gauge",
            "1, labelled with this process's cluster node name, shard count and shard ids.",
            [(dict(bot.cluster.labels()), 1)],
        )
        yield _family(
            "fishbot_ready",
            "gauge",
            "1 when the bot is logged in and its guild cache is filled.",
            [({}, bot.is_ready() and not bot.is_closed())],
        )
        yield _family(
            "fishbot_uptime_seconds",
            "gauge",
            "Seconds since the bot object was created.",
            [({}, max(0.0, (now - bot.started_at).total_seconds()))],
        )
        yield _family("fishbot_guilds", "gauge", "Guilds the bot is in.", [({}, len(bot.guilds))])
        shards = bot.shards
        yield _family(
            "fishbot_gateway_latency_seconds",
            "gauge",
            "Heartbeat latency of each shard.",
            [({"shard": shard_id}, _finite(info.latency)) for shard_id, info in shards.items()],
        )
        yield _family(
            "fishbot_events",
            "counter",
            "Events dispatched by the client, by event name.",
            [({"event": name}, count) for name, count in sorted(self.metrics.events.items())],
        )
        yield from _cog_families(bot)
        yield from _database_families(bot)


def _finite(value: float | None) -> float | None:
    if value is None or not math.isfinite(value):
        return None
    return value


def render_metrics(bot: FishHost, metrics: BotMetrics) -> str:
    """Everything ``/metrics`` shows, in the Prometheus text format."""
    metrics.bind(bot)
    return generate_latest(metrics.registry).decode("utf-8")


def _cog_families(bot: FishHost) -> Iterator[Metric]:
    cogs = sorted(bot.fish_cogs(), key=lambda cog: cog.qualified_name)
    states = [(cog.qualified_name, cog.status_summary()) for cog in cogs]
    for key, help_text in (
        ("ready", "1 when the cog finished its initialisation."),
        ("paused", "1 when the cog is paused (globally)."),
        ("errors", "1 when the cog recorded an error."),
    ):
        yield _family(
            f"fishbot_cog_{key}",
            "gauge",
            help_text,
            [({"cog": name}, bool(state.get(key))) for name, state in states],
        )
    yield _family(
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
    yield _family("fishbot_task_runs_total", "counter", "Finished runs of a tracked task.", runs)
    yield _family(
        "fishbot_task_failures_total",
        "counter",
        "Failed (or cancelled) runs of a tracked task.",
        failures,
    )
    yield _family(
        "fishbot_task_duration_avg_seconds", "gauge", "Mean duration of a tracked task.", average
    )
    yield _family(
        "fishbot_task_duration_p95_seconds",
        "gauge",
        "95th percentile duration of a tracked task (recent runs).",
        p95,
    )
    yield _family("fishbot_tasks_active", "gauge", "Tracked tasks running now, per cog.", active)


def _database_families(bot: FishHost) -> Iterator[Metric]:
    service = bot.database
    stats = service.stats
    dialect = {"dialect": service.dialect}
    yield _family(
        "fishbot_db_queries_total",
        "counter",
        "SQL statements executed.",
        [(dialect, stats.queries)],
    )
    yield _family(
        "fishbot_db_query_seconds_total",
        "counter",
        "Time spent executing SQL statements.",
        [(dialect, stats.total_seconds)],
    )
    yield _family(
        "fishbot_db_query_errors_total",
        "counter",
        "SQL statements that raised an error.",
        [(dialect, stats.errors)],
    )
    yield _family(
        "fishbot_db_retries_total",
        "counter",
        "Connection attempts retried after a transient error.",
        [(dialect, stats.retries)],
    )
    yield _family(
        "fishbot_db_statements_total",
        "counter",
        "SQL statements executed, by verb (SELECT, INSERT...).",
        [({"verb": verb}, count) for verb, count in sorted(stats.by_statement.items())],
    )
    pool = service.pool_status()
    yield _family(
        "fishbot_db_pool_connections",
        "gauge",
        "Connection pool: size, checked_out (in use), idle and overflow.",
        [({"state": state}, value) for state, value in pool.items()],
    )
    yield _family(
        "fishbot_db_connected",
        "gauge",
        "1 while the database engine exists (see /healthz for a live check).",
        [({}, service.connected)],
    )
