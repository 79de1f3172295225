"""Decorators for cog methods: typed hybrid commands and gated event listeners.

discord.py 2.7 declares ``hybrid_command``/``hybrid_group`` with type variables that appear
only in their return types, so mypy (1.x and 2.x) reports a bogus ``arg-type`` error on every
decorated method. These aliases are the same functions, seen as ``Any`` by the type checker;
everything else in a cog module stays checked. At run time nothing differs.

:func:`cog_listener` is ``commands.Cog.listener`` with the gating loops have: the event is
skipped while the cog is not ready, or is paused (everywhere, or in the event's guild).

:func:`examples` gives a command the example invocations ``help <command>`` shows (written
without the prefix; help writes them with the server's); :func:`command_examples` reads them.
"""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable
from typing import Any, Protocol, TypeVar

import discord
from discord.ext import commands

hybrid_command: Any = commands.hybrid_command
hybrid_group: Any = commands.hybrid_group

__all__ = [
    "cog_listener",
    "command_examples",
    "event_guild_id",
    "examples",
    "hybrid_command",
    "hybrid_group",
]

#: Where :func:`examples` stores a command's examples (in its ``extras``).
EXAMPLES_KEY = "examples"


class _GatedCog(Protocol):
    @property
    def is_ready(self) -> bool: ...

    def is_paused_in(self, guild_id: int | None) -> bool: ...


L = TypeVar("L", bound=Callable[..., Awaitable[Any]])
F = TypeVar("F")


def examples(*lines: str) -> Callable[[F], F]:
    """Example invocations of a command, without the prefix (``"ban @bob spamming"``).

    ``help <command>`` shows them with the server's prefix. Put it above or below the command
    decorator, like ``requires_rank``; the one way every built-in command declares examples.
    """
    from fish_bot.core.permissions import _mark

    if not lines or not all(isinstance(line, str) and line.strip() for line in lines):
        raise ValueError("examples() needs at least one non-empty example")
    return _mark(EXAMPLES_KEY, tuple(lines))


def command_examples(command: Any) -> tuple[str, ...]:
    """The examples declared with :func:`examples` on this command (not its group's)."""
    extras = getattr(command, "extras", None) or {}
    if EXAMPLES_KEY in extras:
        return tuple(extras[EXAMPLES_KEY])
    callback = getattr(command, "callback", None)
    meta = getattr(callback, "__fishbot_meta__", None) or {}
    return tuple(meta.get(EXAMPLES_KEY, ()))


def event_guild_id(args: tuple[Any, ...]) -> int | None:
    """The guild an event happened in, from its arguments (a message, member, guild, payload)."""
    for arg in args:
        if isinstance(arg, discord.Guild):
            return arg.id
        guild = getattr(arg, "guild", None)
        if isinstance(guild, discord.Guild):
            return guild.id
        guild_id = getattr(arg, "guild_id", None)
        if isinstance(guild_id, int) and not isinstance(guild_id, bool):
            return guild_id
    return None


def cog_listener(
    name: str | None = None, *, when: Callable[..., bool] | None = None
) -> Callable[[L], L]:
    """Mark a cog method as an event listener that runs only while the cog is ready and not
    paused in the event's guild (or everywhere)::

        @cog_listener("on_message", when=lambda self, message: message.poll is not None)
        async def enforce_poll_ban(self, message: discord.Message) -> None: ...

    ``name`` is the event (``on_message``); without it the method's name is the event.
    ``when`` (optional) is a cheap test, called as ``when(self, *event_args)`` without
    awaiting: when it says False the listener is not run at all. For the events a busy bot
    gets all the time (every message), it lets most of them pass at no cost.
    """

    def decorator(func: L) -> L:
        @functools.wraps(func)
        async def gated(self: _GatedCog, *args: Any, **kwargs: Any) -> Any:
            if not self.is_ready or self.is_paused_in(event_guild_id(args)):
                return None
            if when is not None and not when(self, *args, **kwargs):
                return None
            return await func(self, *args, **kwargs)

        # FishBot's batched dispatch checks the gate itself and calls ``func`` directly.
        gated.fish_gated = True  # type: ignore[attr-defined]
        gated.fish_when = when  # type: ignore[attr-defined]
        mark = commands.Cog.listener(name) if name else commands.Cog.listener()
        listener: L = mark(gated)  # type: ignore[assignment]
        return listener

    return decorator
