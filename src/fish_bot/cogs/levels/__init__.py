"""The levels cog: XP for chatting that costs no query per message, rank cards, a leaderboard
and role rewards. ``docs/levels.md`` describes the commands, settings and the level curve."""

from __future__ import annotations

from typing import TYPE_CHECKING

from fish_bot.cogs.levels.cog import Levels

if TYPE_CHECKING:
    from fish_bot.bot import FishBot


async def setup(bot: FishBot) -> None:
    """Called by ``bot.load_extension``: build the cog and add it (which runs cog_load)."""
    await bot.add_cog(Levels(bot))
