"""The moderation cog's embeds (a case, an expiry) and its mod-log channel."""

from __future__ import annotations

from typing import TYPE_CHECKING

import discord

from fish_bot.cogs.moderation.constants import ACTIONS, EXPIRED_COLOUR, VOID_REASON_KEY, ActionSpec
from fish_bot.cogs.moderation.utils import UserLookup, timestamp, user_label
from fish_bot.core.text import field, fit_embed
from fish_bot.database.models.cases import Case, CaseStatus, CaseType

if TYPE_CHECKING:
    from fish_bot.core.base_cog import BaseCog
    from fish_bot.database.models.core import GuildConfig

    _MixinBase = BaseCog
else:
    _MixinBase = object


def spec_of(case: Case) -> ActionSpec:
    return ACTIONS[CaseType(case.case_type)]


def case_embed(
    case: Case,
    *,
    user: discord.abc.User | None = None,
    note: str | None = None,
    lookup: UserLookup | None = None,
) -> discord.Embed:
    """The embed of a case (posted to the mod log; reusable by the `cases` commands).

    The member and the moderator are shown by mention and name (``lookup``: the bot's cache).
    """
    spec = spec_of(case)
    embed = discord.Embed(
        title=f"{spec.emoji} Case #{case.case_number} · {spec.label}",
        colour=spec.colour,
        timestamp=case.created_at,
    )
    embed.add_field(name="User", value=user_label(user, case.user_id, lookup), inline=True)
    moderator = user_label(None, case.moderator_id, lookup)
    embed.add_field(name="Moderator", value=moderator, inline=True)
    if case.expires_at is not None:
        embed.add_field(
            name="Expires",
            value=f"{timestamp(case.expires_at)} ({timestamp(case.expires_at, 'R')})",
            inline=True,
        )
    if case.status != CaseStatus.ACTIVE.value:
        embed.add_field(name="Status", value=str(case.status).capitalize(), inline=True)
    embed.add_field(name="Reason", value=field(case.reason or "No reason given."), inline=False)
    void_reason = (case.extra or {}).get(VOID_REASON_KEY)
    if case.status == CaseStatus.VOIDED.value and void_reason:
        embed.add_field(name="Voided", value=field(str(void_reason)), inline=False)
    if note:
        embed.set_footer(text=note)
    return embed


def expiry_embed(case: Case, detail: str, lookup: UserLookup | None = None) -> discord.Embed:
    """The mod-log post when a timed case ends on time."""
    spec = spec_of(case)
    embed = discord.Embed(
        title=f"⌛ Case #{case.case_number} · {spec.label} expired",
        colour=EXPIRED_COLOUR,
        timestamp=discord.utils.utcnow(),
    )
    embed.add_field(name="User", value=user_label(None, case.user_id, lookup), inline=True)
    moderator = user_label(None, case.moderator_id, lookup)
    embed.add_field(name="Moderator", value=moderator, inline=True)
    embed.add_field(name="Result", value=detail, inline=False)
    return embed


class ModLogMixin(_MixinBase):
    """The guild's configuration (cached) and its mod-log channel."""

    async def guild_config(self, guild_id: int) -> GuildConfig | None:
        """The guild's configuration row (None: none stored), from ``bot.guild_configs``.

        A cache, forgotten on every write through the guild-config controller: an action reads
        its jail role, log channel and reason rule from memory once the guild is loaded.
        """
        return await self.bot.guild_configs.get(guild_id)

    async def post_mod_log(
        self, guild: discord.Guild, embed: discord.Embed
    ) -> discord.Message | None:
        """Post an embed to the guild's mod-log channel (None when none is set or it failed)."""
        try:
            config = await self.guild_config(guild.id)
        except Exception:
            self.logger.exception("Could not read the mod-log channel of guild %s", guild.id)
            return None
        channel_id = config.mod_log_channel_id if config is not None else None
        if not channel_id:
            return None
        channel = guild.get_channel_or_thread(channel_id)
        if not isinstance(channel, discord.abc.Messageable):
            self.logger.warning("Mod-log channel %s of guild %s is gone", channel_id, guild.id)
            return None
        try:
            return await channel.send(embed=fit_embed(embed))
        except discord.HTTPException as error:
            self.logger.warning("Could not post to the mod log of guild %s: %s", guild.id, error)
            return None

    async def log_case(
        self,
        guild: discord.Guild,
        case: Case,
        *,
        user: discord.abc.User | None = None,
        note: str | None = None,
    ) -> discord.Message | None:
        """Post a case to the mod log and remember the message on the case."""
        embed = case_embed(case, user=user, note=note, lookup=self.bot.get_user)
        message = await self.post_mod_log(guild, embed)
        if message is not None and case.id is not None:
            try:
                await self.db.case.set_mod_log_message(case.id, message.id)
                case.mod_log_message_id = message.id
            except Exception:
                self.logger.exception("Could not store the mod-log message of case %s", case.id)
        return message
