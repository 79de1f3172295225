"""The guide's "Message Component Handling": the cog's own on_interaction listener."""

from __future__ import annotations

import discord
from discord.ext import commands


class ListenersMixin:
    @commands.Cog.listener()
    async def on_interaction(self, interaction: discord.Interaction):
        """Handle interactions for this cog."""
        if not interaction.data:
            return

        # Check if interaction belongs to this cog
        custom_id = interaction.data.get("custom_id", "")
        if not custom_id.startswith("feature:"):
            return

        async with self.task_tracker.task_context("Component") as tracker:  # noqa: F841
            try:
                # Extract action from custom_id
                action = custom_id.split(":", 1)[1]

                # Handle different actions
                if action == "action1":
                    await self.handle_action1(interaction)
                elif action == "action2":
                    await self.handle_action2(interaction)
                else:
                    await interaction.response.send_message(
                        content="Unknown action", ephemeral=True
                    )
            except Exception as e:
                self.logger.error(f"Component error: {e}")
                if not interaction.response.is_done():
                    await interaction.response.send_message(content=f"Error: {e}", ephemeral=True)

    async def handle_action1(self, interaction: discord.Interaction) -> None:
        await interaction.response.send_message("Action 1 done", ephemeral=True)

    async def handle_action2(self, interaction: discord.Interaction) -> None:
        raise RuntimeError("action 2 is broken")
