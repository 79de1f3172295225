"""Bursts of commands through the real bot in SimCord: latency percentiles under load.

    uv run python bench/bench_command_bursts.py                      # SQLite only
    FISHBOT_TEST_DATABASE_URL=postgresql+asyncpg://postgres@127.0.0.1:5432/test \\
        uv run python bench/bench_command_bursts.py                  # SQLite and PostgreSQL

A burst is N commands that all arrive before the bot handles any of them (as when a raid is
being cleaned up). Each command's latency runs from the burst's arrival to the end of that
command (``on_command_completion`` or ``on_command_error``), so it includes the queueing
behind the other commands of the burst. Per database and burst size (50, 100, 200):

* ``ping``: Fish Bot against a bare ``discord.py`` bot with only a ``ping`` command, in the
  same run, so the ratio says what the framework costs (the machine is shared and noisy);
* ``warn``: a moderator warns N different members (a case, a DM, a mod-log post each);
* ``settings set``: a setting of the Moderation module changed N times (serialised writes);
* ``cases view``: N reads of a case.

It reports p50, p99 and max in milliseconds, and the errors (any reply with an error id, any
"database is locked"). PostgreSQL runs in a database of its own, dropped afterwards.

It also prints a deterministic table, independent of the machine's load: the SQL statements,
transactions and round trips of ONE command of each kind (counted by the database service's
``stats``, after a warm-up command of the same kind so the caches are as in steady state).
``--statements`` prints only that table (a few seconds).
"""

from __future__ import annotations

import asyncio
import logging
import os
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import discord
import simcord
import sqlalchemy as sa
from discord.ext import commands
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import create_async_engine

from fish_bot.bot import FishBot
from fish_bot.config import Settings

SIZES = (50, 100, 200)
PG_URL = os.environ.get("FISHBOT_TEST_DATABASE_URL", "").strip()
OWNER_ID = 900000000000000001
MOD_RANK = 5


class Clock:
    """Latency of each command of a burst, measured from the burst's arrival."""

    def __init__(self) -> None:
        self.started = 0.0
        self.latencies: list[float] = []
        self.errors = 0

    def start(self) -> None:
        self.started = time.perf_counter()
        self.latencies = []
        self.errors = 0

    async def on_command_completion(self, ctx: commands.Context[Any]) -> None:
        self.latencies.append(time.perf_counter() - self.started)

    async def on_command_error(self, ctx: commands.Context[Any], error: Exception) -> None:
        self.latencies.append(time.perf_counter() - self.started)
        self.errors += 1


def summary(values: list[float]) -> dict[str, float]:
    ordered = sorted(values)
    p99 = ordered[min(len(ordered) - 1, round(0.99 * (len(ordered) - 1)))]
    return {
        "p50": statistics.median(ordered) * 1000,
        "p99": p99 * 1000,
        "max": ordered[-1] * 1000,
    }


async def burst(
    env: simcord.Env, clock: Clock, channel_id: int, texts: list[tuple[int, str]]
) -> dict[str, float]:
    """Deliver every message before the bot handles one, wait, and summarise the latencies."""
    clock.start()
    for author_id, text in texts:
        env.backend.create_message(channel_id, author_id, text)
    await env.settle()
    if len(clock.latencies) != len(texts):
        raise RuntimeError(f"{len(clock.latencies)} of {len(texts)} commands finished")
    return {**summary(clock.latencies), "errors": float(clock.errors)}


def bare_bot() -> commands.Bot:
    bot = commands.Bot(command_prefix="!", intents=discord.Intents.all())

    @bot.command()
    async def ping(ctx: commands.Context[Any]) -> None:
        await ctx.send("Pong!")

    return bot


async def bench_bare(size: int) -> dict[str, float]:
    bot = bare_bot()
    clock = Clock()
    bot.add_listener(clock.on_command_completion)
    bot.add_listener(clock.on_command_error)
    env = simcord.Env(bot)
    await env.start()
    try:
        guild = env.create_guild(name="Bench", owner=env.create_user("owner"))
        channel = guild.create_text_channel("general")
        member = guild.add_member(env.create_user("member"))
        await env.settle()
        return await burst(env, clock, channel.id, [(member.id, "!ping")] * size)
    finally:
        await env.shutdown()


async def seed_guild(env: simcord.Env, bot: FishBot, size: int) -> tuple[Any, Any, Any, list[Any]]:
    """A guild with an owner, a rank-5 moderator, a mod log and ``size`` members:
    ``(owner, #general, moderator, members)``."""
    owner = env.create_user("owner")
    guild = env.create_guild(name="Bench", owner=owner)
    mod_role = guild.create_role(
        "Moderator",
        permissions=discord.Permissions(
            kick_members=True, ban_members=True, moderate_members=True, manage_messages=True
        ),
    )
    general = guild.create_text_channel("general")
    mod_log = guild.create_text_channel("mod-log")
    moderator = guild.add_member(env.create_user("moderator"), roles=[mod_role])
    members = [guild.add_member(env.create_user(f"user{i}")) for i in range(size)]
    await env.settle()
    await bot.permission_store.set_role_rank(guild.id, mod_role.id, MOD_RANK)
    await bot.db.guild_config.set_log_channel(guild.id, "mod", mod_log.id)
    return owner, general, moderator, members


async def bench_fish(settings: Settings, size: int) -> dict[str, dict[str, float]]:
    bot = FishBot(settings)
    clock = Clock()
    bot.add_listener(clock.on_command_completion)
    bot.add_listener(clock.on_command_error)
    env = simcord.Env(bot, shard_count=1)
    env.settle_timeout = 120
    await env.start()
    results: dict[str, dict[str, float]] = {}
    try:
        owner, general, moderator, members = await seed_guild(env, bot, size)

        results["ping"] = await burst(env, clock, general.id, [(members[0].id, "!ping")] * size)
        results["warn"] = await burst(
            env,
            clock,
            general.id,
            [(moderator.id, f"!warn {m.mention} burst {i}") for i, m in enumerate(members)],
        )
        values = ("true", "false")
        results["settings set"] = await burst(
            env,
            clock,
            general.id,
            [
                (owner.id, f"!settings set Moderation dm_members {values[i % 2]}")
                for i in range(size)
            ],
        )
        results["cases view"] = await burst(
            env,
            clock,
            general.id,
            [(moderator.id, f"!cases view {i % 10 + 1}") for i in range(size)],
        )
        locked = sum("database is locked" in str(error) for error in env.errors)
        for row in results.values():
            row["locked"] = float(locked)
        env.check_errors = False
    finally:
        await env.shutdown()
        await bot.database.disconnect()
    return results


# --- statements per command (deterministic) -------------------------------------------------

DATA_VERBS = ("SELECT", "INSERT", "UPDATE", "DELETE")


def snapshot(bot: FishBot) -> dict[str, int]:
    stats = bot.database.stats
    counts = {verb: stats.by_statement.get(verb, 0) for verb in DATA_VERBS}
    counts["other"] = stats.queries - sum(counts.values()) - stats.by_statement.get("BEGIN", 0)
    counts["transactions"] = stats.transactions
    counts["commits"] = stats.commits + stats.rollbacks
    return counts


async def count_one(
    bot: FishBot, env: simcord.Env, channel_id: int, author_id: int, text: str
) -> dict[str, int]:
    """The statements one command runs (its queued background writes included)."""
    await env.settle()
    before = snapshot(bot)
    env.backend.create_message(channel_id, author_id, text)
    await env.settle()
    await bot.config_manager.flush()
    after = snapshot(bot)
    diff = {key: after[key] - before[key] for key in after}
    diff["statements"] = sum(diff[verb] for verb in DATA_VERBS) + diff["other"]
    # A round trip per statement, per BEGIN and per COMMIT/ROLLBACK.
    diff["round trips"] = diff["statements"] + diff["transactions"] + diff["commits"]
    return diff


async def bench_statements(settings: Settings) -> dict[str, dict[str, int]]:
    bot = FishBot(settings)
    env = simcord.Env(bot, shard_count=1)
    await env.start()
    results: dict[str, dict[str, int]] = {}
    try:
        owner, general, moderator, members = await seed_guild(env, bot, 4)
        commands_ = {
            "ping": (members[0].id, "!ping", "!ping"),
            "warn": (
                moderator.id,
                f"!warn {members[1].mention} a",
                f"!warn {members[2].mention} b",
            ),
            "settings set": (
                owner.id,
                "!settings set Moderation dm_members false",
                "!settings set Moderation dm_members true",
            ),
            "cases view": (moderator.id, "!cases view 1", "!cases view 2"),
        }
        for name, (author, warm, measured) in commands_.items():
            await count_one(bot, env, general.id, author, warm)
            results[name] = await count_one(bot, env, general.id, author, measured)
        env.check_errors = False
    finally:
        await env.shutdown()
        await bot.database.disconnect()
    return results


async def admin(statement: str) -> None:
    engine = create_async_engine(PG_URL, isolation_level="AUTOCOMMIT")
    try:
        async with engine.connect() as connection:
            await connection.execute(sa.text(statement))
    finally:
        await engine.dispose()


async def fresh_settings(backend: str, folder: Path) -> tuple[Settings, str]:
    """Settings for a bot on a database of its own (and that database's name on PostgreSQL)."""
    url, database = "", ""
    if backend == "postgresql":
        database = f"fb_bench_{uuid.uuid4().hex[:10]}"
        await admin(f'CREATE DATABASE "{database}"')
        url = make_url(PG_URL).set(database=database).render_as_string(hide_password=False)
    settings = Settings(
        data_dir=folder / f"{backend}-{uuid.uuid4().hex[:6]}",
        prefix="!",
        owner_ids=[OWNER_ID],
        database_url=url,
    )
    return settings, database


async def run_statements(backend: str, folder: Path) -> list[str]:
    settings, database = await fresh_settings(backend, folder)
    try:
        counted = await bench_statements(settings)
    finally:
        if database:
            await admin(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
    rows = []
    for name, row in counted.items():
        verbs = " ".join(f"{verb[0]}{row[verb]}" for verb in DATA_VERBS if row[verb])
        rows.append(
            f"| {backend} | {name} | {row['statements']} ({verbs or '-'}, other {row['other']}) "
            f"| {row['transactions']} | {row['round trips']} |"
        )
    return rows


async def run_backend(backend: str, folder: Path) -> list[str]:
    rows: list[str] = []
    for size in SIZES:
        settings, database = await fresh_settings(backend, folder)
        try:
            bare = await bench_bare(size)
            fish = await bench_fish(settings, size)
        finally:
            if database:
                await admin(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
        ratio = fish["ping"]["p99"] / bare["p99"] if bare["p99"] else float("nan")
        rows.append(
            f"| {backend} | {size} | bare discord.py ping | {bare['p50']:.0f} | {bare['p99']:.0f} "
            f"| {bare['max']:.0f} | {bare['errors']:.0f} | |"
        )
        for name, row in fish.items():
            note = f"ping p99 ratio {ratio:.2f}" if name == "ping" else ""
            rows.append(
                f"| {backend} | {size} | Fish Bot {name} | {row['p50']:.0f} | {row['p99']:.0f} "
                f"| {row['max']:.0f} | {row['errors']:.0f} (locked {row['locked']:.0f}) | {note} |"
            )
        print(rows[-5:], file=sys.stderr, flush=True)
    return rows


async def main() -> None:
    logging.basicConfig(level=logging.CRITICAL)
    backends = ["sqlite", *(["postgresql"] if PG_URL else [])]
    counted = [
        "| database | command | SQL statements (S/I/U/D, other) | transactions | round trips |",
        "|---|---|---|---|---|",
    ]
    with tempfile.TemporaryDirectory() as folder:
        for backend in backends:
            counted.extend(await run_statements(backend, Path(folder)))
    print("\n".join(counted), flush=True)
    if "--statements" in sys.argv[1:]:
        return
    print()
    lines = [
        "| database | burst | commands | p50 ms | p99 ms | max ms | errors | note |",
        "|---|---|---|---|---|---|---|---|",
    ]
    with tempfile.TemporaryDirectory() as folder:
        for backend in backends:
            lines.extend(await run_backend(backend, Path(folder)))
    print("\n".join(lines))


if __name__ == "__main__":
    asyncio.run(main())
