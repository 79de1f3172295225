"""The `help` command: discord.py's default help, with what it quotes clipped.

discord.py's help echoes the name it was asked about ("No command called ... found."), so
`help <4,000 characters>` made a reply Discord refuses. Here the echoed name is shown through
:func:`fish_bot.core.text.plain` and every error text is clipped to a message's limit.
"""

from __future__ import annotations

from typing import Any

import discord
from discord.ext import commands

from fish_bot.core.text import CONTENT_LIMIT, clip, plain

#: How much of the name asked about a "not found" answer quotes.
NAME_SHOWN = 100


class FishHelpCommand(commands.DefaultHelpCommand):
    """The default help command whose answers always fit in a message and never ping."""

    def command_not_found(self, string: str, /) -> str:
        return f"No command called `{plain(string, NAME_SHOWN)}` found."

    def subcommand_not_found(self, command: commands.Command[Any, ..., Any], string: str, /) -> str:
        if isinstance(command, commands.Group) and command.commands:
            return (
                f"Command `{command.qualified_name}` has no subcommand named "
                f"`{plain(string, NAME_SHOWN)}`."
            )
        return f"Command `{command.qualified_name}` has no subcommands."

    async def send_error_message(self, error: str, /) -> None:
        destination = self.get_destination()
        await destination.send(
            clip(error, CONTENT_LIMIT), allowed_mentions=discord.AllowedMentions.none()
        )
