"""The advertise cog: members post ads in a forum channel, on a cooldown, removed when it ends.

The guide's ``UnifiedAdvertise``; its state is in the database (the ``advert`` table), its expiry
a persisted scheduler job. ``docs/advertise.md`` describes it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from fish_bot.cogs.advertise.cog import UnifiedAdvertise

if TYPE_CHECKING:
    from fish_bot.bot import FishBot


async def setup(bot: FishBot) -> None:
    """Called by ``bot.load_extension``: build the cog and add it (which runs cog_load)."""
    await bot.add_cog(UnifiedAdvertise(bot))
