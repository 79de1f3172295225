"""Message throughput with automod on, against the bot without it and a bare discord.py bot.

    uv run python bench/bench_automod.py

Ordinary messages (they break no rule) from 500 members (``BENCH_MEMBERS``), 3 each after one
warm-up message each (4 messages in 5 s stay under the spam rule's 5), all delivered before
the bot handles one, through SimCord in the same process. Three bots on the same machine in one run
(the machine is shared and noisy, so compare within a run):

* ``bare discord.py``: a ``commands.Bot`` with no cogs (parsing the gateway event and
  looking for a command is all it does);
* ``fish bot, no automod``: the built-in cogs without the automod module (the server logs,
  levels, AFK and the rest loaded);
* ``fish bot + automod (10 rules)``: every built-in cog (server logs included), automod with
  one rule of each kind
  (spam, duplicates, mentions, invites, links, words with a pattern, caps, zalgo, emoji,
  attachments).

For each: messages per second (wall clock, the burst's arrival to the last message handled)
and the SQL statements the burst ran (after a warm-up message so the caches are loaded).
The server logs (the ``Logging`` cog) are loaded in both Fish Bot runs: an ordinary message is
not one of their events, so they cost it nothing.
"""

from __future__ import annotations

import asyncio
import logging
import os
import sys
import tempfile
import time
from pathlib import Path

import discord
import simcord
from discord.ext import commands

from fish_bot.bot import BUILTIN_COGS, FishBot
from fish_bot.config import Settings

MEMBERS = int(os.environ.get("BENCH_MEMBERS", "500"))
PER_MEMBER = 4
OWNER_ID = 900000000000000001
AUTOMOD_COGS = list(BUILTIN_COGS)
PLAIN_COGS = [cog for cog in BUILTIN_COGS if not cog.endswith(".automod")]
RULES = (
    "spam flood timeout count=5 seconds=5 duration=10m",
    "duplicates copies delete",
    "mentions pings warn",
    "invites ads delete",
    "links badsites delete domains=evil.com,bad.example",
    'words swearing warn words=heck,darn,sardine pattern="fr[e3]+ n[i1]tro"',
    "caps loud delete",
    "zalgo glitch delete",
    "emoji emojiflood delete",
    "attachments exes delete types=exe,bat",
)


async def run(bot: commands.Bot, rules: tuple[str, ...] = ()) -> tuple[float, int | None]:
    env = simcord.Env(bot, shard_count=1) if isinstance(bot, FishBot) else simcord.Env(bot)
    env.settle_timeout = 120  # 500 joins and a burst take longer than SimCord's default deadline
    await env.start()
    if isinstance(bot, FishBot):
        bot.scheduler.poll_interval = 6 * 3600  # no idle job polls during the burst
    try:
        owner = env.create_user("owner")
        guild = env.create_guild(name="Bench", owner=owner)
        general = guild.create_text_channel("general")
        commands_channel = guild.create_text_channel("bot-commands")
        owner_actor = (
            simcord.MemberActor(env, guild, owner)
            if owner.id in guild.member_ids()
            else guild.add_member(owner)
        )
        members = [guild.add_member(env.create_user(f"user{i}")) for i in range(MEMBERS)]
        await env.settle()
        for rule in rules:
            env.backend.create_message(commands_channel.id, owner_actor.id, f"!automod add {rule}")
            await env.settle()
        for member in members:  # warm-up: every member's first message loads what it loads
            env.backend.create_message(general.id, member.id, "warm-up: the caches load here")
        await env.settle()
        texts = [
            (member.id, f"hello number {n} from {i}, see https://python.org/doc")
            for n in range(PER_MEMBER - 1)
            for i, member in enumerate(members)
        ]
        before = bot.database.stats.queries if isinstance(bot, FishBot) else None
        started = time.perf_counter()
        for author_id, text in texts:
            env.backend.create_message(general.id, author_id, text)
        await env.settle()
        elapsed = time.perf_counter() - started
        statements = (
            bot.database.stats.queries - before
            if isinstance(bot, FishBot) and before is not None
            else None
        )
        env.check_errors = False
        return len(texts) / elapsed, statements
    finally:
        await env.shutdown()
        if isinstance(bot, FishBot):
            await bot.database.disconnect()


def fish(folder: Path, name: str, cogs: list[str]) -> FishBot:
    settings = Settings(data_dir=folder / name, prefix="!", owner_ids=[OWNER_ID])
    return FishBot(settings, cogs=cogs)


async def main() -> None:
    logging.disable(logging.WARNING)
    rows: list[tuple[str, float, int | None]] = []
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        bare = commands.Bot(command_prefix="!", intents=discord.Intents.all())
        rows.append(("bare discord.py", *await run(bare)))
        rows.append(("fish bot, no automod", *await run(fish(folder, "plain", PLAIN_COGS))))
        rows.append(
            (
                "fish bot + automod (10 rules)",
                *await run(fish(folder, "automod", AUTOMOD_COGS), RULES),
            )
        )
    print(f"{MEMBERS * (PER_MEMBER - 1)} ordinary messages, delivered at once\n")
    print("| bot | messages/s | SQL statements in the burst |")
    print("|---|---|---|")
    for name, rate, statements in rows:
        shown = "-" if statements is None else str(statements)
        print(f"| {name} | {rate:,.0f} | {shown} |")


if __name__ == "__main__":
    if sys.platform == "win32":
        asyncio.set_event_loop_policy(asyncio.WindowsSelectorEventLoopPolicy())  # type: ignore[attr-defined]
    asyncio.run(main())
