"""The answer to an unknown command: "No command `bann`; did you mean `!ban`?".

The error policy keeps an unknown command silent (rule ``unknown_command``); the bot first asks
its ``unknown_command_hooks``, and this one, registered last, is the one place that may suggest
commands (a snippet of that name, when the snippets shortcut is on, is posted instead). It answers
only when the prefix was clearly meant (a letter right after it: not ``!!!``, ``! hi`` or
``!1``), only with commands the member may run here, at most once per channel every
:data:`SUGGEST_COOLDOWN` seconds, never pinging, and not at all where the
``suggest_unknown_commands`` setting is off.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

import discord
from discord.ext import commands

from fish_bot.cogs.help.constants import (
    COMMAND_WORD_LIMIT,
    NAME_SHOWN,
    SUGGEST_COOLDOWN,
    SUGGEST_MEMORY,
    SUGGEST_SETTING,
)
from fish_bot.cogs.help.utils import Viewer, closest_runnable, top_level_names
from fish_bot.core.text import plain

if TYPE_CHECKING:
    from fish_bot.core.base_cog import BaseCog

    _MixinBase = BaseCog
else:
    _MixinBase = object


def meant_as_command(ctx: commands.Context[Any]) -> bool:
    """Whether the text after the prefix starts with a letter and is one short word."""
    prefix = ctx.prefix
    if ctx.interaction is not None or not prefix or not ctx.invoked_with:
        return False
    rest = ctx.message.content[len(prefix) :]
    return rest[:1].isalpha() and len(ctx.invoked_with) <= COMMAND_WORD_LIMIT


class ListenersMixin(_MixinBase):
    """Suggests the closest command to an unknown one."""

    if TYPE_CHECKING:

        async def viewer(self, ctx: commands.Context[Any]) -> Viewer: ...

    _suggested_at: dict[int, datetime]

    def _rate_limited(self, channel_id: int, now: datetime) -> bool:
        last = self._suggested_at.get(channel_id)
        return last is not None and (now - last).total_seconds() < SUGGEST_COOLDOWN

    def _remember(self, channel_id: int, now: datetime) -> None:
        if len(self._suggested_at) >= SUGGEST_MEMORY:
            self._suggested_at = {
                channel: at
                for channel, at in self._suggested_at.items()
                if (now - at).total_seconds() < SUGGEST_COOLDOWN
            }
        self._suggested_at[channel_id] = now

    async def suggest_command(self, ctx: commands.Context[Any]) -> bool:
        """Answer an unknown prefix command with the closest ones the member may run.

        One of the bot's ``unknown_command_hooks``, the last one (a snippet of that name, when
        the snippets shortcut is on, is posted instead); True when it answered.
        """
        if not self.is_ready or not meant_as_command(ctx):
            return False
        guild_id = ctx.guild.id if ctx.guild is not None else None
        if self.is_paused_in(guild_id) or not self.get_setting(SUGGEST_SETTING, True, guild_id):
            return False
        now = discord.utils.utcnow()
        if self._rate_limited(ctx.channel.id, now):
            return False
        viewer = await self.viewer(ctx)
        help_command = self.bot.get_command("help")
        if help_command is not None and not (await viewer.decision(help_command)).allowed:
            return False  # help is not for this channel or member: neither are its suggestions
        word = (ctx.invoked_with or "").lower()
        names = await closest_runnable(viewer, word, top_level_names(viewer.bot))
        if not names:
            return False
        self._remember(ctx.channel.id, now)
        choices = " or ".join(f"`{viewer.prefix}{name}`" for name in names)
        await self.reply(ctx, f"No command `{plain(word, NAME_SHOWN)}`; did you mean {choices}?")
        return True
