"""How long a large cache's save holds up the event loop (issue 16's ``save_data`` point).

    uv run python bench/bench_cache_save.py [--entries 330000 700000] [--rounds 3]

For each size, a cache shaped like most cogs' (one key holding a dict of members, each a small
dict with a list) is saved while a ticker task sleeps 1 ms at a time and records the longest
gap between its wake-ups: the longest the loop could not answer anything. Two ways of saving:

* ``on the loop``: the same JSON (``to_json_text``: ``json.dumps(indent=2)``) and a plain
  write, as a bot without a data store does (the baseline: the whole save is one stall);
* ``CogDataStore``: ``save_data`` (a consistent snapshot on the loop, then the JSON made and
  written piece by piece in a worker thread).

The cache is collected once after it is built (a cache a bot has held for a while). Prints the
median of the rounds and the table for bench/RESULTS.md.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import logging
import statistics
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from fish_bot.core.data import CogDataStore
from fish_bot.core.snapshot import to_json_text


def make_cache(entries: int) -> dict[str, Any]:
    return {
        "users": {
            str(n): {"xp": n, "name": f"user number {n}", "tags": ["a", "b"], "seen": [n, n + 1]}
            for n in range(entries)
        }
    }


async def longest_stall(save: Callable[[], Awaitable[None]]) -> tuple[float, float]:
    """(seconds the save took, the longest gap between the ticker's 1 ms wake-ups)."""
    worst = 0.0
    running = True

    async def ticker() -> None:
        nonlocal worst
        last = time.perf_counter()
        while running:
            await asyncio.sleep(0.001)
            now = time.perf_counter()
            worst = max(worst, now - last)
            last = now

    task = asyncio.create_task(ticker())
    await asyncio.sleep(0.05)
    start = time.perf_counter()
    await save()
    took = time.perf_counter() - start
    running = False
    await task
    return took, worst


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--entries", type=int, nargs="+", default=[330_000, 700_000])
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    rows = []
    for entries in args.entries:
        cache = make_cache(entries)
        gc.collect()
        megabytes = len(to_json_text(cache)) / 1e6
        folder = Path(tempfile.mkdtemp(prefix="fishbot-bench-save-"))
        store = CogDataStore(folder, logging.getLogger("bench"), max_file_bytes=None)

        async def on_loop(cache: dict[str, Any] = cache, folder: Path = folder) -> None:
            (folder / "plain.json").write_text(to_json_text(cache), encoding="utf-8")

        async def data_store(cache: dict[str, Any] = cache, store: CogDataStore = store) -> None:
            await store.save_data(cache, "cache.json")

        for name, save in (("on the loop", on_loop), ("CogDataStore", data_store)):
            results = [await longest_stall(save) for _ in range(args.rounds)]
            took = statistics.median(r[0] for r in results)
            stall = statistics.median(r[1] for r in results)
            print(
                f"{megabytes:5.0f} MB  {name:13}  save {took:6.2f} s  longest stall {stall:6.3f} s"
            )
            rows.append((megabytes, name, took, stall, [r[1] for r in results]))
    print("\n| JSON size | save | took (median) | longest loop stall (median; rounds) |")
    print("|---|---|---|---|")
    for megabytes, name, took, stall, stalls in rows:
        each = ", ".join(f"{s * 1000:.0f}" for s in stalls)
        print(f"| {megabytes:.0f} MB | {name} | {took:.2f} s | {stall * 1000:.0f} ms ({each}) |")


if __name__ == "__main__":
    asyncio.run(main())
