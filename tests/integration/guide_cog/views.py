"""The guide's "View Management": a plain discord.ui.View with a fixed custom_id."""

from __future__ import annotations

from typing import Any

import discord


class FeatureView(discord.ui.View):
    def __init__(self, cog: Any) -> None:
        super().__init__(timeout=300)
        self.cog = cog

    @discord.ui.button(
        label="Refresh", style=discord.ButtonStyle.green, custom_id="feature:refresh"
    )
    async def refresh_button(self, interaction: discord.Interaction, button: discord.ui.Button):
        """Refresh the display."""
        async with self.cog.task_tracker.task_context("Refresh") as tracker:
            try:
                tracker.update_status("Refreshing")

                # Update the embed
                embed = await self.cog.create_status_embed()

                # Update the message
                await interaction.response.edit_message(embed=embed, view=self)

                tracker.update_status("Complete")
            except Exception as e:
                tracker.update_status("Failed", success=False)
                self.cog.logger.error(f"Refresh error: {e}")
                await interaction.response.send_message(content=f"Error: {e}", ephemeral=True)
