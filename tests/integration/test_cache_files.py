"""Cache-data files through the real bot: periodic saves as cog loops, files refused at load."""

from __future__ import annotations

import asyncio
import json
import os
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest
import simcord

from fish_bot.config import Settings

from .conftest import say

COGS = ["fish_bot.cogs.admin", "fish_bot.cogs.example"]


@pytest.fixture
def bot_cogs() -> Sequence[str]:
    return COGS


@pytest.fixture
def fish_settings(fish_settings: Settings) -> Settings:
    """A small cache size limit, so that a test file can exceed it."""
    return fish_settings.model_copy(update={"cache_file_max_bytes": 4096})


def cache_file(settings: Settings) -> Path:
    return Path(settings.data_dir) / "cogs" / "example" / "example_cache.json"


def example(env: simcord.Env) -> Any:
    cog = env.bot.get_cog("Example")
    assert cog is not None
    return cog


async def test_periodic_saves_skip_while_the_cog_is_paused_and_are_tracked(
    env: simcord.Env, world: Any, fish_settings: Settings
) -> None:
    path = cache_file(fish_settings)
    await say(world.member, world.general, "!example count")
    await example(env).pause()
    await env.advance_time(301)  # cache_save_interval: 5 minutes
    assert not path.exists()  # paused: the loop skipped its save
    assert example(env).is_data_modified(example(env).cache_file)

    await example(env).resume()
    await env.advance_time(301)
    assert json.loads(path.read_text(encoding="utf-8"))["counters"] == {str(world.guild.id): 1}
    stats = example(env).task_tracker.all_stats()
    assert stats["Save example_cache.json"].runs >= 1


@pytest.fixture
def stale_temp(fish_settings: Settings) -> Path:
    """A temp file a killed write left beside the cache file, before the bot starts."""
    folder = cache_file(fish_settings).parent
    folder.mkdir(parents=True, exist_ok=True)
    temp = folder / ".example_cache.json.0a1b2c3d4e5f.tmp"
    temp.write_text('{"counters": {', encoding="utf-8")
    os.utime(temp, (time.time() - 60, time.time() - 60))
    return temp


async def test_stale_temp_files_are_removed_when_the_cog_loads(
    stale_temp: Path, env: simcord.Env, world: Any
) -> None:
    assert not await asyncio.to_thread(stale_temp.exists)
    counted = await say(world.member, world.general, "!example count")
    assert counted.content == "🔢 The counter is at 1 (+1)."


@pytest.fixture(params=["directory", "too large"])
def bad_cache(request: pytest.FixtureRequest, fish_settings: Settings) -> str:
    """Something at the cache path that cannot be loaded, put there before the bot starts."""
    path = cache_file(fish_settings)
    path.parent.mkdir(parents=True, exist_ok=True)
    if request.param == "directory":
        (path / "inside").mkdir(parents=True)
    else:
        big = {"counters": {str(n): n for n in range(1000)}, "clicks": {}, "messages": {}}
        path.write_text(json.dumps(big), encoding="utf-8")
        assert path.stat().st_size > 4096
    return str(request.param)


async def test_a_cache_path_that_cannot_be_loaded_is_quarantined_and_the_cog_runs(
    bad_cache: str, env: simcord.Env, world: Any, fish_settings: Settings
) -> None:
    path = cache_file(fish_settings)
    assert len(list(path.parent.glob("example_cache.json.corrupt-*"))) == 1
    status = await say(world.owner, world.general, "!status example")
    fields = {field.name: field.value for field in status.embeds[0].fields}
    assert "Corrupt data file example_cache.json moved aside" in fields["Errors"]
    expected = "a directory" if bad_cache == "directory" else "over the size limit"
    assert expected in fields["Errors"]
    counted = await say(world.member, world.general, "!example count")
    assert counted.content == "🔢 The counter is at 1 (+1)."  # started from the default
