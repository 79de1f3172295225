"""Event listeners of the AFK cog: the member's return, mentions of AFK members, leaving.

``on_message`` runs for every message, so it reads only memory until someone AFK is
concerned: the AFK members of the guild are in :class:`~fish_bot.cogs.afk.utils.AfkCache`
(no query), and a message that mentions several AFK members reads their reasons in one query.
"""

from __future__ import annotations

import contextlib
from typing import TYPE_CHECKING

import discord
from discord.ext import commands

from fish_bot.cogs.afk.constants import WELCOME_SECONDS
from fish_bot.cogs.afk.flow import AfkFlowMixin
from fish_bot.cogs.afk.utils import notice_line
from fish_bot.core.decorators import cog_listener
from fish_bot.core.durations import format_duration
from fish_bot.core.text import CONTENT_LIMIT, clip
from fish_bot.exceptions import DatabaseUnavailable

if TYPE_CHECKING:
    from fish_bot.cogs.afk.utils import AfkMark


def concerned(message: discord.Message) -> set[int]:
    """Who a message is about: the members it mentions and the author of the message it
    answers (the author themself left out)."""
    ids = {user.id for user in message.mentions}
    reference = message.reference
    resolved = reference.resolved if reference is not None else None
    if isinstance(resolved, discord.Message):
        ids.add(resolved.author.id)
    ids.discard(message.author.id)
    return ids


class ListenersMixin(AfkFlowMixin):
    """The member's next message ends their AFK; a mention of an AFK member is answered."""

    def _may_concern_afk(self, message: discord.Message) -> bool:
        """False when nobody in the message's server is AFK (known from memory)."""
        if message.guild is None:
            return False
        marks = self.afk_members.peek(message.guild.id)
        return marks is None or bool(marks)

    @cog_listener("on_message", when=_may_concern_afk)
    async def afk_on_message(self, message: discord.Message) -> None:
        """End the author's AFK and tell the channel about mentioned AFK members."""
        guild = message.guild
        if guild is None or message.author.bot or message.webhook_id is not None:
            return
        marks = self.afk_members.peek(guild.id)
        if marks is None:  # the start-up load failed, or the guild was invalidated
            try:
                marks = await self.afk_members.marks(guild.id)
            except DatabaseUnavailable:
                return
        if not marks:
            return
        own = marks.get(message.author.id)
        mentioned = [member_id for member_id in sorted(concerned(message)) if member_id in marks]
        if own is None and not mentioned:
            return
        if await self._is_afk_command(message):
            return  # `afk ...` itself, `afk clear @someone`: the command answers
        if own is not None and isinstance(message.author, discord.Member):
            await self._welcome_back(message, message.author, own)
        if mentioned:
            await self._tell_about(message, guild, mentioned)

    async def _is_afk_command(self, message: discord.Message) -> bool:
        """Whether the message runs one of this cog's commands (read only when it matters)."""
        bot = self.bot
        if not isinstance(bot, commands.bot.BotBase):
            return False
        ctx = await bot.get_context(message)
        return ctx.command is not None and ctx.command.cog is self

    async def _welcome_back(
        self, message: discord.Message, member: discord.Member, mark: AfkMark
    ) -> None:
        now = discord.utils.utcnow()
        if mark.permanent or now < mark.grace_until:
            return
        row = await self.end_afk(member.guild.id, member.id, member=member)
        if row is None:
            return  # ended meanwhile (the expiry, a moderator)
        away = format_duration(max(0, int((now - row.since).total_seconds())))
        with contextlib.suppress(discord.HTTPException):
            await message.channel.send(
                f"👋 Welcome back, {member.mention}! You were away for {away}; your AFK is over.",
                delete_after=WELCOME_SECONDS,
            )

    async def _tell_about(
        self, message: discord.Message, guild: discord.Guild, mentioned: list[int]
    ) -> None:
        now = discord.utils.utcnow()
        fresh = self.notices.take(message.channel.id, mentioned, now)
        if not fresh:
            return
        rows = await self.db.afk.get_afk_members(guild.id, fresh)  # one query for all of them
        for member_id in fresh:
            if member_id not in rows:  # ended since the cache said so
                self.afk_members.invalidate(guild.id)
        lines = [notice_line(rows[member_id]) for member_id in fresh if member_id in rows]
        if not lines:
            return
        seconds = float(self.get_setting("notice_delete_after", 30, guild.id))
        with contextlib.suppress(discord.HTTPException):
            await message.channel.send(clip("\n".join(lines), CONTENT_LIMIT), delete_after=seconds)

    @cog_listener("on_member_remove")
    async def afk_on_member_remove(self, member: discord.Member) -> None:
        """A member who leaves is no longer AFK there."""
        marks = self.afk_members.peek(member.guild.id)
        if marks is not None and member.id in marks:
            await self.end_afk(member.guild.id, member.id)
