"""Components of the example cog.

* The counter button is a *routed* component: its custom_id is ``example:press:<guild id>``
  and the cog's ``@component("press")`` handler answers it, before and after a restart. The
  handler declares the argument a ``GuildId``, so a button whose id names another server is
  refused before it runs.
* The refresh button of ``example show`` lives in a :class:`FishView`: it works while the view
  is alive (two minutes), with the cog's permission check and the bot's error policy.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import discord

from fish_bot.cogs.example.constants import PRESS_ACTION, SHOW_VIEW_TIMEOUT
from fish_bot.core.views import FishView, RoutedView, routed_button

if TYPE_CHECKING:
    from fish_bot.core.base_cog import BaseCog


def counter_text(presses: int) -> str:
    """The text of the counter message."""
    times = "time" if presses == 1 else "times"
    return f"🐟 This button was pressed {presses} {times}."


def counter_view(cog: BaseCog, guild_id: int) -> RoutedView:
    """The counter message's button (routed: it survives restarts)."""
    return RoutedView(
        routed_button(
            cog, PRESS_ACTION, guild_id, label="Press me", style=discord.ButtonStyle.primary
        )
    )


class ShowView(FishView):
    """The refresh button under `example show`: ``render`` builds the up-to-date embed."""

    def __init__(self, cog: BaseCog, render: Callable[[], discord.Embed]) -> None:
        super().__init__(cog, timeout=SHOW_VIEW_TIMEOUT)
        self.render = render

    @discord.ui.button(label="Refresh", style=discord.ButtonStyle.secondary)
    async def refresh(
        self, interaction: discord.Interaction, button: discord.ui.Button[Any]
    ) -> None:
        """Show the current numbers."""
        async with self.cog.task_tracker.task_context("Refresh"):
            await interaction.response.edit_message(embed=self.render(), view=self)
