"""Commands of the example cog: the `example` group and the counter button's handler."""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING, Annotated, Any

import discord
from discord import app_commands
from discord.ext import commands

from fish_bot.cogs.example.constants import (
    EMBED_COLOUR,
    MAX_REMINDER_TEXT,
    PRESS_ACTION,
    REMINDER_JOB,
)
from fish_bot.cogs.example.views import ShowView, counter_text, counter_view
from fish_bot.core.converters import Duration
from fish_bot.core.decorators import examples, hybrid_group
from fish_bot.core.durations import format_duration
from fish_bot.core.permissions import admin_override, dm_allowed, requires_rank
from fish_bot.core.views import GuildId, component
from fish_bot.exceptions import UserFacingError

if TYPE_CHECKING:
    from fish_bot.core.base_cog import BaseCog

    _MixinBase = BaseCog
else:
    _MixinBase = object


class ReminderDelay(Duration):
    """The delay of ``example remind``: the duration words before the reminder's text."""

    example = "2h water the plants"


class CommandsMixin(_MixinBase):
    """The `example` command group."""

    if TYPE_CHECKING:  # provided by the Example class

        def count(self, section: str, guild_id: int) -> int: ...
        def add(self, section: str, guild_id: int, amount: int = 1) -> int: ...
        @property
        def ticks(self) -> int: ...

    @hybrid_group(name="example", invoke_without_command=True)
    @examples("example")
    async def example_group(self, ctx: commands.Context[Any]) -> None:
        """Commands of the example module (a counter, a button, reminders)."""
        if ctx.invoked_subcommand is None:
            await ctx.send_help(ctx.command)

    @example_group.command(name="count")
    @commands.guild_only()
    @examples("example count")
    async def count_command(self, ctx: commands.Context[Any]) -> None:
        """Add `count_step` to this server's counter."""
        guild = self.require_guild(ctx)
        async with self.task_tracker.task_context("Count") as tracker:
            step = self.get_setting("count_step", 1, guild.id)
            total = self.add("counters", guild.id, step)
            tracker.update_status(f"Counter at {total}")
        await self.reply(ctx, f"🔢 The counter is at {total} (+{step}).")

    @example_group.command(name="show")
    @commands.guild_only()
    @examples("example show")
    async def show_command(self, ctx: commands.Context[Any]) -> None:
        """Show this server's numbers, with a refresh button."""
        guild_id = self.require_guild(ctx).id
        view = ShowView(self, lambda: self.show_embed(guild_id))
        await self.reply(ctx, embed=self.show_embed(guild_id), view=view)

    def show_embed(self, guild_id: int) -> discord.Embed:
        """The embed of `example show` (also used by its refresh button)."""
        embed = discord.Embed(
            title="Example",
            description=self.get_setting("greeting", "", guild_id),
            color=EMBED_COLOUR,
        )
        embed.add_field(name="Counter", value=str(self.count("counters", guild_id)))
        embed.add_field(name="Button presses", value=str(self.count("presses", guild_id)))
        embed.add_field(name="Messages counted", value=str(self.count("messages", guild_id)))
        embed.add_field(name="Heartbeats", value=str(self.ticks))
        tags = self.get_setting("tags", [], guild_id)
        if tags:
            embed.set_footer(text=" · ".join(tags))
        return embed

    @example_group.command(name="reset")
    @commands.guild_only()
    @admin_override()
    @requires_rank(5, "manage_guild")
    @examples("example reset")
    async def reset_command(self, ctx: commands.Context[Any]) -> None:
        """Set this server's counter back to zero (rank 5; server owner and admins always)."""
        guild = self.require_guild(ctx)
        previous = self.count("counters", guild.id)
        self.add("counters", guild.id, -previous)
        await self.reply(ctx, f"🔢 The counter was {previous}; it is 0 now.")

    @example_group.command(name="about")
    @dm_allowed()
    @examples("example about")
    async def about_command(self, ctx: commands.Context[Any]) -> None:
        """What this module is (works in direct messages too)."""
        await self.reply(
            ctx, "The example module shows how a Fish Bot cog is built: see docs/writing-a-cog.md."
        )

    # --- the routed button ---------------------------------------------------------------

    @example_group.command(name="button")
    @commands.guild_only()
    @examples("example button")
    async def button_command(self, ctx: commands.Context[Any]) -> None:
        """Post a counter button that anyone here can press (it keeps working after restarts)."""
        guild = self.require_guild(ctx)
        await self.reply(
            ctx, counter_text(self.count("presses", guild.id)), view=counter_view(self, guild.id)
        )

    @component(PRESS_ACTION)
    async def on_press(self, interaction: discord.Interaction, guild_id: GuildId) -> None:
        """A click on the counter button: count it and show the new total.

        ``guild_id`` was checked before this runs: it is the server the button is clicked in.
        """
        presses = self.add("presses", guild_id)
        await interaction.response.edit_message(
            content=counter_text(presses),
            view=counter_view(self, guild_id),
        )

    # --- a scheduled job -----------------------------------------------------------------

    @example_group.command(name="remind")
    @commands.guild_only()
    @app_commands.describe(
        delay="When: 10m, 2 hours, 1d12h ... (with a unit)", text="What to remind you of"
    )
    @examples("example remind 10m stretch your legs", "example remind 2 hours check the oven")
    async def remind_command(
        self,
        ctx: commands.Context[Any],
        delay: Annotated[int, ReminderDelay],
        *,
        text: str,
    ) -> None:
        """Remind you of something later (the reminder survives restarts).

        Usage: `example remind <delay> <text>`, e.g. `example remind 2 hours water the plants`
        """
        guild = self.require_guild(ctx)
        seconds = delay
        longest = self.get_setting("max_reminder_delay", 86400, guild.id)
        if not 1 <= seconds <= longest:
            raise UserFacingError(
                f"❌ The delay must be between 1s and {format_duration(longest)}."
            )
        channel_id = self.get_setting("reminder_channel", None, guild.id) or ctx.channel.id
        run_at = discord.utils.utcnow() + timedelta(seconds=seconds)
        async with self.task_tracker.task_context("Schedule reminder"):
            await self.bot.scheduler.schedule(
                REMINDER_JOB,
                run_at,
                {
                    "channel_id": channel_id,
                    "user_id": ctx.author.id,
                    "text": text[:MAX_REMINDER_TEXT],
                },
                guild_id=guild.id,
            )
        await self.reply(
            ctx, f"⏰ I will remind you {discord.utils.format_dt(run_at, 'R')} in <#{channel_id}>."
        )
