"""The moderation cog: cases, actions (ban, kick, warn, timeout, jail...), timed expiries and
the mod log. Loaded by default."""

from __future__ import annotations

from typing import TYPE_CHECKING

from fish_bot.cogs.moderation.cog import Moderation

if TYPE_CHECKING:
    from fish_bot.bot import FishBot


async def setup(bot: FishBot) -> None:
    """Called by ``bot.load_extension``: build the cog and add it (which runs cog_load)."""
    await bot.add_cog(Moderation(bot))
