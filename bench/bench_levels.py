"""Levels: database round trips per ordinary chat message, and message throughput.

    uv run python bench/bench_levels.py                              # SQLite only
    FISHBOT_TEST_DATABASE_URL=postgresql+asyncpg://postgres@127.0.0.1:5432/test \\
        uv run python bench/bench_levels.py                          # SQLite and PostgreSQL

The real bot runs in SimCord with several guilds of members who chat. Messages arrive in bursts
of ``BURST`` (all delivered before the bot handles one); between bursts the virtual clock moves
on 15 s, so members come out of their cooldown and the flush loop (10 s) writes. Counted over the
whole run, from the first message of a cold start (each guild's first message loads the guild)
to the final flush:

* round trips per message: a statement, a BEGIN or a COMMIT/ROLLBACK each (the database
  service's ``stats``), divided by the messages sent;
* messages per second (wall time of delivering and handling the bursts, not of the clock moves)
  for a bare ``discord.py`` ``commands.Bot`` in the same SimCord run, Fish Bot without the levels
  module, and Fish Bot with it.

The bot the specification describes reads XP, level, blacklist and last message time and writes
them back for every message: about 3 round trips a message (more inside a transaction).
"""

from __future__ import annotations

import asyncio
import logging
import random
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import discord
import simcord
from bench_command_bursts import PG_URL, admin, bare_bot, fresh_settings

from fish_bot.bot import BUILTIN_COGS, FishBot

GUILDS = 5
MEMBERS = 40
BURST = 200
BURSTS = 10


def round_trips(bot: FishBot) -> int:
    stats = bot.database.stats
    statements = stats.queries - stats.by_statement.get("BEGIN", 0)
    return statements + stats.transactions + stats.commits + stats.rollbacks


async def seed(env: simcord.Env) -> list[tuple[int, list[int]]]:
    """``GUILDS`` guilds of ``MEMBERS`` members: ``[(channel id, [member ids])]``."""
    seeded = []
    for number in range(GUILDS):
        guild = env.create_guild(name=f"Bench {number}", owner=env.create_user(f"owner{number}"))
        channel = guild.create_text_channel("general")
        members = [guild.add_member(env.create_user(f"g{number}m{i}")).id for i in range(MEMBERS)]
        seeded.append((channel.id, members))
    await env.settle()
    return seeded


async def chat(env: simcord.Env, seeded: list[tuple[int, list[int]]]) -> tuple[int, float]:
    """Send the bursts; returns (messages, wall seconds spent handling them)."""
    rng = random.Random(11)
    sent, spent = 0, 0.0
    for _ in range(BURSTS):
        started = time.perf_counter()
        for i in range(BURST):
            channel_id, members = seeded[rng.randrange(len(seeded))]
            env.backend.create_message(channel_id, rng.choice(members), f"hello fish {i}")
        await env.settle()
        spent += time.perf_counter() - started
        sent += BURST
        await env.advance_time(15)
    return sent, spent


async def bench_bare() -> float:
    bot = bare_bot()
    env = simcord.Env(bot)
    env.settle_timeout = 120
    await env.start()
    try:
        sent, spent = await chat(env, await seed(env))
    finally:
        await env.shutdown()
    return sent / spent


async def bench_fish(backend: str, folder: Path, *, levels: bool) -> dict[str, float]:
    settings, database = await fresh_settings(backend, folder)
    cogs = [c for c in BUILTIN_COGS if levels or c != "fish_bot.cogs.levels"]
    bot = FishBot(settings, cogs=cogs)
    env = simcord.Env(bot, shard_count=1)
    env.settle_timeout = 120
    await env.start()
    try:
        seeded = await seed(env)
        before = round_trips(bot)
        sent, spent = await chat(env, seeded)
        cog: Any = bot.get_cog("Levels")
        if cog is not None:
            await cog.store.flush()
            written = cog.store.stats.rows_written
            loads = cog.store.stats.loads
        else:
            written = loads = 0
        trips = round_trips(bot) - before
        env.check_errors = False
    finally:
        await env.shutdown()
        await bot.database.disconnect()
        if database:
            await admin(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
    return {
        "messages": sent,
        "per_second": sent / spent,
        "round_trips": trips,
        "per_message": trips / sent,
        "rows_written": written,
        "loads": loads,
    }


async def main() -> int:
    logging.basicConfig(level=logging.ERROR)
    discord.utils.setup_logging(level=logging.ERROR)
    backends = ["sqlite"] + (["postgresql"] if PG_URL else [])
    print(f"{GUILDS} guilds x {MEMBERS} members, {BURSTS} bursts of {BURST} messages, 15 s apart")
    bare = await bench_bare()
    print()
    print(
        "| database | bot | messages/s | round trips | per message | guild loads | rows written |"
    )
    print("|---|---|---|---|---|---|---|")
    print(f"| - | bare discord.py | {bare:.0f} | - | - | - | - |")
    with tempfile.TemporaryDirectory() as folder:
        for backend in backends:
            for levels in (False, True):
                row = await bench_fish(backend, Path(folder), levels=levels)
                name = "Fish Bot, levels on" if levels else "Fish Bot, levels off"
                print(
                    f"| {backend} | {name} | {row['per_second']:.0f} | {row['round_trips']:.0f} "
                    f"| {row['per_message']:.3f} | {row['loads']:.0f} | {row['rows_written']:.0f} |"
                )
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
