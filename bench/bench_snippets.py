"""`snippet <name>` through the real bot in SimCord: latency warm and cold, round trips per use.

    uv run python bench/bench_snippets.py                            # SQLite only
    FISHBOT_TEST_DATABASE_URL=postgresql+asyncpg://postgres@127.0.0.1:5432/test \\
        uv run python bench/bench_snippets.py                        # SQLite and PostgreSQL

Per database, on a guild with 200 snippets:

* **warm**: `!s rules` with the guild's snippets in memory, one command at a time (N = 300),
  and a burst of 200 arriving together;
* **cold**: the same with the guild's snippet cache forgotten before each command, so each use
  reads the guild's snippets (one query);
* **round trips** (deterministic): the statements, transactions and round trips of one warm
  use, one cold use, and of the flush that writes the buffered use counts of 100 uses of 10
  snippets (one UPDATE in one transaction), per use.

Latency runs from the message's arrival to the end of the command (``on_command_completion``)
and includes SimCord's simulated gateway and HTTP. The helpers (guild seeding, databases of
their own, the statement snapshot, the clock) are those of ``bench_command_bursts.py``.
"""

from __future__ import annotations

import asyncio
import logging
import sys
import tempfile
from pathlib import Path
from typing import Any

import simcord
from bench_command_bursts import (
    DATA_VERBS,
    PG_URL,
    Clock,
    admin,
    burst,
    count_one,
    fresh_settings,
    seed_guild,
    snapshot,
    summary,
)

from fish_bot.bot import FishBot
from fish_bot.config import Settings

SNIPPETS = 200
SEQUENTIAL = 300
BURST = 200
FLUSHED_USES = 100


def snippets_cog(bot: FishBot) -> Any:
    cog = bot.get_cog("Snippets")
    assert cog is not None
    return cog


async def one_at_a_time(
    env: simcord.Env, clock: Clock, channel_id: int, author_id: int, text: str, *, before: Any
) -> dict[str, float]:
    """``text`` sent ``SEQUENTIAL`` times, each after the previous one finished."""
    latencies: list[float] = []
    for _ in range(SEQUENTIAL):
        before()
        clock.start()
        env.backend.create_message(channel_id, author_id, text)
        await env.settle()
        if clock.errors or len(clock.latencies) != 1:
            raise RuntimeError(f"{text!r} did not complete cleanly")
        latencies.append(clock.latencies[0])
    return summary(latencies)


async def bench(settings: Settings) -> tuple[dict[str, dict[str, float]], dict[str, Any]]:
    bot = FishBot(settings)
    clock = Clock()
    bot.add_listener(clock.on_command_completion)
    bot.add_listener(clock.on_command_error)
    env = simcord.Env(bot, shard_count=1)
    env.settle_timeout = 120
    await env.start()
    timings: dict[str, dict[str, float]] = {}
    counts: dict[str, Any] = {}
    try:
        _owner, general, _moderator, members = await seed_guild(env, bot, 2)
        guild_id = bot.guilds[0].id
        entries = [("rules", "Be nice.\nNo spam.")]
        entries += [(f"snippet-{i:03d}", f"Text of snippet {i}.") for i in range(SNIPPETS - 1)]
        await bot.db.snippet.import_snippets(guild_id, entries, members[0].id)
        cog = snippets_cog(bot)
        user = members[1].id

        counts["warm"] = await count_one(bot, env, general.id, user, "!s rules")  # warms
        counts["warm"] = await count_one(bot, env, general.id, user, "!s rules")
        cog.cache.invalidate(guild_id)
        counts["cold"] = await count_one(bot, env, general.id, user, "!s rules")
        await cog.flush_uses()
        for i in range(FLUSHED_USES):
            cog.count_use(cog.cache.peek(guild_id).get(f"snippet-{i % 10:03d}"))
        before = snapshot(bot)
        written = await cog.flush_uses()
        after = snapshot(bot)
        diff = {key: after[key] - before[key] for key in after}
        statements = sum(diff[verb] for verb in DATA_VERBS) + diff["other"]
        counts["flush"] = {
            "uses": written,
            "statements": f"{statements} (U{diff['UPDATE']})",
            "transactions": diff["transactions"],
            "round trips": statements + diff["transactions"] + diff["commits"],
        }

        timings["warm, one at a time"] = await one_at_a_time(
            env, clock, general.id, user, "!s rules", before=lambda: None
        )
        timings["cold, one at a time"] = await one_at_a_time(
            env,
            clock,
            general.id,
            user,
            "!s rules",
            before=lambda: cog.cache.invalidate(guild_id),
        )
        timings[f"warm, burst of {BURST}"] = await burst(
            env, clock, general.id, [(user, "!s rules")] * BURST
        )
        env.check_errors = False
    finally:
        await env.shutdown()
        await bot.database.disconnect()
    return timings, counts


async def run(backend: str, folder: Path) -> tuple[list[str], list[str]]:
    settings, database = await fresh_settings(backend, folder)
    try:
        timings, counts = await bench(settings)
    finally:
        if database:
            await admin(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
    latency = [
        f"| {backend} | {name} | {row['p50']:.2f} | {row['p99']:.2f} | {row['max']:.2f} |"
        for name, row in timings.items()
    ]
    trips = []
    for name in ("warm", "cold"):
        row = counts[name]
        verbs = " ".join(f"{verb[0]}{row[verb]}" for verb in DATA_VERBS if row[verb])
        trips.append(
            f"| {backend} | one {name} use | {row['statements']} ({verbs or '-'}) "
            f"| {row['transactions']} | {row['round trips']} |"
        )
    flush = counts["flush"]
    per_use = flush["round trips"] / max(1, flush["uses"])
    trips.append(
        f"| {backend} | flush of {flush['uses']} uses | {flush['statements']} "
        f"| {flush['transactions']} | {flush['round trips']} ({per_use:.2f} per use) |"
    )
    print(latency + trips, file=sys.stderr, flush=True)
    return latency, trips


async def main() -> None:
    logging.basicConfig(level=logging.CRITICAL)
    backends = ["sqlite", *(["postgresql"] if PG_URL else [])]
    latency = ["| database | `!s rules` | p50 ms | p99 ms | max ms |", "|---|---|---|---|---|"]
    trips = [
        "| database | what | SQL statements (S/I/U/D) | transactions | round trips |",
        "|---|---|---|---|---|",
    ]
    with tempfile.TemporaryDirectory() as folder:
        for backend in backends:
            rows, counted = await run(backend, Path(folder))
            latency.extend(rows)
            trips.extend(counted)
    print("\n".join(trips))
    print()
    print("\n".join(latency))


if __name__ == "__main__":
    asyncio.run(main())
