"""The snippets cog: saved answers a server reuses (``!s rules``), with aliases, locks, a
paginated list, import and export. ``docs/snippets.md`` describes every command and setting."""

from __future__ import annotations

from typing import TYPE_CHECKING

from fish_bot.cogs.snippets.cog import Snippets

if TYPE_CHECKING:
    from fish_bot.bot import FishBot


async def setup(bot: FishBot) -> None:
    await bot.add_cog(Snippets(bot))
