"""FishModal: a modal bound to a cog, answering its errors with the bot's error policy.

discord.py's own :class:`discord.ui.Modal` only logs an exception raised in ``on_submit``: the
user who submitted it gets no answer. A :class:`FishModal` answers it as a command would be
answered (:func:`fish_bot.core.views.report_interaction_error`): a user-facing message, the
database-unavailable message, or an apology with an error id.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import discord

from fish_bot.core.views import report_interaction_error

if TYPE_CHECKING:
    from fish_bot.core.base_cog import BaseCog

__all__ = ["FishModal"]


class FishModal(discord.ui.Modal):
    """A modal of a cog; subclasses add text inputs and ``on_submit`` as usual."""

    def __init__(self, cog: BaseCog, *, title: str, timeout: float | None = None) -> None:
        super().__init__(title=title, timeout=timeout)
        self.cog = cog

    async def on_error(  # type: ignore[override]  # discord.py overrides BaseView the same way
        self, interaction: discord.Interaction, error: Exception, /
    ) -> None:
        """Answer with the bot's error policy."""
        await report_interaction_error(
            self.cog.bot, interaction, error, where=f"modal {type(self).__name__}"
        )
