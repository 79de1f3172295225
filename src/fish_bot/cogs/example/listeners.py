"""Event listeners of the example cog."""

from __future__ import annotations

from typing import TYPE_CHECKING

import discord

from fish_bot.core.decorators import cog_listener

if TYPE_CHECKING:
    from fish_bot.core.base_cog import BaseCog

    _MixinBase = BaseCog
else:
    _MixinBase = object


class ListenersMixin(_MixinBase):
    """Counts members' messages when the ``count_messages`` setting is on.

    A listener runs for every message, so it does no I/O: settings and cache data are in
    memory, and the periodic save task writes the counts later. ``cog_listener`` skips the
    event while the cog is not ready or is paused in the message's server.
    """

    if TYPE_CHECKING:  # provided by the Example class

        def add(self, section: str, guild_id: int, amount: int = 1) -> int: ...

    @cog_listener("on_message")
    async def count_member_message(self, message: discord.Message) -> None:
        """Count a member's message in its server."""
        if message.author.bot or message.guild is None:
            return
        guild_id = message.guild.id
        if not self.get_setting("count_messages", False, guild_id):
            return
        self.add("messages", guild_id)
