"""Benchmarks of the real bot process over the loopback fake Discord, one command.

    uv run python bench/loopback/run.py flood [--messages 100000] [--rounds 3]
    uv run python bench/loopback/run.py latency [--count 200] [--rounds 3]
    uv run python bench/loopback/run.py startup [--rounds 3]
    uv run python bench/loopback/run.py trips [--database sqlite,postgresql]
    uv run python bench/loopback/run.py bursts [--sizes 50,100,200] [--database sqlite,postgresql]
    uv run python bench/loopback/run.py all [--messages 20000] ...   # everything, in that order

* ``flood``: N ordinary messages from 8 members, sent as fast as the socket takes them, then a
  ``!ping``; rate = N / (time until the Pong), CPU per message from /proc (user + system).
* ``latency``: commands one at a time (send, wait for the reply): ``ping`` on both bots, then
  ``warn``, ``snippet`` and ``rank`` on Fish Bot (a command the bot does not have is skipped
  with a note).
* ``startup``: process start to its first Discord request, to the first answered ``!ping``,
  and the resident memory then, for 1 guild, 200 guilds and a guild of 10,000 members (the
  bot asks for member chunks). Fish Bot restarts on a database already migrated; both bots
  read their libraries' bytecode from a cache the first (unmeasured) start wrote, as an
  installed bot does from its second start on.
* ``trips``: database round trips of one operation (statements, BEGIN, COMMIT, ROLLBACK, pool
  pre-pings), counted in the bot process with SQLAlchemy events (``FISHBOT_LOOPBACK_DB_STATS``).
* ``bursts``: N warns, settings sets and case views that all arrive at once; each one's time
  from the burst's start to its reply; p50/p99, errors, "database is locked" in the log.

Every figure alternates the bots (bare, Fish, Fish, bare, ...) and prints the median, the
min-max and, for the paired figures, the ratio of each pair. PostgreSQL comes from
``FISHBOT_TEST_DATABASE_URL`` (a database of its own per run, dropped afterwards).
``FISHBOT_LOOPBACK_SRC=<folder>`` runs the bot from another source tree (e.g. a ``git archive``
of ``main`` for the "before" figures); ``FISHBOT_BENCH_*`` variables reach the bot process.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from loopback.fake_discord import FakeDiscord, Guild, Member
from loopback.process import BotProcess

PG_URL = os.environ.get("FISHBOT_TEST_DATABASE_URL", "").strip()
WORDS = ("the", "quick", "brown", "fish", "jumps", "over", "a", "lazy", "bot", "we", "chat")


# --- helpers ------------------------------------------------------------------------------


def order(rounds: int) -> list[tuple[int, str]]:
    """Alternating runs: bare, fish, then fish, bare, ... (each pair shares a round)."""
    runs = []
    for index in range(rounds):
        kinds = ("bare", "fish") if index % 2 == 0 else ("fish", "bare")
        runs.extend((index, kind) for kind in kinds)
    return runs


def num(value: float) -> str:
    if abs(value) >= 100:
        return f"{value:.0f}"
    if abs(value) >= 10:
        return f"{value:.1f}"
    return f"{value:.3g}"


def med(values: list[float]) -> str:
    if not values:
        return "-"
    return f"{num(statistics.median(values))} ({num(min(values))}-{num(max(values))})"


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


class Database:
    """A database of its own for one bot: SQLite in the data folder, or a new PostgreSQL one."""

    def __init__(self, backend: str) -> None:
        self.backend = backend
        self.name = ""
        self.url = ""

    async def __aenter__(self) -> Database:
        if self.backend == "postgresql":
            from sqlalchemy.engine import make_url

            self.name = f"fb_loopback_{uuid.uuid4().hex[:10]}"
            await _pg_admin(f'CREATE DATABASE "{self.name}"')
            self.url = make_url(PG_URL).set(database=self.name).render_as_string(False)
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self.name:
            await _pg_admin(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)')


async def _pg_admin(statement: str) -> None:
    import sqlalchemy as sa
    from sqlalchemy.ext.asyncio import create_async_engine

    engine = create_async_engine(PG_URL, isolation_level="AUTOCOMMIT")
    try:
        async with engine.connect() as connection:
            await connection.execute(sa.text(statement))
    finally:
        await engine.dispose()


@contextlib.asynccontextmanager
async def running(
    kind: str,
    folder: Path,
    *,
    guilds: int = 1,
    members: int = 8,
    chunked: int = 0,
    database_url: str = "",
    db_stats: bool = False,
    wait: bool = True,
) -> AsyncIterator[tuple[FakeDiscord, BotProcess, Guild]]:
    """A fake Discord with ``guilds`` guilds and a bot process connected to it (ready)."""
    fake = FakeDiscord()
    await fake.start()
    first = fake.create_guild("Bench", members=members, chunked_members=chunked)
    for index in range(guilds - 1):
        fake.create_guild(f"Other {index}", members=8)
    bot = BotProcess(kind, fake, folder, database_url=database_url, db_stats=db_stats)
    bot.start()
    try:
        if wait:
            await bot.wait_ready(first)
        yield fake, bot, first
    finally:
        await bot.stop()
        await fake.stop()


async def command(
    fake: FakeDiscord,
    guild: Guild,
    author: Member,
    text: str,
    contains: str = "",
    within: float = 30.0,
) -> tuple[float, str]:
    """Send ``text`` in #general and wait for the reply there: (seconds, reply text)."""
    channel_id = guild.channel("general")["id"]
    waiter = asyncio.ensure_future(fake.wait_for(fake.expect_reply(channel_id, contains), within))
    await asyncio.sleep(0)
    started = time.perf_counter()
    await fake.message(guild, "general", author, text)
    reply = await waiter
    return reply.at - started, reply.text()


def owner_of(fake: FakeDiscord, guild: Guild) -> Member:
    return guild.members[guild.owner_id]


async def setup_mod_log(fake: FakeDiscord, guild: Guild) -> None:
    mod_log = guild.channel("mod-log")["id"]
    await command(fake, guild, owner_of(fake, guild), f"!config log mod <#{mod_log}>", "✅")


def has_command(fake: FakeDiscord, name: str) -> bool:
    return any(item.get("name") == name for item in fake.commands)


# --- flood ----------------------------------------------------------------------------------


async def flood_once(kind: str, folder: Path, messages: int) -> dict[str, float]:
    async with running(kind, folder) as (fake, bot, guild):
        fake.record_requests = False
        authors = fake.members_of(guild)[:8]
        events = []
        for index in range(messages):
            author = authors[index % len(authors)]
            words = " ".join(WORDS[(index + k) % len(WORDS)] for k in range(6))
            events.append(("MESSAGE_CREATE", fake.message_payload(guild, "general", author, words)))
        channel_id = guild.channel("general")["id"]
        pong = asyncio.ensure_future(fake.wait_for(fake.expect_reply(channel_id, "Pong"), 600))
        # Steady state: one ordinary message first, so the guild's caches (the levels
        # module's XP, automod's rules) are loaded before the flood, for both bots alike.
        await fake.message(guild, "general", authors[1], "good morning everyone")
        await asyncio.sleep(0.5)
        cpu = bot.cpu_seconds()
        started = await fake.dispatch_many(events)
        await fake.message(guild, "general", authors[0], "!ping")
        reply = await pong
        elapsed = reply.at - started
        used = bot.cpu_seconds() - cpu
        return {
            "rate": messages / elapsed,
            "cpu_us": used / messages * 1e6,
            "rss": bot.rss_mb(),
        }


async def bench_flood(args: argparse.Namespace, folder: Path) -> list[str]:
    results: dict[str, list[dict[str, float]]] = {"bare": [], "fish": []}
    for index, kind in order(args.rounds):
        row = await flood_once(kind, folder / f"flood-{kind}-{index}", args.messages)
        results[kind].append(row)
        print(f"  flood round {index} {kind}: {row}", file=sys.stderr, flush=True)
    bare, fish = results["bare"], results["fish"]
    rate_ratio = [f["rate"] / b["rate"] for b, f in zip(bare, fish, strict=True)]
    cpu_ratio = [f["cpu_us"] / b["cpu_us"] for b, f in zip(bare, fish, strict=True)]
    on_medians = statistics.median(r["rate"] for r in fish) / statistics.median(
        r["rate"] for r in bare
    )
    return [
        f"Chat flood: {args.messages} messages from 8 members, {args.rounds} rounds "
        "(median (min-max))",
        "",
        "| figure | bare discord.py | Fish Bot | paired ratio (Fish/bare) |",
        "|---|---|---|---|",
        f"| messages/s | {med([r['rate'] for r in bare])} | {med([r['rate'] for r in fish])} "
        f"| {med(rate_ratio)} |",
        f"| CPU µs per message | {med([r['cpu_us'] for r in bare])} "
        f"| {med([r['cpu_us'] for r in fish])} | {med(cpu_ratio)} |",
        f"| RSS after the flood, MB | {med([r['rss'] for r in bare])} "
        f"| {med([r['rss'] for r in fish])} | |",
        f"| rate ratio on medians | | | {on_medians:.3g} |",
    ]


# --- latency --------------------------------------------------------------------------------

FISH_COMMANDS = (
    # (name, prefix text built from a target member, text the reply contains)
    ("warn", "!warn {target} latency check", "Case #"),
    ("snippet", "!snippet list", ""),
    ("rank", "!rank", ""),
)


async def latency_once(kind: str, folder: Path, count: int) -> dict[str, list[float] | str]:
    async with running(kind, folder, members=40) as (fake, _bot, guild):
        fake.record_requests = False
        author = fake.members_of(guild)[0]
        out: dict[str, list[float] | str] = {}
        for _ in range(10):  # warm-up
            await command(fake, guild, author, "!ping", "Pong")
        out["ping"] = [
            (await command(fake, guild, author, "!ping", "Pong"))[0] for _ in range(count)
        ]
        if kind == "bare":
            return out
        await setup_mod_log(fake, guild)
        owner = owner_of(fake, guild)
        targets = fake.members_of(guild)[1:]
        for name, template, contains in FISH_COMMANDS:
            if not has_command(fake, name):
                out[name] = f"skipped: the bot has no `{name}` command"
                continue
            times = []
            for index in range(count + 5):
                text = template.format(target=targets[index % len(targets)].mention)
                sender = owner if name == "warn" else author
                seconds, _ = await command(fake, guild, sender, text, contains)
                if index >= 5:
                    times.append(seconds)
            out[name] = times
        return out


async def bench_latency(args: argparse.Namespace, folder: Path) -> list[str]:
    runs: dict[str, list[dict[str, Any]]] = {"bare": [], "fish": []}
    for index, kind in order(args.rounds):
        row = await latency_once(kind, folder / f"latency-{kind}-{index}", args.count)
        runs[kind].append(row)
        summary = {
            key: (f"{statistics.median(v) * 1000:.2f} ms" if isinstance(v, list) else v)
            for key, v in row.items()
        }
        print(f"  latency round {index} {kind}: {summary}", file=sys.stderr, flush=True)
    lines = [
        f"Command latency: {args.count} commands one at a time, {args.rounds} rounds; p50 / p99 "
        "in ms, median (min-max) over the rounds",
        "",
        "| command | bot | p50 ms | p99 ms | paired p50 ratio (Fish/bare) |",
        "|---|---|---|---|---|",
    ]

    def p(values: list[float], fraction: float) -> float:
        return percentile(values, fraction) * 1000

    bare_p50 = [p(r["ping"], 0.5) for r in runs["bare"]]
    fish_p50 = [p(r["ping"], 0.5) for r in runs["fish"]]
    ratios = [f / b for b, f in zip(bare_p50, fish_p50, strict=True)]
    lines.append(
        f"| ping | bare discord.py | {med(bare_p50)} | "
        f"{med([p(r['ping'], 0.99) for r in runs['bare']])} | |"
    )
    lines.append(
        f"| ping | Fish Bot | {med(fish_p50)} | "
        f"{med([p(r['ping'], 0.99) for r in runs['fish']])} | {med(ratios)} |"
    )
    for name, _, _ in FISH_COMMANDS:
        values = [r[name] for r in runs["fish"]]
        if any(isinstance(v, str) for v in values):
            note = next(v for v in values if isinstance(v, str))
            lines.append(f"| {name} | Fish Bot | {note} | | |")
            continue
        lines.append(
            f"| {name} | Fish Bot | {med([p(v, 0.5) for v in values])} | "
            f"{med([p(v, 0.99) for v in values])} | |"
        )
    return lines


# --- start-up -------------------------------------------------------------------------------

SCENARIOS = {
    "1 guild": {"guilds": 1},
    "200 guilds": {"guilds": 200},
    "10,000-member guild": {"chunked": 10_000},
}


async def startup_once(kind: str, folder: Path, scenario: dict[str, int]) -> dict[str, float]:
    async with running(kind, folder, **scenario) as (fake, bot, _guild):
        assert fake.first_request_at is not None
        first = fake.first_request_at - bot.started_at
        ready = time.perf_counter() - bot.started_at
        await asyncio.sleep(1.0)
        return {"first": first, "ready": ready, "rss": bot.rss_mb()}


async def bench_startup(args: argparse.Namespace, folder: Path) -> list[str]:
    lines = [
        f"Start-up: {args.rounds} starts of each bot per scenario (Fish Bot on a database "
        "already migrated); median (min-max)",
        "",
        "| scenario | figure | bare discord.py | Fish Bot | paired ratio (Fish/bare) |",
        "|---|---|---|---|---|",
    ]
    for label, scenario in SCENARIOS.items():
        runs: dict[str, list[dict[str, float]]] = {"bare": [], "fish": []}
        fish_folder = folder / f"startup-fish-{label.split()[0]}"
        # The first start migrates the database, syncs the commands and writes the bytecode
        # cache of both bots' libraries (the bare bot's are a subset): not measured.
        async with running("fish", fish_folder, **scenario):
            pass
        for index, kind in order(args.rounds):
            where = fish_folder if kind == "fish" else folder / f"startup-bare-{index}"
            row = await startup_once(kind, where, scenario)
            runs[kind].append(row)
            print(f"  startup {label} {index} {kind}: {row}", file=sys.stderr, flush=True)
        for key, name in (
            ("first", "process start to first Discord request, s"),
            ("ready", "process start to first answered !ping, s"),
            ("rss", "resident memory after ready, MB"),
        ):
            bare = [r[key] for r in runs["bare"]]
            fish = [r[key] for r in runs["fish"]]
            ratio = [f / b for b, f in zip(bare, fish, strict=True)]
            lines.append(f"| {label} | {name} | {med(bare)} | {med(fish)} | {med(ratio)} |")
    return lines


# --- database round trips -------------------------------------------------------------------

TRIP_KEYS = ("SELECT", "INSERT", "UPDATE", "DELETE", "BEGIN", "COMMIT", "ROLLBACK", "PING")


async def trips_once(backend: str, folder: Path) -> dict[str, dict[str, int]]:
    async with (
        Database(backend) as database,
        running("fish", folder, database_url=database.url, db_stats=True) as (fake, bot, guild),
    ):
        await setup_mod_log(fake, guild)
        owner = owner_of(fake, guild)
        member, *targets = fake.members_of(guild)
        operations = {
            "chat message": (member, ["hello there", "just chatting"], None),
            "!ping": (member, ["!ping", "!ping"], "Pong"),
            "!warn": (
                owner,
                [f"!warn {targets[0].mention} one", f"!warn {targets[1].mention} two"],
                "Case #",
            ),
            "!settings set": (
                owner,
                [
                    "!settings set Moderation dm_members false",
                    "!settings set Moderation dm_members true",
                ],
                "✅",
            ),
            "!cases view": (owner, ["!cases view 1", "!cases view 2"], "Case #"),
        }
        out = {}
        for name, (author, (warm, measured), contains) in operations.items():
            for index, text in enumerate((warm, measured)):
                await asyncio.sleep(0.5)
                before = await bot.db_counts()
                if contains is None:  # the !ping that follows costs no round trip either
                    await fake.message(guild, "general", author, text)
                    await command(fake, guild, member, "!ping", "Pong")
                else:
                    await command(fake, guild, author, text, contains)
                await asyncio.sleep(1.0)  # writes that wait a moment (settings) land
                after = await bot.db_counts()
                if index == 1:
                    diff = {k: after.get(k, 0) - before.get(k, 0) for k in set(after) | set(before)}
                    out[name] = {k: v for k, v in diff.items() if v}
        return out


async def bench_trips(args: argparse.Namespace, folder: Path) -> list[str]:
    lines = [
        "Database round trips of one operation (after a warm-up one of the same kind), counted "
        "in the bot process with SQLAlchemy events: each statement, BEGIN, COMMIT, ROLLBACK and "
        "pool pre-ping is one (a COMMIT with no driver transaction open, COMMIT_NOOP, sends "
        "nothing to the database and is not counted)",
        "",
        "| database | operation | round trips | of which |",
        "|---|---|---|---|",
    ]
    for backend in args.database:
        counted = await trips_once(backend, folder / f"trips-{backend}")
        for name, diff in counted.items():
            total = sum(v for k, v in diff.items() if not k.endswith("_NOOP"))
            parts = ", ".join(f"{k} {diff[k]}" for k in TRIP_KEYS if diff.get(k))
            other = {k: v for k, v in diff.items() if k not in TRIP_KEYS}
            if other:
                parts += ", " + ", ".join(f"{k} {v}" for k, v in sorted(other.items()))
            lines.append(f"| {backend} | {name} | {total} | {parts or '-'} |")
    return lines


# --- bursts ---------------------------------------------------------------------------------


async def burst(
    fake: FakeDiscord, guild: Guild, texts: list[tuple[Member, str]], ok: str, within: float
) -> dict[str, float]:
    """Send every message at once; each reply's time from the start; errors."""
    channel_id = guild.channel("general")["id"]
    path = f"/channels/{channel_id}/messages"
    replies: list[tuple[float, str]] = []
    done = asyncio.get_running_loop().create_future()

    def collect(request: Any) -> bool:
        if request.method == "POST" and request.path == path:
            replies.append((request.at, request.text()))
            if len(replies) == len(texts) and not done.done():
                done.set_result(None)
        return False

    waiter = asyncio.ensure_future(fake.wait_for(collect, within))
    events = [("MESSAGE_CREATE", fake.message_payload(guild, "general", a, t)) for a, t in texts]
    started = await fake.dispatch_many(events)
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(done, within)
    waiter.cancel()
    latencies = [at - started for at, _ in replies]
    errors = sum(1 for _, text in replies if ok not in text) + len(texts) - len(replies)
    return {
        "p50": percentile(latencies, 0.5) * 1000 if latencies else float("nan"),
        "p99": percentile(latencies, 0.99) * 1000 if latencies else float("nan"),
        "max": max(latencies) * 1000 if latencies else float("nan"),
        "errors": float(errors),
    }


async def burst_when_quiet(quiet: float, *args: Any) -> dict[str, float]:
    """:func:`burst` after ``quiet`` seconds (the previous burst's follow-ups are done)."""
    await asyncio.sleep(quiet)
    return await burst(*args)


async def bursts_once(backend: str, folder: Path, size: int) -> dict[str, dict[str, float]]:
    async with (
        Database(backend) as database,
        running("fish", folder, members=size + 2, database_url=database.url) as (
            fake,
            bot,
            guild,
        ),
    ):
        fake.record_requests = False
        await setup_mod_log(fake, guild)
        owner = owner_of(fake, guild)
        targets = fake.members_of(guild)
        within = 120.0
        quiet = 3.0  # each burst starts once the last one's follow-ups (DMs, mod log) are done
        results = {
            "warn": await burst(
                fake,
                guild,
                [(owner, f"!warn {m.mention} burst {i}") for i, m in enumerate(targets[:size])],
                "Case #",
                within,
            ),
            "settings set": await burst_when_quiet(
                quiet,
                fake,
                guild,
                [
                    (owner, f"!settings set Moderation dm_members {('true', 'false')[i % 2]}")
                    for i in range(size)
                ],
                "✅",
                within,
            ),
            "cases view": await burst_when_quiet(
                quiet,
                fake,
                guild,
                [(owner, f"!cases view {i % 10 + 1}") for i in range(size)],
                "Case #",
                within,
            ),
        }
        locked = bot.log_tail(100000).lower().count("database is locked")
        for row in results.values():
            row["locked"] = float(locked)
        return results


async def ping_burst_once(kind: str, folder: Path, size: int) -> dict[str, float]:
    """The floor: N ``!ping`` at once to a bot (the bare discord.py one or Fish Bot)."""
    async with running(kind, folder, members=size + 2) as (fake, _bot, guild):
        fake.record_requests = False
        authors = fake.members_of(guild)
        texts = [(authors[i % len(authors)], "!ping") for i in range(size)]
        row = await burst(fake, guild, texts, "Pong", 120.0)
        row["locked"] = 0.0
        return row


async def bare_warn_burst_once(folder: Path, size: int) -> dict[str, float]:
    """N ``!warn`` at once to the bare bot, whose warn only sends the three messages."""
    async with running("bare", folder, members=size + 2) as (fake, _bot, guild):
        fake.record_requests = False
        owner = owner_of(fake, guild)
        texts = [
            (owner, f"!warn {m.mention} burst {i}")
            for i, m in enumerate(fake.members_of(guild)[:size])
        ]
        row = await burst(fake, guild, texts, "Case #", 120.0)
        row["locked"] = 0.0
        return row


async def bench_bursts(args: argparse.Namespace, folder: Path) -> list[str]:
    lines = [
        "Bursts: N commands that all arrive at once (one websocket write each, back to back); "
        "each command's time from the burst's start to its reply",
        "",
        "| database | burst | command | p50 ms | p99 ms | max ms | errors | database is locked |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for backend in args.database:
        for size in args.sizes:
            for run in range(args.rounds):
                where = folder / f"bursts-{backend}-{size}-{run}"
                results = await bursts_once(backend, where, size)
                for name, row in results.items():
                    lines.append(
                        f"| {backend} | {size} | {name} | {row['p50']:.0f} | {row['p99']:.0f} "
                        f"| {row['max']:.0f} | {row['errors']:.0f} | {row['locked']:.0f} |"
                    )
                print("\n".join(lines[-3:]), file=sys.stderr, flush=True)
    # The same bursts of the cheapest command: what discord.py itself allows on this machine.
    for size in args.sizes:
        for run in range(args.rounds):
            for kind, label in (("bare", "bare discord.py"), ("fish", "Fish Bot")):
                row = await ping_burst_once(kind, folder / f"ping-burst-{kind}-{size}-{run}", size)
                lines.append(
                    f"| - | {size} | ping ({label}) | {row['p50']:.0f} | {row['p99']:.0f} "
                    f"| {row['max']:.0f} | {row['errors']:.0f} | - |"
                )
                print(lines[-1], file=sys.stderr, flush=True)
            row = await bare_warn_burst_once(folder / f"bare-warn-burst-{size}-{run}", size)
            lines.append(
                f"| - | {size} | warn's messages only (bare discord.py) | {row['p50']:.0f} "
                f"| {row['p99']:.0f} | {row['max']:.0f} | {row['errors']:.0f} | - |"
            )
            print(lines[-1], file=sys.stderr, flush=True)
    return lines


# --- main -----------------------------------------------------------------------------------

BENCHES = {
    "flood": bench_flood,
    "latency": bench_latency,
    "startup": bench_startup,
    "trips": bench_trips,
    "bursts": bench_bursts,
}


def parse(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("bench", choices=[*BENCHES, "all"])
    parser.add_argument("--messages", type=int, default=100_000)
    parser.add_argument("--count", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument(
        "--sizes", type=lambda text: [int(x) for x in text.split(",")], default=[50, 100, 200]
    )
    parser.add_argument(
        "--database",
        type=lambda text: [x.strip() for x in text.split(",") if x.strip()],
        default=["sqlite", *(["postgresql"] if PG_URL else [])],
    )
    args = parser.parse_args(argv)
    if "postgresql" in args.database and not PG_URL:
        parser.error("PostgreSQL needs FISHBOT_TEST_DATABASE_URL")
    return args


async def main(argv: list[str]) -> None:
    args = parse(argv)
    names = list(BENCHES) if args.bench == "all" else [args.bench]
    print(
        f"<!-- {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}: "
        f"bench/loopback/run.py {' '.join(argv)} -->"
    )
    with tempfile.TemporaryDirectory(prefix="fishbot-loopback-") as folder:
        BotProcess.bytecode_cache = Path(folder) / "bytecode"
        for name in names:
            lines = await BENCHES[name](args, Path(folder))
            print("\n".join(lines), "", sep="\n", flush=True)


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1:]))
