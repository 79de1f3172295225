"""The baseline: a bare discord.py ``commands.Bot`` with one cog listener, ``!ping`` and the
Discord side of ``!warn`` (its three messages, nothing recorded).

Run it as ``python bench/loopback/bare_bot.py`` with ``DISCORD_TOKEN`` set and the loopback
``sitecustomize`` on ``PYTHONPATH`` (bench/loopback/process.py does both). Same intents as Fish
Bot (message content and members), same prefix.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
from typing import Any

import discord
from discord.ext import commands


class Listener(commands.Cog):
    """One cog listener on every message, as a feature cog of a real bot would have."""

    def __init__(self) -> None:
        self.seen = 0

    @commands.Cog.listener()
    async def on_message(self, message: discord.Message) -> None:
        self.seen += 1


async def main() -> None:
    intents = discord.Intents.default()
    intents.message_content = True
    intents.members = True
    bot = commands.Bot(
        command_prefix="!", intents=intents, allowed_mentions=discord.AllowedMentions.none()
    )

    @bot.command()
    async def ping(ctx: commands.Context[Any]) -> None:
        await ctx.send("Pong!")

    @bot.command()
    async def warn(ctx: commands.Context[Any], member: discord.Member, *, reason: str) -> None:
        """The Discord side of a warn and nothing else (no record, no checks): the reply, a
        DM to the member and a post in #mod-log, as Fish Bot's warn sends them."""
        assert ctx.guild is not None
        mod_log = discord.utils.get(ctx.guild.text_channels, name="mod-log") or ctx.channel
        await ctx.send(f"Warned {member.mention} (Case #0). Reason: {reason}")
        await member.send(f"You received a warning in {ctx.guild.name}. Reason: {reason}")
        await mod_log.send(embed=discord.Embed(title="Warn", description=reason))

    async with bot:
        await bot.add_cog(Listener())
        await bot.start(os.environ["DISCORD_TOKEN"])


if __name__ == "__main__":
    with contextlib.suppress(KeyboardInterrupt):  # the driver stops the bot with SIGINT
        asyncio.run(main())
