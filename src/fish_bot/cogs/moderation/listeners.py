"""Event listeners of the moderation cog: jail kept on rejoin, poll bans enforced."""

from __future__ import annotations

import contextlib
from typing import TYPE_CHECKING

import discord

from fish_bot.cogs.moderation.constants import NOTICE_SECONDS
from fish_bot.cogs.moderation.flow import ModerationUtilsMixin
from fish_bot.core.decorators import cog_listener
from fish_bot.core.roles import check_assignable_role
from fish_bot.database.models.cases import CaseType
from fish_bot.exceptions import UserFacingError

if TYPE_CHECKING:
    from fish_bot.cogs.moderation.utils import RestrictionCache


class ModerationListenersMixin(ModerationUtilsMixin):
    """Listeners that keep restrictions in force between commands."""

    if TYPE_CHECKING:  # provided by the Moderation class
        pollbans: RestrictionCache

    @cog_listener("on_member_join")
    async def rejail_on_join(self, member: discord.Member) -> None:
        """A jailed member who left and came back gets the jail role again."""
        if member.bot:
            return
        guild = member.guild
        case = await self.db.case.get_active_restriction(guild.id, member.id, [CaseType.JAIL])
        if case is None:
            return
        role_id = await self.jail_role_id(guild.id)
        role = guild.get_role(role_id) if role_id else None
        if role is None:
            self.logger.warning(
                "Jailed member %s rejoined guild %s but the server has no jail role any more",
                member.id,
                guild.id,
            )
            return
        try:
            # The same rule as when the role is set up: no managed, powerful or too-high role.
            check_assignable_role(role, None, purpose="the jail role")
        except UserFacingError as refusal:
            self.logger.warning(
                "Jailed member %s rejoined guild %s; the jail role is not given again: %s",
                member.id,
                guild.id,
                refusal.message,
            )
            return
        try:
            await member.add_roles(role, reason=f"Rejoined while jailed (Case #{case.case_number})")
        except discord.HTTPException as error:
            self.logger.warning("Could not jail %s again in %s: %s", member.id, guild.id, error)
            return
        self.logger.info("Jailed %s again on rejoin (case %s)", member.id, case.case_number)

    @cog_listener("on_message", when=lambda _self, message: message.poll is not None)
    async def enforce_poll_ban(self, message: discord.Message) -> None:
        """Remove a poll posted by a poll-banned member and tell them why.

        Only messages with a poll are looked at; the poll-banned users of a guild are read
        once and kept in memory, so ordinary messages cost nothing.
        """
        if message.poll is None or message.guild is None or message.author.bot:
            return
        guild = message.guild
        if not await self.pollbans.contains(guild.id, message.author.id):
            return
        try:
            await message.delete()
        except discord.NotFound:
            pass
        except discord.HTTPException as error:
            self.logger.warning("Could not remove a poll of %s: %s", message.author.id, error)
            return
        where = getattr(message.channel, "mention", "this server")
        text = (
            f"📊 Your poll in {where} was removed: you are banned from posting polls in "
            f"**{discord.utils.escape_markdown(guild.name)}**."
        )
        try:
            await message.author.send(text)
        except discord.HTTPException:
            # Closed DMs: say it briefly in the channel instead.
            with contextlib.suppress(discord.HTTPException):
                await message.channel.send(
                    f"📊 {message.author.mention}, your poll was removed: you are banned from "
                    "posting polls here.",
                    allowed_mentions=discord.AllowedMentions(
                        users=[message.author], everyone=False, roles=False
                    ),
                    delete_after=NOTICE_SECONDS,
                )
