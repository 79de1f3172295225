"""Core commands: ping, status, cog management, settings and sync.

Replies go through ``BaseCog.reply`` (clipped, no pings); refusals raise ``UserFacingError``,
which the error policy shows. Owner-only commands use
``commands.is_owner()``; the settings commands and ``cog pause``/``cog resume`` need permission
rank 8, and the server owner and Administrators may always run them (``admin_override``).
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

import discord
from discord import app_commands
from discord.ext import commands

from fish_bot.cogs.admin.cog_commands import CogCommandsMixin
from fish_bot.cogs.admin.settings_commands import SettingsCommandsMixin
from fish_bot.cogs.admin.utils import (
    NAME_SHOWN,
    STATE_ICONS,
    find_cog,
    join_lines,
    no_module,
)
from fish_bot.core.converters import parse_snowflake
from fish_bot.core.decorators import examples, hybrid_command
from fish_bot.core.durations import format_duration
from fish_bot.core.text import clip, plain
from fish_bot.exceptions import UserFacingError

if TYPE_CHECKING:
    from fish_bot.core.base_cog import BaseCog

    _MixinBase = BaseCog
else:
    _MixinBase = object


class StatusCommandsMixin(_MixinBase):
    """ping, status."""

    # --- ping and status ---------------------------------------------------------------------

    @hybrid_command(name="ping")
    @examples("ping")
    async def ping(self, ctx: commands.Context[Any]) -> None:
        """Check that the bot answers."""
        await ctx.send("Pong!")

    @hybrid_command(name="status")
    @app_commands.describe(cog="A module to show in detail (leave empty for the whole bot)")
    @examples("status", "status moderation")
    async def status_command(self, ctx: commands.Context[Any], cog: str | None = None) -> None:
        """Show the bot's health, or the detailed status of one module.

        Without a name: uptime, gateway latency, servers, database health, every module's
        state and the modules that failed to load. With a name: that module's status.
        """
        if cog:
            target = find_cog(self.bot, cog)
            if target is None:
                raise no_module(cog)
            async with self.task_tracker.task_context("Status"):
                embed = await target.create_status_embed()
            await self.reply(ctx, embed=embed)
            return
        async with self.task_tracker.task_context("Status"):
            embed = await self._bot_status_embed(ctx)
        await self.reply(ctx, embed=embed)

    async def _bot_status_embed(self, ctx: commands.Context[Any]) -> discord.Embed:
        bot = self.bot
        name = bot.user.name if bot.user else "Fish Bot"
        embed = discord.Embed(title=f"{name} status", color=discord.Color.blue())
        uptime = (discord.utils.utcnow() - bot.started_at).total_seconds()
        embed.add_field(name="Uptime", value=format_duration(max(0, int(uptime))), inline=True)
        latency = bot.latency
        embed.add_field(
            name="Gateway latency",
            value=f"{latency * 1000:.0f} ms" if math.isfinite(latency) else "unknown",
            inline=True,
        )
        embed.add_field(name="Servers", value=str(len(bot.guilds)), inline=True)
        try:
            health = await bot.db.health()
        except Exception as error:  # the status command must answer even then
            health = {"ok": False, "error": f"{type(error).__name__}"}
        if health.get("ok"):
            database = f"✅ {health.get('dialect', '?')}, {health.get('latency_ms', '?')} ms"
        else:
            database = f"❌ {clip(str(health.get('error', 'unreachable')), 200)}"
        embed.add_field(name="Database", value=database, inline=True)
        embed.add_field(name="Job scheduler", value=bot.scheduler.status_text(), inline=True)
        guild_id = ctx.guild.id if ctx.guild else None
        lines = []
        for cog in sorted(bot.fish_cogs(), key=lambda c: c.qualified_name.lower()):
            state = cog.state_text()
            line = f"{STATE_ICONS.get(state, '•')} **{cog.qualified_name}**: {state}"
            if state != "Paused" and guild_id and cog.is_paused_in(guild_id):
                line += " (paused here)"
            failures = cog.task_tracker.total_failures
            if failures:
                line += f", {failures} failed operations"
            lines.append(line)
        embed.add_field(name=f"Modules ({len(lines)})", value=join_lines(lines), inline=False)
        if bot.cog_load_errors:
            owner = await bot.is_owner(ctx.author)
            failed = [
                f"❌ `{plain(package, NAME_SHOWN)}`" + (f": {clip(reason, 300)}" if owner else "")
                for package, reason in sorted(bot.cog_load_errors.items())
            ]
            embed.add_field(name="Failed to load", value=join_lines(failed), inline=False)
        return embed


# discord.py lists a cog's commands from the most basic class up, so the bases are listed last
# first: ping and status, cog, settings, then sync, as before the split.
class CommandsMixin(SettingsCommandsMixin, CogCommandsMixin, StatusCommandsMixin):
    """ping, status, cog, settings, sync."""

    # --- sync ----------------------------------------------------------------------------

    @hybrid_command(name="sync")
    @commands.is_owner()
    @app_commands.describe(guild="A server id, or 'here', to sync that server's commands only")
    @examples("sync", "sync here")
    async def sync_command(self, ctx: commands.Context[Any], guild: str | None = None) -> None:
        """Sync slash commands with Discord now (globally, or one server's commands)."""
        target: discord.Guild | None = None
        if guild:
            if guild.strip().lower() in {"here", "this", "guild"}:
                target = ctx.guild
            elif (guild_id := parse_snowflake(guild)) is not None:
                target = self.bot.get_guild(guild_id)
            if target is None:
                raise UserFacingError(f"I am not in a server `{plain(guild, 30)}`.")
        if ctx.interaction is not None:
            await ctx.defer(ephemeral=True)
        async with self.task_tracker.task_context("Sync"):
            count = await self.bot.sync_app_commands(force=True, guild=target)
        where = "globally" if target is None else f"to {target.name}"
        await self.reply(ctx, f"✅ Synced {count or 0} application commands {where}.")
