"""Sending the error policy's answer: a reply to a command, or an answer to an interaction.

Both are ephemeral where Discord allows it, clipped to one message and never ping anyone;
a reply Discord refuses is logged, not raised (the error being answered is already handled).
"""

from __future__ import annotations

import logging
from typing import Any

import discord
from discord.ext import commands

from fish_bot.core.text import CONTENT_LIMIT, clip

__all__ = ["send_interaction", "send_reply"]

log = logging.getLogger(__name__)


async def send_reply(ctx: commands.Context[Any], text: str) -> None:
    """Reply to a command (ephemeral when it came from a slash command); never pings."""
    try:
        await ctx.send(
            clip(text, CONTENT_LIMIT),
            ephemeral=True,
            allowed_mentions=discord.AllowedMentions.none(),
        )
    except discord.HTTPException:
        log.warning("Could not send an error reply in %s", ctx.channel)


async def send_interaction(interaction: discord.Interaction, text: str) -> None:
    """Answer an interaction ephemerally, whether or not it was already acknowledged."""
    none = discord.AllowedMentions.none()
    text = clip(text, CONTENT_LIMIT)
    try:
        if interaction.response.is_done():
            await interaction.followup.send(text, ephemeral=True, allowed_mentions=none)
        else:
            await interaction.response.send_message(text, ephemeral=True, allowed_mentions=none)
    except discord.HTTPException:
        log.warning("Could not answer an interaction")
