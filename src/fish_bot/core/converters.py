"""Argument parsing that refuses bad input with a usage message, never an exception.

``str.isdigit()`` accepts characters ``int()`` refuses (``②``, ``²``) and ``int()`` refuses
more than 4,300 digits: :func:`parse_decimal` accepts decimal digits only (``str.isdecimal()``,
what ``int()`` reads), with a bounded length. :class:`ModuleName` checks a cog package name
before it reaches the import system (which raises ``ModuleNotFoundError`` for ``a b.c``).
"""

from __future__ import annotations

from typing import Any

import discord
from discord import app_commands
from discord.ext import commands

#: A Discord id (snowflake) is at most 20 digits and below 2**64.
SNOWFLAKE_DIGITS = 20
#: Longest package path accepted by ``cog load``/``cog reload``.
MODULE_NAME_LIMIT = 200


def parse_decimal(text: str, *, max_digits: int = SNOWFLAKE_DIGITS) -> int | None:
    """``text`` (decimal digits, spaces around it allowed) as an int, or None when it is not."""
    cleaned = text.strip()
    if not cleaned or len(cleaned) > max_digits or not cleaned.isdecimal():
        return None
    return int(cleaned)


def parse_snowflake(text: str) -> int | None:
    """A Discord id typed by a user, or None when ``text`` cannot be one."""
    value = parse_decimal(text)
    return value if value is not None and 0 < value < 2**64 else None


def is_module_name(text: str) -> bool:
    """Whether ``text`` is a dotted Python module path (``example``, ``fish_bot.cogs.x``)."""
    parts = text.split(".")
    return (
        len(text) <= MODULE_NAME_LIMIT
        and text.isascii()
        and all(part.isidentifier() for part in parts)
    )


def _shown(text: str, limit: int = 60) -> str:
    cleaned = " ".join(text.replace("`", "'").split())
    return cleaned if len(cleaned) <= limit else cleaned[: limit - 1] + "…"


class ModuleName(commands.Converter[str], app_commands.Transformer):
    """A cog package: a short name (``example``) or a dotted package path; refuses the rest."""

    async def convert(self, ctx: commands.Context[Any], argument: str) -> str:
        return self.check(argument)

    async def transform(self, interaction: discord.Interaction, value: Any, /) -> str:
        return self.check(str(value))

    @staticmethod
    def check(argument: str) -> str:
        name = argument.strip()
        if not is_module_name(name):
            raise commands.BadArgument(
                f"`{_shown(name)}` is not a module name: use a short name (`example`) or a "
                "package path (`fish_bot.cogs.example`)."
            )
        return name
