"""The core cog: status, cog management, settings, permissions and sync."""

from __future__ import annotations

from typing import TYPE_CHECKING

from discord.ext import commands

from fish_bot.cogs.admin.cog import Core
from fish_bot.cogs.admin.help import FishHelpCommand

if TYPE_CHECKING:
    from fish_bot.bot import FishBot


async def setup(bot: FishBot) -> None:
    bot.help_command = FishHelpCommand()
    await bot.add_cog(Core(bot))


async def teardown(bot: FishBot) -> None:
    bot.help_command = commands.DefaultHelpCommand()
