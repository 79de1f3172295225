"""The guide's "Command Groups Organization", and commands that use the BaseCog helpers."""

from __future__ import annotations

from typing import Any

import discord
from discord.ext import commands

from fish_bot.core.decorators import hybrid_command
from fish_bot.core.views import RoutedView, component, routed_button
from fish_bot.exceptions import RecoverableError

from .views import FeatureView


class CommandsMixin:
    @commands.group(name="feature")
    async def feature_group(self, ctx):
        """Main command group for feature."""
        if ctx.invoked_subcommand is None:
            await ctx.send_help(ctx.command)

    @feature_group.command(name="list")
    async def list_items(self, ctx):
        """List all items."""
        await ctx.send("No items yet.")

    @feature_group.command(name="panel")
    async def panel(self, ctx):
        """Show the status with the guide's FeatureView."""
        await ctx.send(embed=await self.create_status_embed(), view=FeatureView(self))

    @feature_group.command(name="buttons")
    async def buttons(self, ctx):
        """Buttons for the cog's own listener and one framework (routed) button."""
        view = RoutedView(
            discord.ui.Button(label="Action 1", custom_id="feature:action1"),
            discord.ui.Button(label="Action 2", custom_id="feature:action2"),
            discord.ui.Button(label="Other", custom_id="feature:other"),
            routed_button(self, "press", label="Press"),
        )
        await ctx.send("Pick one", view=view)

    @component("press")
    async def on_press(self, interaction: discord.Interaction) -> None:
        await interaction.response.send_message("Pressed", ephemeral=True)

    @feature_group.command(name="fail")
    async def fail(self, ctx, kind: str):
        """Fail on purpose and let handle_error deal with it."""
        try:
            if kind == "recoverable":
                raise RecoverableError("the feed is late")
            raise RuntimeError("the feed is gone")
        except Exception as e:
            await self.handle_error(e)
        await ctx.send(f"handled: recoveries {self.recoveries}, cleanups {self.cleanups}")

    @feature_group.command(name="retry")
    async def retry(self, ctx, failures: int):
        """Run the operation with the guide's retry logic."""
        self.failures_left = failures
        try:
            result = await self.operation_with_retry()
        except RecoverableError as e:
            await self.handle_error(e)
            result = "gave up"
        await ctx.send(f"{result} (retry delay {self.retry_delay:g} s)")

    @hybrid_command(name="may")
    async def may(self, ctx: commands.Context[Any], *, command: str) -> None:
        """Whether you may run a command here, and this cog's channel and role rules.

        Parameters
        ----------
        command:
            The name of a command
        """
        allowed = await self.check_command_permissions(ctx, command)
        where = await self.is_channel_authorized(ctx.channel)
        role = await self.has_required_role(ctx.author)
        await ctx.send(f"{command}: {allowed}; channel: {where}; role: {role}")
