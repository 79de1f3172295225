"""The server-logs cog (`Logging`): what happens in a server, posted to its log channels."""

from __future__ import annotations

from typing import TYPE_CHECKING

from fish_bot.cogs.server_logs.cog import Logging

if TYPE_CHECKING:
    from fish_bot.bot import FishBot


async def setup(bot: FishBot) -> None:
    """Called by ``bot.load_extension``: build the cog and add it (which runs cog_load)."""
    await bot.add_cog(Logging(bot))
