"""Argument parsing that refuses bad input with a usage message, never an exception.

``str.isdigit()`` accepts characters ``int()`` refuses (``②``, ``²``) and ``int()`` refuses
more than 4,300 digits: :func:`parse_decimal` accepts decimal digits only (``str.isdecimal()``,
what ``int()`` reads), with a bounded length. :class:`ModuleName` checks a cog package name
before it reaches the import system (which raises ``ModuleNotFoundError`` for ``a b.c``).
:class:`Duration`, :class:`FutureMoment` and :class:`OptionalFutureMoment` read the duration
words of a command (``!tempban @bob 5 days spamming``) through ``core/durations.py``.
"""

from __future__ import annotations

import contextlib
from datetime import datetime
from typing import Any, ClassVar

import discord
from discord import app_commands
from discord.ext import commands

from fish_bot.core.durations import (
    MAX_DURATION_WORDS,
    DurationError,
    leading_duration,
    parse_duration,
    parse_moment,
)
from fish_bot.core.text import plain

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
    """Whether ``text`` is a dotted Python module path of ASCII identifiers (``example``,
    ``fish_bot.cogs.x``)."""
    parts = text.split(".")
    return (
        len(text) <= MODULE_NAME_LIMIT
        and text.isascii()
        and all(part.isidentifier() for part in parts)
    )


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
                f"`{plain(name, 60)}` is not a module name: use a short name (`example`) or a "
                "package path (`fish_bot.cogs.example`)."
            )
        return name


# --- durations --------------------------------------------------------------------------------


class DurationWords(commands.Converter[Any]):
    """A duration typed in a command, read by :func:`~fish_bot.core.durations.leading_duration`.

    In a prefix command it takes as many words as make a duration (``!tempban @bob 5 days
    spamming``: ``5 days``) and leaves the rest to the next parameters (the reason). In a slash
    command (a string option) the whole value must be a duration. A bare number is refused.

    When the words do not start with a duration, a required duration refuses with an example
    of the command (``give a duration first, e.g. `!tempban @bob 7d spamming```); an
    ``optional`` one (``jail [duration] [reason]``) takes no words and gives ``None``, so the
    words go to the reason. Subclasses choose :meth:`parse` (seconds or a moment) and the
    ``example`` that follows the command name.
    """

    #: Whether the parameter may be left out (its words are then the next parameter's).
    optional: ClassVar[bool] = False
    #: What follows the command (and the target member) in the "give a duration first" example.
    example: ClassVar[str] = "7d spamming"

    def parse(self, text: str) -> Any:
        """The value of duration text; raises ValueError (DurationError) when it is not one."""
        return parse_duration(text)

    async def convert(self, ctx: commands.Context[Any], argument: str) -> Any:
        view = ctx.view
        start, previous = view.index, view.previous
        words, ends = [argument], [start]
        if ctx.interaction is None:
            with contextlib.suppress(commands.ArgumentParsingError):
                while len(words) < MAX_DURATION_WORDS and not view.eof:
                    view.skip_ws()
                    word = view.get_quoted_word()
                    if not word:
                        break
                    words.append(word)
                    ends.append(view.index)
        view.index, view.previous = start, previous
        try:
            value, count = leading_duration(words, self.parse)
        except DurationError as error:
            if error.problem != "missing" or ctx.interaction is not None:
                raise commands.BadArgument(str(error)) from None
            if self.optional:
                view.undo()  # the word is the next parameter's
                return None
            raise commands.BadArgument(
                f"`{plain(argument, 40)}` is not a duration: give a duration first, e.g. "
                f"`{self._example(ctx)}`"
            ) from None
        view.index = ends[count - 1]
        return value

    def _example(self, ctx: commands.Context[Any]) -> str:
        command = ctx.command.qualified_name if ctx.command is not None else "command"
        target = next(
            (f"@{arg.name} " for arg in reversed(ctx.args) if isinstance(arg, discord.abc.User)),
            "",
        )
        return f"{ctx.clean_prefix}{command} {target}{self.example}"


class Duration(DurationWords):
    """A required duration in whole seconds (``2h``, ``5 minutes``, ``1h30m``)."""


class FutureMoment(DurationWords):
    """A required future moment: a duration from now or a UTC date-time (an aware datetime)."""

    def parse(self, text: str) -> datetime:
        return parse_moment(text, discord.utils.utcnow())


class OptionalFutureMoment(FutureMoment):
    """:class:`FutureMoment` that may be left out (``None``): ``jail @bob spamming``."""

    optional = True
