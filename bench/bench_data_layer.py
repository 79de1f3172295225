"""Benchmarks of the data-layer paths Fish Bot leans on (not part of the test run).

    uv run python bench/bench_data_layer.py                       # SQLite only
    FISHBOT_TEST_DATABASE_URL=postgresql+asyncpg://postgres@127.0.0.1:5432/test \\
        uv run python bench/bench_data_layer.py                   # SQLite and PostgreSQL

Measures, per database:
* case allocation: ``CaseController.insert_case`` from 50 concurrent tasks (numbers must come
  out 1..N with no gap; the benchmark checks it);
* a settings read (``ConfigManager.get``, served from memory);
* a permission decision's stored layers (``PermissionStore`` after the guild is cached).

PostgreSQL runs in a schema of its own, dropped afterwards.
"""

from __future__ import annotations

import asyncio
import os
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import create_async_engine

from fish_bot.core.permission_store import PermissionStore
from fish_bot.core.settings.manager import ConfigManager, parse_settings_config
from fish_bot.database import migrations
from fish_bot.database.coordinator import DatabaseCoordinator
from fish_bot.database.service import DatabaseService

CASES = 1000
CONCURRENCY = 50
READS = 100_000


async def bench_cases(db: DatabaseCoordinator) -> dict[str, float]:
    guild_id = 1
    queue = list(range(CASES))

    async def worker() -> None:
        while queue:
            queue.pop()
            await db.case.insert_case(
                guild_id=guild_id,
                case_user_id=42,
                case_moderator_id=7,
                case_type="WARN",
                case_reason="benchmark",
            )

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(CONCURRENCY)))
    elapsed = time.perf_counter() - started
    numbers = sorted(case.case_number for case in await db.case.find_all({"guild_id": guild_id}))
    assert numbers == list(range(1, CASES + 1)), "case numbers have a gap or a duplicate"
    return {"cases_per_s": CASES / elapsed, "ms_per_case": elapsed / CASES * 1000}


async def bench_settings(db: DatabaseCoordinator) -> dict[str, float]:
    manager = ConfigManager(db)
    manager.register("Bench", parse_settings_config("Bench", {"x": (5, "X", "type.int")}))
    await manager.load()
    await manager.set("Bench", "x", 9, 1)
    started = time.perf_counter()
    for _ in range(READS):
        manager.get("Bench", "x", 1)
    elapsed = time.perf_counter() - started
    return {"settings_get_us": elapsed / READS * 1e6}


async def bench_rules(db: DatabaseCoordinator) -> dict[str, float]:
    store = PermissionStore(db)
    await store.set_role_rank(1, 100, 5)
    await store.deny(1, "warn", "role", 200)
    await store.role_ranks(1)  # the first read of a guild loads it (one query per table)
    queries = db.service.stats.queries
    samples = []
    for _ in range(5):
        started = time.perf_counter()
        for _ in range(READS // 10):
            await store.command_rules(1, "warn")
            await store.role_ranks(1)
        samples.append((time.perf_counter() - started) / (READS // 10) * 1e6)
    assert db.service.stats.queries == queries, "cached rule reads must do no I/O"
    return {"rule_lookup_us": statistics.median(samples)}


async def run_on(url: str, options: dict[str, Any]) -> dict[str, float]:
    service = DatabaseService(url, engine_options=options)
    await service.connect()
    try:
        await migrations.upgrade(service)
        db = DatabaseCoordinator(service)
        results: dict[str, float] = {}
        results.update(await bench_cases(db))
        results.update(await bench_settings(db))
        results.update(await bench_rules(db))
        return results
    finally:
        await service.disconnect()


async def main() -> None:
    rows: list[tuple[str, dict[str, float]]] = []
    with tempfile.TemporaryDirectory() as folder:
        url = f"sqlite+aiosqlite:///{(Path(folder) / 'bench.db').as_posix()}"
        rows.append(("sqlite", await run_on(url, {})))
    pg = os.environ.get("FISHBOT_TEST_DATABASE_URL", "").strip()
    if pg:
        schema = f"bench_{uuid.uuid4().hex[:8]}"
        admin = create_async_engine(pg)
        async with admin.begin() as conn:
            await conn.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
        try:
            options = {"connect_args": {"server_settings": {"search_path": schema}}}
            rows.append(("postgresql", await run_on(pg, options)))
        finally:
            async with admin.begin() as conn:
                await conn.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))
            await admin.dispose()
    print(f"{CASES} cases from {CONCURRENCY} concurrent tasks; {READS} reads", file=sys.stderr)
    print("| database | cases/s | ms per case | settings get (µs) | cached rule lookup (µs) |")
    print("|---|---|---|---|---|")
    for name, r in rows:
        print(
            f"| {name} | {r['cases_per_s']:.0f} | {r['ms_per_case']:.2f} | "
            f"{r['settings_get_us']:.2f} | {r['rule_lookup_us']:.2f} |"
        )


if __name__ == "__main__":
    asyncio.run(main())
