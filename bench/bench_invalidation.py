"""Cross-process cache invalidation latency: a committed change, seen by another process.

    FISHBOT_TEST_DATABASE_URL=postgresql+asyncpg://postgres@127.0.0.1:5432/test \\
        uv run python bench/bench_invalidation.py [--redis redis://127.0.0.1:6379/0]

One process (this one) makes 1,000 changes, one after another: each is a transaction that
stores a ``cog_setting`` row and announces it on the cache bus (``pg_notify`` in that
transaction; with Redis, a PUBLISH after the commit). A second process (a child started with
``multiprocessing``, its own database service and cache bus) listens and, in its subscriber
callback, takes the time. Latency runs from the start of the change's transaction to the
callback in the other process (same machine, wall clock). Prints the median, p99 and max per
transport, and the table for bench/RESULTS.md.
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import os
import statistics
import sys
import time
import uuid
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import create_async_engine

from fish_bot.database.coordinator import DatabaseCoordinator
from fish_bot.database.service import DatabaseService

PG_URL = os.environ.get("FISHBOT_TEST_DATABASE_URL", "").strip()
CHANGES = 1000
TOPIC = "bench"


async def _admin(statement: str) -> None:
    engine = create_async_engine(PG_URL, isolation_level="AUTOCOMMIT")
    try:
        async with engine.connect() as connection:
            await connection.execute(sa.text(statement))
    finally:
        await engine.dispose()


async def _listen(url: str, redis_url: str, channel: str, ready: Any, out: Any) -> None:
    service = DatabaseService(url)
    await service.connect()
    bus = service.bus
    bus.configure(redis_url=redis_url or None)
    bus.channel = channel
    latencies: list[float] = []
    done = asyncio.Event()

    def heard(event: Any) -> None:
        if event.key is None:
            return
        latencies.append(time.time() - float(event.key))
        if len(latencies) >= CHANGES:
            done.set()

    bus.subscribe(TOPIC, heard)
    await bus.start()
    ready.set()
    await asyncio.wait_for(done.wait(), timeout=300)
    out.put(latencies)
    await bus.stop()
    await service.disconnect()


def _child(url: str, redis_url: str, channel: str, ready: Any, out: Any) -> None:
    asyncio.run(_listen(url, redis_url, channel, ready, out))


async def _changes(url: str, redis_url: str, channel: str) -> None:
    service = DatabaseService(url)
    await service.connect()
    service.bus.configure(redis_url=redis_url or None)
    service.bus.channel = channel
    db = DatabaseCoordinator(service)
    for index in range(CHANGES):
        started = time.time()
        async with db.transaction():
            await db.cog_setting.set_value("bench", "n", index)
            await service.bus.publish(TOPIC, None, f"{started:.6f}")
        await asyncio.sleep(0.002)  # one change after another, not a burst
    await service.bus.stop()
    await service.disconnect()


def run(url: str, redis_url: str) -> list[float]:
    channel = f"fishbot_bench_{uuid.uuid4().hex[:8]}"
    context = multiprocessing.get_context("spawn")
    ready, out = context.Event(), context.Queue()
    child = context.Process(target=_child, args=(url, redis_url, channel, ready, out))
    child.start()
    if not ready.wait(60):
        child.kill()
        raise SystemExit("the listening process did not start")
    asyncio.run(_changes(url, redis_url, channel))
    latencies: list[float] = out.get(timeout=300)
    child.join(30)
    return latencies


def summary(latencies: list[float]) -> tuple[float, float, float]:
    ms = sorted(value * 1000 for value in latencies)
    p99 = ms[min(len(ms) - 1, int(len(ms) * 0.99))]
    return statistics.median(ms), p99, ms[-1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--redis", default="", help="also measure over this Redis URL")
    args = parser.parse_args()
    if not PG_URL:
        sys.exit("set FISHBOT_TEST_DATABASE_URL (the bus is off on SQLite: one process)")
    from fish_bot.database import migrations

    database = f"fb_bench_{uuid.uuid4().hex[:8]}"
    asyncio.run(_admin(f'CREATE DATABASE "{database}"'))
    url = make_url(PG_URL).set(database=database).render_as_string(hide_password=False)
    try:

        async def migrate() -> None:
            service = DatabaseService(url)
            await service.connect()
            await migrations.upgrade(service)
            await service.disconnect()

        asyncio.run(migrate())
        rows = []
        transports = [("postgresql LISTEN/NOTIFY", "")]
        if args.redis:
            transports.append(("Redis pub/sub", args.redis))
        for name, redis_url in transports:
            latencies = run(url, redis_url)
            median, p99, worst = summary(latencies)
            rows.append(f"| {name} | {len(latencies)} | {median:.2f} | {p99:.2f} | {worst:.2f} |")
        print("| transport | changes | median ms | p99 ms | max ms |")
        print("|---|---|---|---|---|")
        print("\n".join(rows))
    finally:
        asyncio.run(_admin(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)'))


if __name__ == "__main__":
    main()
