"""The channel tools: purge and slowmode."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import TYPE_CHECKING, Annotated, Any

import discord
from discord import app_commands
from discord.ext import commands

from fish_bot.cogs.moderation.command_args import Ctx
from fish_bot.cogs.moderation.constants import (
    DEFAULT_RANKS,
    INFO_COLOUR,
    NOTICE_SECONDS,
    PURGE_MAX,
    PURGE_SCAN_LIMIT,
    SLOWMODE_MAX_SECONDS,
)
from fish_bot.cogs.moderation.flow import ModerationUtilsMixin
from fish_bot.cogs.moderation.utils import (
    ModerationError,
    audit_reason,
)
from fish_bot.core.converters import Duration
from fish_bot.core.decorators import examples, hybrid_command
from fish_bot.core.durations import format_duration
from fish_bot.core.permissions import requires_rank

if TYPE_CHECKING:
    pass

# Slow mode values that switch it off.
_OFF_WORDS = frozenset({"off", "0", "none", "disable", "disabled"})


@contextlib.contextmanager
def _refused(what: str) -> Iterator[None]:
    """Discord refusing a channel tool's request becomes a ModerationError saying what it
    refused to do (``delete the messages``) and why."""
    try:
        yield
    except discord.HTTPException as error:
        raise ModerationError(
            f"❌ Discord refused to {what}: {error.text or error.status}."
        ) from None


class SlowmodeDelay(Duration):
    """A slow mode delay: a duration (``30s``, ``5 minutes``) in seconds, or ``off`` (0)."""

    example = "30s"

    async def convert(self, ctx: commands.Context[Any], argument: str) -> Any:
        if argument.strip().lower() in _OFF_WORDS:
            return 0
        return await super().convert(ctx, argument)


class ChannelCommandsMixin(ModerationUtilsMixin):
    """purge, slowmode."""

    # --- channel tools ----------------------------------------------------------------------

    @hybrid_command(name="purge")
    @commands.guild_only()
    @requires_rank(DEFAULT_RANKS["purge"])
    @app_commands.describe(
        amount=f"How many messages to delete (1-{PURGE_MAX})",
        member="Only delete this member's messages",
    )
    @examples("purge 20", "purge 50 @bob")
    async def purge_command(
        self,
        ctx: Ctx,
        amount: commands.Range[int, 1, PURGE_MAX],
        member: discord.User | None = None,
    ) -> None:
        """Delete the last messages of this channel, optionally only one member's.

        Usage: `purge <amount 1-500> [member]`
        """
        guild = self.require_guild(ctx)
        channel = ctx.channel
        if not isinstance(channel, discord.TextChannel | discord.Thread | discord.VoiceChannel):
            raise ModerationError("⛔ Messages can only be purged in text channels and threads.")
        await self.check_user_permission(ctx, "manage_messages", "purge messages")
        mine = channel.permissions_for(guild.me)
        if not (mine.manage_messages and mine.read_message_history):
            raise ModerationError(
                "⛔ I need the **Manage Messages** and **Read Message History** permissions in "
                "this channel to purge messages."
            )
        if ctx.interaction is not None:
            await ctx.defer(ephemeral=True)
        matched = 0

        def wanted(message: discord.Message) -> bool:
            nonlocal matched
            if member is not None and message.author.id != member.id:
                return False
            if matched >= amount:
                return False
            matched += 1
            return True

        before = ctx.message if ctx.interaction is None else None
        with _refused("delete the messages"):
            deleted = await channel.purge(
                limit=amount if member is None else PURGE_SCAN_LIMIT,
                check=wanted,
                before=before,
                reason=audit_reason(ctx.author, f"purge of {amount} messages"),
            )
        whose = f" from <@{member.id}>" if member is not None else ""
        text = f"🧹 Deleted {len(deleted)} message{'s' if len(deleted) != 1 else ''}{whose}."
        await self._log_channel_change(
            guild,
            "🧹 Messages purged",
            f"{len(deleted)} message(s){whose} in {channel.mention} by <@{ctx.author.id}>.",
        )
        if ctx.interaction is None:
            with contextlib.suppress(discord.HTTPException):
                await ctx.message.delete()
            notice = await self.reply(ctx, text)
            await notice.delete(delay=NOTICE_SECONDS)
        else:
            await self.reply(ctx, text, ephemeral=True)

    @hybrid_command(name="slowmode")
    @commands.guild_only()
    @requires_rank(DEFAULT_RANKS["slowmode"])
    @app_commands.describe(
        delay="Time between messages: 5s, 1m, 5 minutes, 2h (at most 6h); off to disable",
        channel="The channel (default: this one)",
    )
    @examples("slowmode", "slowmode 10s", "slowmode off #general")
    async def slowmode_command(
        self,
        ctx: Ctx,
        delay: Annotated[int | None, SlowmodeDelay] = None,
        channel: discord.TextChannel | discord.Thread | None = None,
    ) -> None:
        """Show or set a channel's slow mode.

        Usage: `slowmode [delay|off] [channel]` (no delay: show the current one)
        The delay is a duration with its unit: 30s, 5m, 5 minutes, 2h (a bare number is refused).
        """
        guild = self.require_guild(ctx)
        where = channel or ctx.channel
        if not isinstance(where, discord.TextChannel | discord.Thread):
            raise ModerationError("⛔ Slow mode exists only in text channels and threads.")
        current = where.slowmode_delay
        if delay is None:
            state = f"{format_duration(current)}" if current else "off"
            await self.reply(ctx, f"🐢 Slow mode in {where.mention} is {state}.")
            return
        seconds = delay
        if seconds > SLOWMODE_MAX_SECONDS:
            raise ModerationError("❌ Slow mode is at most 6h (e.g. `30s`, `5m`, `6h`).")
        await self.check_user_permission(ctx, "manage_channels", "change slow mode")
        if not where.permissions_for(guild.me).manage_channels:
            raise ModerationError(
                f"⛔ I need the **Manage Channels** permission in {where.mention} to change slow "
                "mode."
            )
        with _refused("change slow mode"):
            await where.edit(
                slowmode_delay=seconds,
                reason=audit_reason(ctx.author, f"slow mode {format_duration(seconds)}"),
            )
        state = format_duration(seconds) if seconds else "off"
        await self.reply(ctx, f"🐢 Slow mode in {where.mention} is now {state}.")
        await self._log_channel_change(
            guild,
            "🐢 Slow mode changed",
            f"{where.mention}: {state} (was {format_duration(current) if current else 'off'}) "
            f"by <@{ctx.author.id}>.",
        )

    async def _log_channel_change(self, guild: discord.Guild, title: str, text: str) -> None:
        """Tell the mod log about a channel tool's change (purge, slow mode): no case, an info
        embed."""
        embed = discord.Embed(
            title=title, colour=INFO_COLOUR, description=text, timestamp=discord.utils.utcnow()
        )
        await self.post_mod_log(guild, embed)
