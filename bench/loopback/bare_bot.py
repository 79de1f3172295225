"""The baseline: a bare discord.py ``commands.Bot`` with one cog listener and ``!ping``.

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

    async with bot:
        await bot.add_cog(Listener())
        await bot.start(os.environ["DISCORD_TOKEN"])


if __name__ == "__main__":
    with contextlib.suppress(KeyboardInterrupt):  # the driver stops the bot with SIGINT
        asyncio.run(main())
