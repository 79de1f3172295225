"""The snippet shortcut: a message that is just ``<prefix><name>`` posts the snippet.

Off by default (the ``shortcut`` setting). It is not an ``on_message`` listener: discord.py
first looks for a command of that name, and only a message that names no command reaches
the bot's ``unknown_command_hooks``, asked before the error policy answers an unknown command
(a "did you mean" reply). So a command always wins over a snippet of the same name, and a
snippet wins over the unknown-command answer. Warm, it does no database I/O: the guild's
snippets, settings and permission rules are in memory.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from discord.ext import commands

from fish_bot.database.controllers.snippets import NAME_PATTERN

if TYPE_CHECKING:
    from fish_bot.cogs.snippets.utils import Entry, GuildSnippets
    from fish_bot.core.base_cog import BaseCog

    _MixinBase = BaseCog
else:
    _MixinBase = object


class ListenersMixin(_MixinBase):
    """The shortcut hook."""

    if TYPE_CHECKING:  # provided by the Snippets class

        async def snippets(self, guild_id: int) -> GuildSnippets: ...
        async def post(self, ctx: commands.Context[Any], entry: Entry) -> None: ...

        snippet_group: Any

    async def shortcut_hook(self, ctx: commands.Context[Any]) -> bool:
        """Post the snippet an unknown ``<prefix><name>`` names; False: not a snippet."""
        guild = ctx.guild
        if guild is None or not self.is_ready or self.is_paused_in(guild.id):
            return False
        if not self.get_setting("shortcut", False, guild.id):
            return False
        name = (ctx.invoked_with or "").lower()
        rest = ctx.message.content[len(ctx.prefix or "") :].strip()
        if not name or rest.lower() != name or not NAME_PATTERN.fullmatch(name):
            return False
        entry = (await self.snippets(guild.id)).get(name)
        if entry is None:
            return False
        # The shortcut is `snippet <name>`: the same permission rules apply.
        decision = await self.bot.permissions.evaluate(ctx, cog=self, command=self.snippet_group)
        if not decision.allowed:
            return False
        await self.post(ctx, entry)
        return True
