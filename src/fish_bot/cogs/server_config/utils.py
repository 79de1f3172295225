"""Helpers of the guild configuration cog: argument converters, prefix rules, default ranks.

The channel and role arguments of `config log` and `config jail` work in both forms of a hybrid
command: as prefix commands they take a mention, an id, a name or a word such as ``none`` (which
turns the setting off); as slash commands they show Discord's channel or role picker, and leaving
the option empty turns the setting off. Each converter is a :class:`commands.Converter` (prefix)
and an :class:`app_commands.Transformer` (slash) at once.
"""

from __future__ import annotations

import enum
import re
from typing import TYPE_CHECKING, Any

import discord
from discord import app_commands
from discord.ext import commands

from fish_bot.cogs.server_config.constants import NONE_WORDS, PREFIX_MAX_LENGTH
from fish_bot.core.text import plain
from fish_bot.database.models.core import LogKind
from fish_bot.exceptions import UserFacingError


class Clear(enum.Enum):
    """The value a prefix command gets for ``none``/``off``: turn the setting off."""

    CLEAR = "clear"


CLEAR = Clear.CLEAR

_KIND_LIST = ", ".join(f"`{kind.value}`" for kind in LogKind)


#: How much of a typed argument a refusal quotes.
SHOWN = 60


def is_none_word(argument: str) -> bool:
    return argument.strip().lower() in NONE_WORDS


# --- converters ------------------------------------------------------------------------------


class LogKindConverter(commands.Converter[LogKind], app_commands.Transformer):
    """A log kind: ``mod``, ``message``, ``member`` or ``server`` (a choice in slash commands)."""

    async def convert(self, ctx: commands.Context[Any], argument: str) -> LogKind:
        return parse_log_kind(argument)

    @property
    def type(self) -> discord.AppCommandOptionType:
        return discord.AppCommandOptionType.string

    @property
    def choices(self) -> list[app_commands.Choice[int | float | str]] | None:
        return [app_commands.Choice(name=kind.value, value=kind.value) for kind in LogKind]

    async def transform(self, interaction: discord.Interaction, value: Any, /) -> LogKind:
        return parse_log_kind(str(value))


def parse_log_kind(argument: str) -> LogKind:
    """A :class:`LogKind` from what a user typed, or a BadArgument naming the kinds."""
    text = argument.strip().lower().removesuffix("-log").removesuffix("log").strip(" -_")
    try:
        return LogKind(text)
    except ValueError:
        raise commands.BadArgument(
            f"Unknown log kind `{plain(argument, SHOWN)}`: use one of {_KIND_LIST}."
        ) from None


class _OrNone(commands.Converter[Any], app_commands.Transformer):
    """A channel or role of the server, or ``none`` to turn the setting off (prefix side): a
    mention, an id, a name, or a name typed after the mention's sign (``#general``, ``@Muted``)
    rather than picked. Subclasses name it and :meth:`find` it."""

    #: What it is and how a user mentions one, as the refusal says it ("text channel", "#channel").
    noun = ""
    mention = ""

    async def find(self, ctx: commands.Context[Any], text: str) -> Any:
        """The channel or role ``text`` names, or a BadArgument."""
        raise NotImplementedError

    async def convert(self, ctx: commands.Context[Any], argument: str) -> Any:
        if is_none_word(argument):
            return CLEAR
        text = argument.strip()
        if text.startswith(self.mention[:1]):  # "#general" typed as text rather than picked
            text = text[1:]
        try:
            return await self.find(ctx, text)
        except commands.BadArgument:
            raise commands.BadArgument(
                f"`{plain(argument, SHOWN)}` is not a {self.noun} of this server "
                f"(use {self.mention}, its id or its name, or `none` to turn this off)."
            ) from None


class TextChannelOrNone(_OrNone):
    """A text channel of the server, or ``none`` to turn the setting off."""

    noun = "text channel"
    mention = "#channel"

    async def find(self, ctx: commands.Context[Any], text: str) -> discord.TextChannel:
        return await commands.TextChannelConverter().convert(ctx, text)

    @property
    def type(self) -> discord.AppCommandOptionType:
        return discord.AppCommandOptionType.channel

    @property
    def channel_types(self) -> list[discord.ChannelType]:
        return [discord.ChannelType.text, discord.ChannelType.news]

    async def transform(self, interaction: discord.Interaction, value: Any, /) -> Any:
        guild = interaction.guild
        channel = guild.get_channel(int(value.id)) if guild is not None else None
        if not isinstance(channel, discord.TextChannel):
            raise app_commands.TransformerError(value, self.type, self)
        return channel


class RoleOrNone(_OrNone):
    """A role of the server (``everyone`` too), or ``none`` to turn the setting off."""

    noun = "role"
    mention = "@role"

    async def find(self, ctx: commands.Context[Any], text: str) -> discord.Role:
        if text.lower() == "everyone" and ctx.guild is not None:
            return ctx.guild.default_role
        return await commands.RoleConverter().convert(ctx, text)

    @property
    def type(self) -> discord.AppCommandOptionType:
        return discord.AppCommandOptionType.role

    async def transform(self, interaction: discord.Interaction, value: Any, /) -> Any:
        return value


if TYPE_CHECKING:
    LogKindArg = LogKind
    ChannelArg = discord.TextChannel | Clear | None
    RoleArg = discord.Role | Clear | None
else:
    LogKindArg = LogKindConverter
    ChannelArg = TextChannelOrNone
    RoleArg = RoleOrNone


# --- prefix ----------------------------------------------------------------------------------


def validate_prefix(text: str) -> str:
    """A command prefix (1 to 16 characters, no spaces or backticks), or a UserFacingError."""
    prefix = text.strip()
    if not prefix:
        raise UserFacingError("A prefix needs at least one character, e.g. `?` or `fish!`.")
    if re.search(r"\s", prefix):
        raise UserFacingError(
            "A prefix cannot contain spaces: use 1 to "
            f"{PREFIX_MAX_LENGTH} characters such as `?` or `fish!`."
        )
    if "`" in prefix:
        raise UserFacingError("A prefix cannot contain backticks (`).")
    if len(prefix) > PREFIX_MAX_LENGTH:
        raise UserFacingError(
            f"That prefix is {len(prefix)} characters long; a prefix is at most "
            f"{PREFIX_MAX_LENGTH} characters."
        )
    return prefix
