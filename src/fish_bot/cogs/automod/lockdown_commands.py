"""`lockdown` and `unlock`: deny Send Messages to @everyone in a channel or the whole server,
and restore the exact previous permissions (by command, or on time through the scheduler)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

import discord
from discord import app_commands
from discord.ext import commands

from fish_bot.cogs.automod.constants import DEFAULT_RANKS
from fish_bot.cogs.automod.utils import AutomodError
from fish_bot.core.decorators import examples, hybrid_command
from fish_bot.core.durations import DurationError, format_duration, parse_duration
from fish_bot.core.permission_subjects import bypasses_permissions
from fish_bot.core.permissions import requires_rank

if TYPE_CHECKING:
    from fish_bot.cogs.automod.lockdown import Lockdowns
    from fish_bot.core.base_cog import BaseCog

    _MixinBase = BaseCog
else:
    _MixinBase = object

Ctx = commands.Context[Any]
_SERVER_WORDS = frozenset({"server", "all", "guild"})

TARGET_HELP = "`server` for every text channel, or a channel (default: this one)"


class LockdownCommandsMixin(_MixinBase):
    """lockdown, unlock."""

    if TYPE_CHECKING:  # provided by the Automod class
        lockdowns: Lockdowns

        async def post_notice(self, guild: discord.Guild, title: str, text: str) -> None: ...

    async def _targets(
        self, ctx: Ctx, target: str | None
    ) -> tuple[list[discord.TextChannel], bool, bool]:
        """The channels, whether it is the whole server, and whether ``target`` was used."""
        guild = self.require_guild(ctx)
        if target is not None and target.strip().lower() in _SERVER_WORDS:
            return list(guild.text_channels), True, True
        if target is not None:
            try:
                channel = await commands.TextChannelConverter().convert(ctx, target.lstrip("#"))
            except commands.BadArgument:
                channel = None
            if channel is not None:
                return [channel], False, True
        here = ctx.channel
        if not isinstance(here, discord.TextChannel):
            raise AutomodError("⛔ Lock a text channel: name one, or use `server`.")
        return [here], False, False

    async def _check_permissions(self, ctx: Ctx) -> None:
        """The moderator needs Manage Channels (bot owners pass); the bot Manage Roles."""
        guild = self.require_guild(ctx)
        author = ctx.author
        if (
            isinstance(author, discord.Member)
            and not author.guild_permissions.manage_channels
            and not await bypasses_permissions(self.bot, author)
        ):
            raise AutomodError("⛔ You need the **Manage Channels** permission to do that.")
        if not guild.me.guild_permissions.manage_roles:
            raise AutomodError(
                "⛔ I need the **Manage Roles** permission to change channel permissions."
            )

    @hybrid_command(name="lockdown")
    @commands.guild_only()
    @requires_rank(DEFAULT_RANKS["lockdown"])
    @app_commands.describe(
        target=TARGET_HELP,
        duration="How long: 30m, 2h, 1d (empty: until `unlock`)",
        reason="Why (shown in the mod log and the audit log)",
    )
    @examples("lockdown", "lockdown server 30m raid", "lockdown #general 1h cooling off")
    async def lockdown_command(
        self,
        ctx: Ctx,
        target: str | None = None,
        duration: str | None = None,
        *,
        reason: str | None = None,
    ) -> None:
        """Stop @everyone from sending messages in a channel, or in every text channel.

        Usage: `lockdown [channel|server] [duration] [reason]`
        The exact previous permissions come back with `unlock`, or when the duration ends
        (also after a restart).
        """
        guild = self.require_guild(ctx)
        await self._check_permissions(ctx)
        channels, server, used = await self._targets(ctx, target)
        # `lockdown 2h spam`: without a channel, the first word may be the duration.
        seconds: int | None = None
        rest: list[str] = []
        for word in (None if used else target, duration):
            if not word:
                continue
            if seconds is None:
                try:
                    seconds = parse_duration(word)
                    continue
                except DurationError:
                    pass
            rest.append(word)
        text = " ".join([*rest, reason or ""]).strip() or None
        ends_at: datetime | None = None
        if seconds is not None:
            ends_at = discord.utils.utcnow() + timedelta(seconds=seconds)
        if ctx.interaction is not None:
            await ctx.defer()
        locked, failed = [], []
        for channel in channels:
            try:
                if await self.lockdowns.lock(channel, ctx.author.id, text, ends_at):
                    locked.append(channel)
            except discord.HTTPException:
                failed.append(channel)
        if not locked and not failed:
            raise AutomodError("⛔ That is locked already; `unlock` it first.")
        where = "the server" if server else ", ".join(c.mention for c in locked) or "nothing"
        how_long = f" for {format_duration(seconds)}" if seconds else " until `unlock`"
        answer = f"🔒 Locked {where}{how_long}"
        if server:
            answer += f" ({len(locked)} channel(s))"
        answer += "."
        if text:
            answer += f"\n**Reason:** {text}"
        if failed:
            answer += "\n⚠️ Discord refused for: " + ", ".join(c.mention for c in failed)
        await self.post_notice(
            guild,
            "🔒 Lockdown",
            f"{answer}\nBy <@{ctx.author.id}>.",
        )
        await self.reply(ctx, answer)

    @hybrid_command(name="unlock")
    @commands.guild_only()
    @requires_rank(DEFAULT_RANKS["lockdown"])
    @app_commands.describe(target=TARGET_HELP, reason="Why (shown in the audit log)")
    @examples("unlock", "unlock server")
    async def unlock_command(
        self, ctx: Ctx, target: str | None = None, *, reason: str | None = None
    ) -> None:
        """Lift a lockdown: the exact permissions from before it come back.

        Usage: `unlock [channel|server] [reason]`
        """
        guild = self.require_guild(ctx)
        await self._check_permissions(ctx)
        channels, server, used = await self._targets(ctx, target)
        if not used and target:
            reason = " ".join(w for w in (target, reason) if w)
        if server:
            ids = await self.lockdowns.locked_channels(guild)
        else:
            ids = [channel.id for channel in channels]
        unlocked = []
        for channel_id in ids:
            if await self.lockdowns.unlock(guild, channel_id, reason):
                unlocked.append(channel_id)
        if not unlocked:
            raise AutomodError("⛔ Nothing there is locked.")
        answer = "🔓 Unlocked " + ", ".join(f"<#{c}>" for c in unlocked) + "."
        await self.post_notice(guild, "🔓 Lockdown lifted", f"{answer}\nBy <@{ctx.author.id}>.")
        await self.reply(ctx, answer)
