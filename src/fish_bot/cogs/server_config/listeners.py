"""Event listeners of the guild configuration cog: the welcome posted when the bot joins.

When the bot joins a server it posts one short embed: what it does, `help`, and how to set up
permission ranks and the mod log. It goes to the server's system channel when the bot may post
there, else to the first text channel (in the server's order) where it may; with no such
channel nothing is posted. It is posted once per server, ever: the server is recorded as
welcomed (an internal value of the cog's settings, kept when the bot leaves), so a kick and a
later re-invite, or a restart, do not post it again. The `welcome_message` setting turns it
off (set it globally, `--global`, to skip it on every new server). It never pings anyone.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import discord

from fish_bot.cogs.server_config.constants import EMBED_COLOUR, WELCOMED_KEY
from fish_bot.core.decorators import cog_listener
from fish_bot.core.text import fit_embed

if TYPE_CHECKING:
    from fish_bot.core.base_cog import BaseCog

    _MixinBase = BaseCog
else:
    _MixinBase = object


def welcome_channel(guild: discord.Guild) -> discord.TextChannel | None:
    """The system channel when the bot may post an embed there, else the first text channel
    (in the server's order) where it may; None when there is none."""
    me = guild.me
    if me is None:
        return None

    def writable(channel: discord.TextChannel) -> bool:
        permissions = channel.permissions_for(me)
        return permissions.view_channel and permissions.send_messages and permissions.embed_links

    system = guild.system_channel
    if system is not None and writable(system):
        return system
    return next((channel for channel in guild.text_channels if writable(channel)), None)


def welcome_embed(bot_name: str, prefix: str) -> discord.Embed:
    """The welcome: what the bot does, help, ranks and the mod log (``prefix``: the server's)."""
    embed = discord.Embed(
        title=f"👋 Thanks for adding {bot_name}",
        description=(
            "I help moderate this server: warnings, timeouts, kicks and bans recorded as "
            "numbered cases, timed bans lifted on time, and a mod log."
        ),
        colour=EMBED_COLOUR,
    )
    embed.add_field(
        name="Commands",
        value=f"`{prefix}help` (or `/help`) lists the commands you may use here.",
        inline=False,
    )
    embed.add_field(
        name="Who may moderate",
        value=(
            "Until you set up permission ranks, Discord permissions decide: Kick Members for "
            "`kick`, Ban Members for `ban`, Moderate Members (Timeout Members) for `timeout` "
            "and `warn`, Manage "
            f"Server for `config`. `{prefix}config ranks init` gives your roles ranks from "
            f"their permissions; `{prefix}perm explain <command>` says who may run what."
        ),
        inline=False,
    )
    embed.add_field(
        name="Mod log",
        value=f"`{prefix}config log mod #channel` posts every case to that channel.",
        inline=False,
    )
    embed.set_footer(text="This message is posted once, when I join a server.")
    return embed


class ConfigListenersMixin(_MixinBase):
    """on_guild_join: the welcome."""

    @cog_listener("on_guild_join")
    async def welcome_on_join(self, guild: discord.Guild) -> None:
        """Post the welcome once, unless the server (or the bot, globally) turned it off."""
        manager = self.bot.config_manager
        if manager.stored(self.slug, WELCOMED_KEY, guild.id)[0]:
            return
        if not self.get_setting("welcome_message", True, guild.id):
            return
        channel = welcome_channel(guild)
        if channel is None:
            self.logger.info("Joined %s (%s): no channel to post the welcome in", guild, guild.id)
            return
        # Recorded before it is sent: a second join event can't post it twice.
        manager.set_internal(self.slug, WELCOMED_KEY, True, guild.id)
        prefix = await self.bot.prefix_for(guild.id)
        name = self.bot.user.name if self.bot.user else "Fish Bot"
        async with self.task_tracker.task_context("Welcome"):
            try:
                await channel.send(embed=fit_embed(welcome_embed(name, prefix)))
            except discord.HTTPException as error:
                self.logger.warning("The welcome in %s could not be posted: %s", guild.id, error)
