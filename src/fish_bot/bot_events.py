"""FishBot's event dispatch: every cog's ``on_message`` listeners in one task per message,
and event hooks (plain functions called inside dispatch, such as the metrics' counters).

discord.py makes a task per listener per event. In a chat flood those tasks cost more than
the listeners do (they read memory and return), so the listeners of a :data:`BATCHED_EVENTS`
event run one after another in ONE task; a ``cog_listener``'s gate (its cog ready, not paused
in the event's guild, its ``when`` test) is checked here without running it. The bot's own
handler (``on_message``: the commands) keeps its own task.

:class:`~fish_bot.bot.FishBot` is composed of :class:`EventsMixin`.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Coroutine
from typing import TYPE_CHECKING, Any

import discord

from fish_bot.core.decorators import event_guild_id

if TYPE_CHECKING:
    from discord.ext import commands

    from fish_bot.core.host import FishHost
    from fish_bot.monitoring import Monitor

    class _MixinBase(commands.AutoShardedBot, FishHost):
        """The bot as mypy sees the mixin: discord.py's bot with what core needs of it."""

else:
    _MixinBase = object

#: Per listener of an event: (its cog, the body behind its gate, its ``when`` test) for a
#: ``cog_listener``, else (None, the listener, None).
ListenerPlan = list[tuple[Any, Callable[..., Coroutine[Any, Any, Any]], Callable[..., bool] | None]]

#: The bot's logger: dispatch logs as it did when it was in ``fish_bot.bot``.
log = logging.getLogger("fish_bot.bot")

#: Events whose cog listeners share one task per event (see ``FishBot.dispatch``).
BATCHED_EVENTS = frozenset({"message"})


def _gate_open(cog: Any, guild_id: int | None) -> bool:
    """A cog_listener's gate: its cog is ready and not paused in the event's guild."""
    return bool(cog.is_ready) and not cog.is_paused_in(guild_id)


def _being_cancelled() -> bool:
    """Whether the running task itself is being cancelled (not just a listener's wait)."""
    task = asyncio.current_task()
    return task is not None and task.cancelling() > 0


class EventsMixin(_MixinBase):
    """Dispatch with batched listeners and event hooks."""

    if TYPE_CHECKING:  # set by FishBot.__init__
        monitor: Monitor
        event_hooks: dict[str, list[Callable[..., object]]]
        _listener_plans: dict[str, tuple[tuple[int, ...], list[Any]]]

    def dispatch(self, event_name: str, /, *args: Any, **kwargs: Any) -> None:
        """Count the event for /metrics (one dictionary update), then dispatch it.

        The listeners of a :data:`BATCHED_EVENTS` event (``on_message``: every cog's, in the
        order they were added) run one after another in ONE task per event, not a task each:
        in a chat flood the tasks cost more than the listeners, which read memory and return.
        The bot's own handler (``on_message``: the commands) keeps its own task.
        """
        self.monitor.count_event(event_name)
        hooks = self.event_hooks.get(event_name)
        if hooks:
            self._run_event_hooks(hooks, event_name, args, kwargs)
        if event_name not in BATCHED_EVENTS:
            super().dispatch(event_name, *args, **kwargs)
            return
        discord.Client.dispatch(self, event_name, *args, **kwargs)  # wait_for and on_<event>
        method = "on_" + event_name
        listeners = self.extra_events.get(method)
        if listeners:
            self.loop.create_task(
                self._run_listeners(self._listener_plan(method, listeners), method, args, kwargs),
                name=f"fish-bot: {method} listeners",
            )

    def add_event_hook(self, event: str, hook: Callable[..., object]) -> None:
        """Call ``hook(*event_args)`` inside dispatch for ``event`` (``on_command``...): for
        bookkeeping that neither awaits nor fails (metrics), without a task per event."""
        self.event_hooks.setdefault(event.removeprefix("on_"), []).append(hook)

    @staticmethod
    def _run_event_hooks(
        hooks: list[Callable[..., object]],
        event_name: str,
        args: tuple[Any, ...],
        kwargs: dict[str, Any],
    ) -> None:
        for hook in hooks:
            try:
                hook(*args, **kwargs)
            except Exception:
                log.exception("An event hook of %s failed", event_name)

    def add_listener(self, func: Any, /, name: Any = discord.utils.MISSING) -> None:
        self._listener_plans.clear()
        super().add_listener(func, name)

    def remove_listener(self, func: Any, /, name: Any = discord.utils.MISSING) -> None:
        self._listener_plans.clear()
        super().remove_listener(func, name)

    def _listener_plan(
        self, method: str, listeners: list[Callable[..., Coroutine[Any, Any, Any]]]
    ) -> ListenerPlan:
        """The :data:`ListenerPlan` of these listeners, worked out once per set of listeners.

        ``add_listener``/``remove_listener`` drop the plans; the listeners' ids catch the
        lists changed behind them (discord.py edits them itself when an extension unloads).
        """
        key = tuple(map(id, listeners))
        cached = self._listener_plans.get(method)
        if cached is not None and cached[0] == key:
            return cached[1]
        plan: ListenerPlan = []
        for listener in listeners:
            func: Any = getattr(listener, "__func__", None)
            if getattr(func, "fish_gated", False):
                plan.append((listener.__self__, func.__wrapped__, func.fish_when))  # type: ignore[attr-defined]
            else:
                plan.append((None, listener, None))
        self._listener_plans[method] = (key, plan)
        return plan

    async def _run_listeners(
        self,
        plan: ListenerPlan,
        method: str,
        args: tuple[Any, ...],
        kwargs: dict[str, Any],
    ) -> None:
        """Each listener of ``plan`` (taken when the event came) in turn; one that raises goes
        to ``on_error`` and the next runs.

        A ``cog_listener`` is gated here (its cog ready and not paused in the event's guild,
        the guild found once for all of them) and its body called directly.
        """
        guild_id = event_guild_id(args)
        for cog, body, when in plan:
            if cog is None:
                coro = body(*args, **kwargs)
            elif _gate_open(cog, guild_id) and (when is None or when(cog, *args, **kwargs)):
                coro = body(cog, *args, **kwargs)
            else:
                continue
            try:
                await coro
            except asyncio.CancelledError:
                if _being_cancelled():
                    raise  # the bot is stopping: the other listeners are not run
            except Exception:
                await self.on_error(method, *args, **kwargs)
