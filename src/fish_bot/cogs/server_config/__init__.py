"""The guild configuration cog: the `config` commands (prefix, logs, jail, reasons, ranks)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from fish_bot.cogs.server_config.cog import ServerConfig

if TYPE_CHECKING:
    from fish_bot.bot import FishBot


async def setup(bot: FishBot) -> None:
    """Called by ``bot.load_extension``: build the cog and add it."""
    await bot.add_cog(ServerConfig(bot))
