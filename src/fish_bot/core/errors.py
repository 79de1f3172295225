"""The error policy shared by commands, slash commands, components and cogs.

Users never see a traceback or raw exception text: a :class:`UserFacingError` shows its message,
a permission denial its reason, and anything else a short apology naming an error id that is
also in the log (DESIGN.md rule 5). :meth:`FishBot.report_unexpected` logs and dispatches such an
error; the helpers here build the texts and send them without pinging anyone.
"""

from __future__ import annotations

import logging
import uuid
from typing import Any

import discord
from discord import app_commands
from discord.ext import commands

log = logging.getLogger(__name__)

_WRAPPERS = (
    commands.HybridCommandError,
    commands.CommandInvokeError,
    commands.ConversionError,
    app_commands.CommandInvokeError,
)


def new_error_id() -> str:
    """A short id that ties a user's apology to the logged traceback."""
    return uuid.uuid4().hex[:8]


def apology(error_id: str) -> str:
    """What a user sees for an unexpected error."""
    return f"Sorry, something went wrong on our side (error id `{error_id}`). It has been logged."


def unwrap(error: BaseException) -> BaseException:
    """The real error behind discord.py's wrappers."""
    for _ in range(5):
        if not isinstance(error, _WRAPPERS):
            break
        error = error.original
    return error


async def send_reply(ctx: commands.Context[Any], text: str) -> None:
    """Reply to a command (ephemeral when it came from a slash command); never pings."""
    try:
        await ctx.send(text, ephemeral=True, allowed_mentions=discord.AllowedMentions.none())
    except discord.HTTPException:
        log.warning("Could not send an error reply in %s", ctx.channel)


async def send_interaction(interaction: discord.Interaction, text: str) -> None:
    """Answer an interaction ephemerally, whether or not it was already acknowledged."""
    none = discord.AllowedMentions.none()
    try:
        if interaction.response.is_done():
            await interaction.followup.send(text, ephemeral=True, allowed_mentions=none)
        else:
            await interaction.response.send_message(text, ephemeral=True, allowed_mentions=none)
    except discord.HTTPException:
        log.warning("Could not answer an interaction")
