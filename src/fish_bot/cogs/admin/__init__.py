"""The core cog: status, cog management, settings, permissions and sync."""

from __future__ import annotations

from typing import TYPE_CHECKING

from fish_bot.cogs.admin.cog import Core

if TYPE_CHECKING:
    from fish_bot.bot import FishBot


async def setup(bot: FishBot) -> None:
    await bot.add_cog(Core(bot))
