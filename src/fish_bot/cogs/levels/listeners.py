"""Event listeners of the levels cog: XP for messages, rewards back on rejoin.

``award_xp`` runs for every message and does no I/O once the guild is in memory: settings are
in memory, the member's XP changes in the store and is written by the flush loop later. A
guild's first message after start-up (or after it went cold) loads the guild's rows once.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING, cast

import discord
from discord.ext import commands

from fish_bot.cogs.levels.utils import level_from_xp, multiplier, roll_xp
from fish_bot.core.decorators import cog_listener

if TYPE_CHECKING:
    from fish_bot.cogs.levels.state import GuildLevels, LevelsStore
    from fish_bot.core.base_cog import BaseCog

    _MixinBase = BaseCog
else:
    _MixinBase = object


class ListenersMixin(_MixinBase):
    """XP for messages and role rewards restored when a member rejoins."""

    if TYPE_CHECKING:  # provided by the Levels class
        store: LevelsStore

        async def announce_level_up(
            self, member: discord.Member, level: int, channel: discord.abc.Messageable | None
        ) -> None: ...
        async def sync_rewards(
            self, member: discord.Member, state: GuildLevels, level: int
        ) -> None: ...

    def _earns_xp(self, message: discord.Message, member: discord.Member) -> bool:
        """The exclusions that need no state: excluded channels and roles."""
        guild_id = member.guild.id
        excluded_channels = self.get_setting("excluded_channels", [], guild_id)
        if excluded_channels:
            channel = message.channel
            here = {channel.id, getattr(channel, "parent_id", None)}
            if here & set(excluded_channels):
                return False
        excluded_roles = self.get_setting("excluded_roles", [], guild_id)
        return not (excluded_roles and {role.id for role in member.roles} & set(excluded_roles))

    def _cooling_down(self, state: GuildLevels, member_id: int, now: datetime) -> bool:
        """Whether the member earned XP less than the ``cooldown`` setting ago."""
        entry = state.members.get(member_id)
        if entry is None or entry.last_message_at is None:
            return False
        cooldown = self.get_setting("cooldown", 60, state.guild_id)
        return now - entry.last_message_at < timedelta(seconds=cooldown)

    async def _is_command(self, message: discord.Message) -> bool:
        """Whether the message may invoke a command (parsed only when it starts like one)."""
        guild_id = message.guild.id if message.guild is not None else 0
        prefixes = self.bot.prefixes
        if not prefixes.is_loaded(guild_id):
            # The command handler is reading the prefix right now: reading it here too would
            # wait behind it (and retry again during an outage). Judge by the default prefix.
            return message.content.startswith((self.bot.settings.prefix, "<@"))
        prefix = prefixes.peek(guild_id) or self.bot.settings.prefix
        content = message.content
        for start in (prefix, *self.bot.mention_prefixes()):
            if content.startswith(start):
                # What get_context would find: the first word after the prefix, a command?
                words = content[len(start) :].split(maxsplit=1)
                bot = cast("commands.Bot", self.bot)
                return bool(words) and bot.get_command(words[0]) is not None
        return False

    @cog_listener("on_message")
    async def award_xp(self, message: discord.Message) -> None:
        """Give XP for a member's message (at most once per cooldown); announce a level-up."""
        member = message.author
        if message.guild is None or member.bot or not isinstance(member, discord.Member):
            return
        guild_id = message.guild.id
        now = discord.utils.utcnow()
        state = self.store.peek(guild_id)
        if state is not None and self._cooling_down(state, member.id, now):
            return  # most messages of a busy chat: nothing else to look at
        if not self._earns_xp(message, member):
            return
        if await self._is_command(message):
            return  # commands earn nothing
        if state is None:
            try:
                state = await self.store.guild(guild_id)
            except Exception as error:
                self.logger.warning("XP of server %s not loaded: %s", guild_id, error)
                return
            if self._cooling_down(state, member.id, now):
                return
        entry = state.member(member.id)
        if entry.blacklisted:
            return
        factor = multiplier(
            (role.id for role in member.roles), self.get_setting("role_multipliers", {}, guild_id)
        )
        gained = roll_xp(
            self.get_setting("xp_min", 15, guild_id),
            self.get_setting("xp_max", 25, guild_id),
            factor,
        )
        before = entry.level
        entry.xp += gained
        entry.level = level_from_xp(entry.xp)
        entry.last_message_at = now
        state.mark(member.id)
        if entry.level > before:
            self.logger.debug("%s reached level %d in %s", member.id, entry.level, guild_id)
            await self.announce_level_up(member, entry.level, message.channel)
            await self.sync_rewards(member, state, entry.level)

    @cog_listener("on_member_join")
    async def restore_rewards(self, member: discord.Member) -> None:
        """A member who comes back gets the reward roles of the level it had."""
        if member.bot:
            return
        try:
            state = await self.store.guild(member.guild.id)
        except Exception as error:
            self.logger.warning("Rewards of %s not restored: %s", member.id, error)
            return
        entry = state.members.get(member.id)
        if entry is not None and entry.level > 0:
            await self.sync_rewards(member, state, entry.level)
