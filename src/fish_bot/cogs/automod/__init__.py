"""The automod cog: rules that act on messages by themselves, warning escalation, lockdowns
and raid protection. Loaded by default."""

from __future__ import annotations

from typing import TYPE_CHECKING

from fish_bot.cogs.automod.cog import Automod

if TYPE_CHECKING:
    from fish_bot.bot import FishBot


async def setup(bot: FishBot) -> None:
    """Called by ``bot.load_extension``: build the cog and add it (which runs cog_load)."""
    await bot.add_cog(Automod(bot))
