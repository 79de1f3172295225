"""The reminders cog: `remind` and `reminders`, delivered on time by persisted jobs."""

from __future__ import annotations

from typing import TYPE_CHECKING

from fish_bot.cogs.reminders.cog import Reminders

if TYPE_CHECKING:
    from fish_bot.bot import FishBot


async def setup(bot: FishBot) -> None:
    """Called by ``bot.load_extension``: build the cog and add it (which runs cog_load)."""
    await bot.add_cog(Reminders(bot))
