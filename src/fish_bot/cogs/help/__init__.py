"""The help cog: `help` (prefix and `/help`) and the answer to an unknown command. Loaded by
default; ``ctx.send_help(...)`` in any cog shows its pages."""

from __future__ import annotations

from typing import TYPE_CHECKING

from fish_bot.cogs.help.cog import Help, HelpRouter

if TYPE_CHECKING:
    from fish_bot.bot import FishBot


async def setup(bot: FishBot) -> None:
    """Called by ``bot.load_extension``: route ``send_help`` here, then add the cog."""
    bot.help_command = HelpRouter()
    await bot.add_cog(Help(bot))


async def teardown(bot: FishBot) -> None:
    bot.help_command = None
