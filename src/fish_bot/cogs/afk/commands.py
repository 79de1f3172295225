"""Commands of the AFK cog: `afk` (with `afk list` and `afk clear`) and `permafk`."""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING, Any

import discord
from discord import app_commands
from discord.ext import commands

from fish_bot.cogs.afk.constants import EMBED_COLOUR, LIST_LIMIT, MODERATOR_RANK
from fish_bot.cogs.afk.flow import AfkFlowMixin, Nickname
from fish_bot.cogs.afk.utils import (
    AfkError,
    check_reason,
    list_line,
    read_duration,
    reason_text,
    split_duration,
)
from fish_bot.core.decorators import examples, hybrid_command, hybrid_group
from fish_bot.core.permissions import requires_rank
from fish_bot.core.text import DESCRIPTION_LIMIT

if TYPE_CHECKING:
    from fish_bot.cogs.afk.flow import Started

Ctx = commands.Context[Any]

DURATION_HELP = "How long you are away, e.g. 30m, 2h, 1d (leave it out: until you next write)"
REASON_HELP = "Why you are away, shown to whoever mentions you (at most 100 characters)"


def _member(ctx: Ctx) -> discord.Member:
    if ctx.guild is None or not isinstance(ctx.author, discord.Member):
        raise AfkError("This command only works in a server.")
    return ctx.author


def _started_text(started: Started, what: str) -> str:
    """The answer to `afk` and `permafk`: what the AFK is now, and what became of the name."""
    row = started.row
    if started.created:
        text = f"💤 {what}: {reason_text(row.reason)}."
    else:
        text = f"💤 Updated your AFK: {reason_text(row.reason)}."
    if row.until is not None:
        text += f" It ends {discord.utils.format_dt(row.until, 'R')}."
    elif row.permanent:
        text += " Your messages do not end it; `permafk` again does."
    else:
        text += " Your next message ends it."
    if started.nickname is Nickname.CANNOT:
        text += " I left your nickname alone: I am not allowed to change it."
    return text


class CommandsMixin(AfkFlowMixin):
    """afk, afk list, afk clear, permafk."""

    @hybrid_group(name="afk", fallback="set", invoke_without_command=True)
    @commands.guild_only()
    @app_commands.describe(duration=DURATION_HELP, reason=REASON_HELP)
    @examples("afk", "afk lunch", "afk 2h at the dentist")
    async def afk_group(
        self, ctx: Ctx, duration: str | None = None, *, reason: str | None = None
    ) -> None:
        """Say you are away: whoever mentions you is told why and since when.

        Usage: `afk [duration] [reason]`, e.g. `afk 2h lunch` or `afk walking the dog`.
        Your next message ends it (after 10 seconds), or the duration does. Already AFK:
        this changes the reason (and the duration, when you give one). As a slash command
        it is `/afk set`.
        """
        member = _member(ctx)
        length: timedelta | None
        if ctx.interaction is None:
            # A prefix command is one text: the duration is the words that start it.
            text = " ".join(part for part in (duration, reason) if part)
            length, reason = split_duration(text)
        else:
            length = read_duration(duration) if duration else None
        started = await self.start_afk(member, check_reason(reason), duration=length)
        await self.reply(ctx, _started_text(started, f"{member.mention} is AFK"))

    @hybrid_command(name="permafk")
    @commands.guild_only()
    @app_commands.describe(reason=REASON_HELP)
    @examples("permafk on holiday", "permafk")
    async def permafk_command(self, ctx: Ctx, *, reason: str | None = None) -> None:
        """Turn a permanent AFK on or off: your messages do not end it.

        Usage: `permafk [reason]`. Run it again to end it (the reason is then not needed).
        """
        member = _member(ctx)
        existing = await self.db.afk.get_afk_member(member.id, guild_id=member.guild.id)
        if existing is not None and existing.permanent:
            await self.end_afk(member.guild.id, member.id, member=member)
            await self.reply(ctx, f"👋 Welcome back, {member.mention}: your permanent AFK is off.")
            return
        started = await self.start_afk(member, check_reason(reason), permanent=True)
        await self.reply(ctx, _started_text(started, f"{member.mention} is permanently AFK"))

    @afk_group.command(name="list")
    @commands.guild_only()
    @requires_rank(MODERATOR_RANK)
    @examples("afk list")
    async def afk_list(self, ctx: Ctx) -> None:
        """Show who is AFK in this server, longest away first (moderators)."""
        guild = _member(ctx).guild
        rows = await self.db.afk.get_all_afk_members(guild.id)
        if not rows:
            await self.reply(ctx, "Nobody is AFK here.")
            return
        lines: list[str] = []
        size = 0
        for row in rows[:LIST_LIMIT]:
            line = list_line(row)
            if size + len(line) + 1 > DESCRIPTION_LIMIT - 40:  # room for the "more" line
                break
            lines.append(line)
            size += len(line) + 1
        if len(lines) < len(rows):
            lines.append(f"… and {len(rows) - len(lines)} more.")
        description = "\n".join(lines)
        embed = discord.Embed(
            title=f"AFK members ({len(rows)})", description=description, color=EMBED_COLOUR
        )
        await self.reply(ctx, embed=embed)

    @afk_group.command(name="clear")
    @commands.guild_only()
    @requires_rank(MODERATOR_RANK)
    @app_commands.describe(member="The member whose AFK ends")
    @examples("afk clear @bob")
    async def afk_clear(self, ctx: Ctx, member: discord.Member) -> None:
        """End a member's AFK, normal or permanent, and give back their nickname (moderators).

        Usage: `afk clear <member>`.
        """
        guild = _member(ctx).guild
        row = await self.end_afk(guild.id, member.id, member=member)
        if row is None:
            raise AfkError(f"{member.mention} is not AFK.")
        await self.reply(ctx, f"✅ Ended the AFK of {member.mention}.")
