"""Decorators for cog methods: typed hybrid commands and gated event listeners.

discord.py 2.7 declares ``hybrid_command``/``hybrid_group`` with type variables that appear
only in their return types, so mypy (1.x and 2.x) reports a bogus ``arg-type`` error on every
decorated method. These aliases are the same functions, seen as ``Any`` by the type checker;
everything else in a cog module stays checked. At run time nothing differs.

:func:`cog_listener` is ``commands.Cog.listener`` with the gating loops have: the event is
skipped while the cog is not ready, or is paused (everywhere, or in the event's guild).
"""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable
from typing import Any, Protocol, TypeVar

import discord
from discord.ext import commands

hybrid_command: Any = commands.hybrid_command
hybrid_group: Any = commands.hybrid_group

__all__ = ["cog_listener", "event_guild_id", "hybrid_command", "hybrid_group"]


class _GatedCog(Protocol):
    @property
    def is_ready(self) -> bool: ...

    def is_paused_in(self, guild_id: int | None) -> bool: ...


L = TypeVar("L", bound=Callable[..., Awaitable[Any]])


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


def cog_listener(name: str | None = None) -> Callable[[L], L]:
    """Mark a cog method as an event listener that runs only while the cog is ready and not
    paused in the event's guild (or everywhere)::

        @cog_listener("on_message")
        async def count_member_message(self, message: discord.Message) -> None: ...

    ``name`` is the event (``on_message``); without it the method's name is the event.
    """

    def decorator(func: L) -> L:
        @functools.wraps(func)
        async def gated(self: _GatedCog, *args: Any, **kwargs: Any) -> Any:
            if not self.is_ready or self.is_paused_in(event_guild_id(args)):
                return None
            return await func(self, *args, **kwargs)

        mark = commands.Cog.listener(name) if name else commands.Cog.listener()
        listener: L = mark(gated)  # type: ignore[assignment]
        return listener

    return decorator
