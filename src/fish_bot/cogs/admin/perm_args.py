"""The arguments of the `perm` commands: the shared option descriptions, the command and
role-or-channel converters and their slash autocompletion (`config ranks` uses these too)."""

from __future__ import annotations

import difflib
from typing import TYPE_CHECKING, Any

import discord
from discord import app_commands
from discord.ext import commands

from fish_bot.core.permissions import MAX_RANK
from fish_bot.core.text import clip, plain

#: The slash options' descriptions shared by the rule commands.
COMMAND_HELP = "A command name, e.g. ping or perm show"
TARGET_HELP = "A role or channel (pick one, or type its mention, id or name)"

_CHANNEL_TYPES = (
    discord.TextChannel,
    discord.VoiceChannel,
    discord.StageChannel,
    discord.ForumChannel,
)


def _command_names(bot: commands.bot.BotBase) -> list[str]:
    return sorted({command.qualified_name for command in bot.walk_commands()})


class CommandConverter(commands.Converter[commands.Command[Any, ..., Any]]):
    """A prefix or hybrid command of the bot, by qualified name (``"perm rank set"``)."""

    async def convert(
        self, ctx: commands.Context[Any], argument: str
    ) -> commands.Command[Any, ..., Any]:
        name = " ".join(argument.strip().lstrip("/").split()).lower()
        prefix = ctx.clean_prefix if ctx.interaction is None else ""
        if prefix and name.startswith(prefix.lower()):
            name = name[len(prefix) :].strip()
        command = ctx.bot.get_command(name) if name else None
        if command is not None:
            return command
        close = difflib.get_close_matches(name, _command_names(ctx.bot), n=5, cutoff=0.5)
        text = f"There is no command `{plain(name or argument)}`."
        if close:
            text += " Did you mean " + ", ".join(f"`{match}`" for match in close) + "?"
        raise commands.BadArgument(text)


class RoleOrChannelConverter(commands.Converter[discord.Role | discord.abc.GuildChannel]):
    """A role or a channel of the guild, by mention, id or name (roles are tried first)."""

    async def convert(
        self, ctx: commands.Context[Any], argument: str
    ) -> discord.Role | discord.abc.GuildChannel:
        text = argument.strip()
        if text.startswith("@") and not text.startswith("<@"):
            text = text[1:]
        if not text.startswith("<#"):
            try:
                return await commands.RoleConverter().convert(ctx, text)
            except commands.BadArgument:
                pass
        channel_text = text[1:] if text.startswith("#") else text
        try:
            channel = await commands.GuildChannelConverter().convert(ctx, channel_text)
        except commands.BadArgument:
            channel = None
        if isinstance(channel, _CHANNEL_TYPES):
            return channel
        raise commands.BadArgument(
            f"`{plain(argument)}` is not a role or channel of this server "
            "(use a mention, an id or the exact name)."
        )


if TYPE_CHECKING:
    CommandArg = commands.Command[Any, ..., Any]
    TargetArg = discord.Role | discord.abc.GuildChannel
else:
    CommandArg = CommandConverter
    TargetArg = RoleOrChannelConverter


async def command_autocomplete(
    interaction: discord.Interaction, current: str
) -> list[app_commands.Choice[str]]:
    """Offer the bot's command names that contain what was typed."""
    client = interaction.client
    if not isinstance(client, commands.bot.BotBase):
        return []
    typed = " ".join(current.lower().split())
    names = [name for name in _command_names(client) if typed in name]
    names.sort(key=lambda name: (not name.startswith(typed), name))
    return [app_commands.Choice(name=name, value=name) for name in names[:25]]


async def target_autocomplete(
    interaction: discord.Interaction, current: str
) -> list[app_commands.Choice[str]]:
    """Offer the guild's roles (``@name``) and channels (``#name``) matching what was typed."""
    guild = interaction.guild
    if guild is None:
        return []
    typed = current.lower().lstrip("@#")
    choices: list[app_commands.Choice[str]] = []
    for role in guild.roles:
        if typed in role.name.lower():
            choices.append(app_commands.Choice(name=clip(f"@{role.name}", 100), value=role.mention))
    for channel in guild.channels:
        if isinstance(channel, _CHANNEL_TYPES) and typed in channel.name.lower():
            choices.append(
                app_commands.Choice(name=clip(f"#{channel.name}", 100), value=channel.mention)
            )
    return choices[:25]


async def rank_autocomplete(
    interaction: discord.Interaction, current: str
) -> list[app_commands.Choice[str]]:
    """Offer ``default`` and the ranks 0..10."""
    typed = current.strip().lower()
    options = ["default", *(str(rank) for rank in range(MAX_RANK + 1))]
    return [app_commands.Choice(name=o, value=o) for o in options if o.startswith(typed)]
