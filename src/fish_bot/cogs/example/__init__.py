"""The example cog: a small, complete cog that uses every part of the Fish Bot framework.

Not loaded by default. Load it with ``FISHBOT_COG_PACKAGES=fish_bot.cogs.example`` or, as a
bot owner, ``cog load example``. ``docs/writing-a-cog.md`` walks through it file by file.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from fish_bot.cogs.example.cog import Example

if TYPE_CHECKING:
    from fish_bot.bot import FishBot


async def setup(bot: FishBot) -> None:
    """Called by ``bot.load_extension``: build the cog and add it (which runs cog_load)."""
    await bot.add_cog(Example(bot))
