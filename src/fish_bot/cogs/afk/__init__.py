"""The AFK cog: members say they are away; who mentions them is told, once per channel.

``afk [duration] [reason]``, ``permafk [reason]``, ``afk list`` and ``afk clear <member>``
(moderators). Loaded by default. docs/afk.md describes it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from fish_bot.cogs.afk.cog import Afk

if TYPE_CHECKING:
    from fish_bot.bot import FishBot


async def setup(bot: FishBot) -> None:
    """Called by ``bot.load_extension``: build the cog and add it (which runs cog_load)."""
    await bot.add_cog(Afk(bot))
