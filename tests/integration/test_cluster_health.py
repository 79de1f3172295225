"""``/healthz`` and ``/metrics`` name this process's cluster node and shards."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import simcord

from fish_bot.config import Settings
from fish_bot.core.identify_lock import DEFAULT_API_BASE, apply_api_base
from fish_bot.monitoring.health import health_report
from fish_bot.monitoring.metrics import render_metrics

from .conftest import OWNER_ID


@pytest.fixture
def fish_settings(tmp_path: Path) -> Settings:
    return Settings(
        data_dir=tmp_path / "data", prefix="!", owner_ids=[OWNER_ID], cluster_name="eu-1"
    )


async def test_health_and_metrics_carry_the_node_name_and_shards(
    env: simcord.Env, world: Any
) -> None:
    status, body = await health_report(env.bot)
    assert status == 200
    assert body["cluster"] == {"node": "eu-1", "shard_count": "", "shard_ids": "all"}
    text = render_metrics(env.bot, env.bot.monitor.metrics)
    assert 'fishbot_cluster_node{node="eu-1",shard_count="",shard_ids="all"} 1.0' in text


def test_the_rest_base_points_discord_py_at_the_proxy() -> None:
    import discord.http

    try:
        assert apply_api_base("http://proxy:8080/api/v10/") == "http://proxy:8080/api/v10"
        route = discord.http.Route("GET", "/users/@me")
        assert route.url == "http://proxy:8080/api/v10/users/@me"
        # Not set: the base stays as the process has it (never reset behind a harness's back).
        assert apply_api_base("") == "http://proxy:8080/api/v10"
    finally:
        discord.http.Route.BASE = DEFAULT_API_BASE
