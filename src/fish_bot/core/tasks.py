"""The tasks helper: background loops that follow the framework's rules (DESIGN.md rule 7).

The guide's ``tasks.py`` pattern, written once. A loop declared with :func:`cog_loop`

* waits until the bot and its cog are ready before the first iteration (``before_loop``),
* skips an iteration while the cog is paused globally (``cog.is_paused``),
* runs each iteration inside ``cog.task_tracker.task_context(name)``,
* logs an exception with its traceback, calls ``cog.record_error(error)``, counts it, and keeps
  running: the next iteration comes at the next interval.

Loops live on a :class:`CogTasks` holder, as the guide's ``UnifiedAdvertiseTasks`` does::

    class ExampleTasks(CogTasks):
        @cog_loop(minutes=5, name="Heartbeat")
        async def heartbeat(self, tracker: TrackedOperation) -> None:
            tracker.update_status("Counting")
            self.cog.beat()

    # in the cog's cog_initialize():
    self.tasks = ExampleTasks(self)
    self.tasks.start_tasks()

``BaseCog.cog_unload`` calls ``self.tasks.stop_tasks()``. A loop may also be declared on the
cog itself (its ``cog`` is then the instance). The body may take a parameter named ``tracker``
to receive the :class:`~fish_bot.core.task_tracker.TrackedOperation` of the iteration.

Waiting uses :mod:`discord.ext.tasks` (asyncio timers), so SimCord's ``env.advance_time``
drives these loops in tests.
"""

from __future__ import annotations

import asyncio
import functools
import inspect
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

import discord.utils
from discord.ext import tasks

from fish_bot.core.text import clip

if TYPE_CHECKING:
    from fish_bot.core.base_cog import BaseCog

__all__ = [
    "CogTasks",
    "LoopStats",
    "cog_loop",
    "cog_loops",
    "find_loops",
    "loop_status_lines",
    "start_cog_loop",
    "stats_for",
    "stop_cog_loops",
]

log = logging.getLogger(__name__)

#: Attribute set on the coroutine function of every loop built by :func:`cog_loop`.
LOOP_MARKER = "__fishbot_cog_loop__"

_STATS_ATTRIBUTE = "_fishbot_loop_stats"


@dataclass
class LoopStats:
    """What one loop has done on one holder (cog or tasks object) since it was built."""

    name: str
    iterations: int = 0
    """Iterations that ran their body (successful or not)."""
    skipped_paused: int = 0
    """Iterations skipped because the cog was paused."""
    failures: int = 0
    """Iterations whose body raised."""
    last_error: str | None = None
    last_error_at: datetime | None = None
    last_run_at: datetime | None = None

    def summary(self) -> str:
        """One line for a status embed."""
        text = f"{self.name}: {self.iterations} runs, {self.failures} failed"
        if self.skipped_paused:
            text += f", {self.skipped_paused} skipped (paused)"
        return text


@dataclass(frozen=True)
class _LoopInfo:
    name: str


def _cog_of(holder: Any) -> BaseCog:
    """The cog a loop belongs to: ``holder.cog`` for a tasks object, else the holder itself."""
    cog = getattr(holder, "cog", None)
    return cog if cog is not None else holder


def stats_for(holder: Any, name: str) -> LoopStats:
    """The :class:`LoopStats` of the loop ``name`` on ``holder`` (created empty when new)."""
    table: dict[str, LoopStats] | None = holder.__dict__.get(_STATS_ATTRIBUTE)
    if table is None:
        table = {}
        holder.__dict__[_STATS_ATTRIBUTE] = table
    stats = table.get(name)
    if stats is None:
        stats = table[name] = LoopStats(name)
    return stats


async def _wait_until_ready(holder: Any) -> None:
    """``before_loop`` of every cog loop: wait for the bot, then for the cog."""
    cog = _cog_of(holder)
    await cog.bot.wait_until_ready()
    await cog.wait_until_ready()


def _humanise(name: str) -> str:
    return name.replace("_", " ").strip().capitalize() or name


def cog_loop(
    seconds: float = 0,
    minutes: float = 0,
    hours: float = 0,
    *,
    name: str | None = None,
    reconnect: bool = True,
) -> Callable[[Callable[..., Awaitable[None]]], tasks.Loop[Any]]:
    """Declare a background loop of a cog (see the module documentation).

    ``name`` is the operation name in the cog's TaskTracker and status embed (default: the
    function name, humanised: ``check_deletions`` -> ``"Check deletions"``). ``reconnect`` is
    passed to :func:`discord.ext.tasks.loop`.
    """
    if seconds == 0 and minutes == 0 and hours == 0:
        raise ValueError("cog_loop needs an interval: seconds, minutes or hours")

    def decorator(func: Callable[..., Awaitable[None]]) -> tasks.Loop[Any]:
        if not inspect.iscoroutinefunction(func):
            raise TypeError(f"cog_loop needs an async function, not {func!r}")
        loop_name = name or _humanise(func.__name__)
        wants_tracker = "tracker" in inspect.signature(func).parameters

        @functools.wraps(func)
        async def body(holder: Any, *args: Any, **kwargs: Any) -> None:
            cog = _cog_of(holder)
            stats = stats_for(holder, loop_name)
            if not cog.is_ready:  # a before_loop replaced by the author: still wait
                await cog.bot.wait_until_ready()
                await cog.wait_until_ready()
            if cog.is_paused:
                stats.skipped_paused += 1
                return
            stats.iterations += 1
            stats.last_run_at = discord.utils.utcnow()
            try:
                async with cog.task_tracker.task_context(loop_name) as tracker:
                    if wants_tracker:
                        kwargs["tracker"] = tracker
                    await func(holder, *args, **kwargs)
            except asyncio.CancelledError:
                raise
            except Exception as error:
                stats.failures += 1
                stats.last_error = clip(f"{type(error).__name__}: {error}", 300)
                stats.last_error_at = discord.utils.utcnow()
                cog.logger.error(
                    "Loop %r of %s failed; it runs again at the next interval",
                    loop_name,
                    cog.qualified_name,
                    exc_info=error,
                )
                cog.record_error(error)

        setattr(body, LOOP_MARKER, _LoopInfo(loop_name))
        built: tasks.Loop[Any] = tasks.loop(
            seconds=seconds,
            minutes=minutes,
            hours=hours,
            reconnect=reconnect,
            name=f"fish-bot-loop: {loop_name}",
        )(body)
        built.before_loop(_wait_until_ready)
        return built

    return decorator


def find_loops(
    holder: Any, names: tuple[str, ...] | list[str] | None = None
) -> list[tasks.Loop[Any]]:
    """The loops of ``holder``: every :func:`cog_loop`, plus the plain loops named in ``names``.

    Each is the per-instance copy (``Loop.__get__``), so starting it runs it for ``holder``.
    """
    found: list[tasks.Loop[Any]] = []
    seen: set[str] = set()
    for cls in type(holder).__mro__:
        for attr, value in vars(cls).items():
            if attr in seen or not isinstance(value, tasks.Loop):
                continue
            seen.add(attr)
            is_cog_loop = hasattr(value.coro, LOOP_MARKER)
            if is_cog_loop or (names is not None and attr in names):
                found.append(getattr(holder, attr))
    for attr in names or ():
        if attr not in seen:
            value = getattr(holder, attr, None)
            if isinstance(value, tasks.Loop):
                found.append(value)
            else:
                raise AttributeError(f"{type(holder).__name__} has no loop named {attr!r}")
    return found


class CogTasks:
    """Base of a cog's ``tasks.py`` holder: finds, starts and stops its loops.

    Every loop declared with :func:`cog_loop` is managed. A subclass that also declares plain
    ``@tasks.loop`` loops (the guide's pattern, with its own before_loop and pause checks)
    lists their attribute names in :attr:`extra_loops` to have them started and stopped too.
    """

    #: Attribute names of plain ``discord.ext.tasks`` loops to start and stop as well.
    extra_loops: tuple[str, ...] = ()

    def __init__(self, cog: BaseCog) -> None:
        self.cog = cog

    @property
    def bot(self) -> Any:
        return self.cog.bot

    @property
    def loops(self) -> list[tasks.Loop[Any]]:
        """Every managed loop of this holder."""
        return find_loops(self, self.extra_loops)

    def start_tasks(self) -> None:
        """Start every managed loop that is not running yet."""
        for loop in self.loops:
            if not loop.is_running():
                loop.start()

    def stop_tasks(self) -> None:
        """Cancel every managed loop (an iteration in progress is cancelled)."""
        for loop in self.loops:
            loop.cancel()

    def loop_stats(self) -> list[LoopStats]:
        """Statistics of the :func:`cog_loop` loops that have run on this holder."""
        table: dict[str, LoopStats] = self.__dict__.get(_STATS_ATTRIBUTE, {})
        return list(table.values())

    def status_lines(self) -> list[str]:
        """One line per loop: running or stopped, and its counters."""
        lines = []
        for loop in self.loops:
            info = getattr(loop.coro, LOOP_MARKER, None)
            label = info.name if info is not None else loop.coro.__name__
            state = "running" if loop.is_running() else "stopped"
            stats = self.__dict__.get(_STATS_ATTRIBUTE, {}).get(label)
            detail = f"; {stats.iterations} runs, {stats.failures} failed" if stats else ""
            if stats and stats.skipped_paused:
                detail += f", {stats.skipped_paused} skipped (paused)"
            lines.append(f"{label}: {state}{detail}")
        return lines


def _loop_holders(cog: BaseCog) -> list[Any]:
    """The cog and every object of its instance whose ``cog`` is the cog (the guide's plain
    ``UnifiedAdvertiseTasks`` holder, wherever the cog keeps it)."""
    holders: list[Any] = [cog]
    for value in list(vars(cog).values()):
        if value is cog or isinstance(value, (type, tasks.Loop)):
            continue
        try:
            owner = vars(value).get("cog") if hasattr(value, "__dict__") else None
        except TypeError:
            owner = None
        if owner is cog and all(value is not seen for seen in holders):
            holders.append(value)
    return holders


def cog_loops(cog: BaseCog) -> list[tuple[str, tasks.Loop[Any]]]:
    """Every ``discord.ext.tasks`` loop of the cog and of its holders, :func:`cog_loop` or a
    plain ``@tasks.loop``: ``(name, loop)``, each loop the holder's own copy."""
    return [entry for holder in _loop_holders(cog) for entry in cog_loops_of(holder)]


def stop_cog_loops(cog: BaseCog) -> None:
    """Cancel every loop of the cog and its holders (at unload, whatever the cog did)."""
    for _name, loop in cog_loops(cog):
        loop.cancel()


def loop_status_lines(cog: BaseCog) -> list[str]:
    """One line per loop of the cog: running (and when it runs next) or stopped, its counts."""
    lines = []
    for holder in _loop_holders(cog):
        table: dict[str, LoopStats] = holder.__dict__.get(_STATS_ATTRIBUTE, {})
        for name, loop in cog_loops_of(holder):
            if loop.is_running():
                upcoming = loop.next_iteration
                state = "running"
                if upcoming is not None:
                    state += f", next <t:{int(upcoming.timestamp())}:R>"
            elif loop.failed():
                state = "stopped after an error"
            else:
                state = "stopped"
            stats = table.get(name)
            if stats is not None:
                state += f"; {stats.iterations} runs, {stats.failures} failed"
            else:
                state += f"; {loop.current_loop} runs"
            lines.append(f"{name}: {state}")
    return lines


def cog_loops_of(holder: Any) -> list[tuple[str, tasks.Loop[Any]]]:
    """The loops of one holder (see :func:`cog_loops`)."""
    found: list[tuple[str, tasks.Loop[Any]]] = []
    seen: set[str] = set()
    for cls in type(holder).__mro__:
        for attr, value in vars(cls).items():
            if attr in seen or not isinstance(value, tasks.Loop):
                continue
            seen.add(attr)
            info = getattr(value.coro, LOOP_MARKER, None)
            found.append((info.name if info is not None else attr, getattr(holder, attr)))
    return found


class _LoopHolder:
    """Holds a loop started at run time: :func:`cog_loop` finds its cog as ``holder.cog``."""

    def __init__(self, cog: BaseCog) -> None:
        self.cog = cog


def start_cog_loop(
    cog: BaseCog, body: Callable[[], Awaitable[None]], *, seconds: float, name: str
) -> asyncio.Task[None]:
    """Run ``body`` every ``seconds`` as a :func:`cog_loop` of ``cog``; returns its task.

    For loops registered at run time rather than declared on a class (a cache file's periodic
    save): the same rules apply (wait for ready, skip while paused, tracked as ``name``, a
    failure logged and the loop going on), except that the first run comes one interval after
    the cog is ready. Cancelling the task stops the loop.
    """

    async def run(holder: _LoopHolder) -> None:
        await body()

    async def wait_one_interval(holder: _LoopHolder) -> None:
        await _wait_until_ready(holder)
        await asyncio.sleep(seconds)

    holder = _LoopHolder(cog)
    loop: tasks.Loop[Any] = cog_loop(seconds=seconds, name=name)(run)
    bound = loop.__get__(holder, _LoopHolder)
    bound.before_loop(wait_one_interval)
    return bound.start()
