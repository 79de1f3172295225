"""/healthz and /metrics of a real FishBot under SimCord, over a real socket on 127.0.0.1."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import aiohttp
import pytest
import simcord
from discord.ext import commands

from fish_bot.config import Settings
from fish_bot.monitoring.metrics import render_metrics

from .conftest import OWNER_ID


@pytest.fixture
def fish_settings(tmp_path: Path) -> Settings:
    """The usual test settings, with the health endpoint on a free port of 127.0.0.1."""
    return Settings(data_dir=tmp_path / "data", prefix="!", owner_ids=[OWNER_ID], health_port=0)


def base_url(env: simcord.Env) -> str:
    server = env.bot.monitor.server
    assert server is not None and server.running and server.port
    return f"http://127.0.0.1:{server.port}"


async def get(env: simcord.Env, path: str) -> tuple[int, str, Any]:
    async with (
        aiohttp.ClientSession() as session,
        session.get(base_url(env) + path, timeout=aiohttp.ClientTimeout(total=10)) as response,
    ):
        text = await response.text()
        body = await response.json() if response.content_type == "application/json" else None
        return response.status, text, body


def _series(name_and_labels: str) -> tuple[str, frozenset[str]]:
    """A sample's name and its set of ``key="value"`` labels (their order does not matter)."""
    name, _, labels = name_and_labels.partition("{")
    return name, frozenset(part for part in labels.rstrip("}").split(",") if part)


def sample(text: str, series: str) -> float:
    """The value of the sample ``name{labels}`` (labels in any order)."""
    wanted = _series(series)
    for line in text.splitlines():
        if line.startswith("#") or " " not in line:
            continue
        name_and_labels, value = line.rsplit(" ", 1)
        if _series(name_and_labels) == wanted:
            return float(value)
    raise AssertionError(f"no sample {series!r} in:\n{text}")


async def test_healthz_ok_when_ready(env: simcord.Env, world: Any) -> None:
    status, _text, body = await get(env, "/healthz")
    assert status == 200
    assert body["status"] == "ok"
    assert body["gateway"]["connected"] is True
    assert body["gateway"]["guilds"] == 1
    assert body["database"]["ok"] is True
    assert body["database"]["dialect"] == "sqlite"
    assert body["cogs"]["Core"] == {
        "ready": True,
        "paused": False,
        "errors": False,
        "last_error": None,
    }
    assert body["cog_load_errors"] == {}


async def test_healthz_503_when_database_is_down(env: simcord.Env, world: Any) -> None:
    await env.bot.database.disconnect()
    status, _text, body = await get(env, "/healthz")
    assert status == 503
    assert body["status"] == "unhealthy"
    assert body["database"]["ok"] is False
    assert body["gateway"]["connected"] is True


async def test_healthz_degraded_when_a_cog_failed_to_load(env: simcord.Env, world: Any) -> None:
    await env.bot.load_cog("fish_bot.cogs.does_not_exist")
    status, _text, body = await get(env, "/healthz")
    assert status == 200
    assert body["status"] == "degraded"
    assert "fish_bot.cogs.does_not_exist" in body["cog_load_errors"]


async def test_metrics_count_commands_errors_and_events(env: simcord.Env, world: Any) -> None:
    @commands.command(name="boom")
    async def boom(ctx: commands.Context[Any]) -> None:
        raise RuntimeError("kaboom")

    env.bot.add_command(boom)

    await world.member.send(world.general, "!ping")
    await world.member.send(world.general, "!ping")
    await world.member.slash(world.general, "ping")
    await world.member.send(world.general, "!cog list")  # owners only: denied
    await world.member.send(world.general, "!boom")
    assert "error id" in world.general.last_message.content
    env.errors  # noqa: B018 - the unexpected error above is on purpose

    status, text, _body = await get(env, "/metrics")
    assert status == 200
    assert sample(text, 'fishbot_commands_total{command="ping",type="prefix"}') == 2
    assert sample(text, 'fishbot_commands_total{command="ping",type="slash"}') == 1
    assert sample(text, 'fishbot_command_errors_total{command="cog list",category="denied"}') == 1
    assert sample(text, 'fishbot_command_errors_total{command="boom",category="unexpected"}') == 1
    assert sample(text, 'fishbot_unexpected_errors_total{type="RuntimeError"}') == 1
    assert sample(text, 'fishbot_command_duration_seconds_count{command="ping"}') == 3
    assert sample(text, 'fishbot_command_duration_seconds_bucket{command="ping",le="+Inf"}') == 3
    assert sample(text, 'fishbot_events_total{event="message"}') >= 5
    assert sample(text, "fishbot_ready") == 1
    assert sample(text, "fishbot_guilds") == 1
    assert sample(text, 'fishbot_cog_ready{cog="Core"}') == 1
    assert sample(text, 'fishbot_db_queries_total{dialect="sqlite"}') > 0
    assert 'fishbot_db_pool_connections{state="checked_out"}' in text
    # Every family has HELP and TYPE lines, and every sample line parses.
    for line in text.splitlines():
        if line.startswith("#"):
            assert line.startswith(("# HELP fishbot_", "# TYPE fishbot_"))
        else:
            name_and_labels, value = line.rsplit(" ", 1)
            float(value)
            assert name_and_labels.startswith("fishbot_")


async def test_metrics_expose_exactly_the_documented_families(env: simcord.Env, world: Any) -> None:
    """The metric names stay those documented in docs/operations.md (dashboards rely on them)."""
    await world.member.send(world.general, "!ping")
    text = render_metrics(env.bot, env.bot.monitor.metrics)
    exposed = {line.split()[2] for line in text.splitlines() if line.startswith("# TYPE ")}
    table = (Path(__file__).parents[2] / "docs" / "operations.md").read_text(encoding="utf-8")
    documented = set(re.findall(r"`(fishbot_[a-z0-9_]+)`", table))
    assert exposed == documented


async def test_metrics_show_task_tracker_statistics(env: simcord.Env, world: Any) -> None:
    core = env.bot.get_cog("Core")
    async with core.task_tracker.task_context("Cleanup"):
        pass
    text = render_metrics(env.bot, env.bot.monitor.metrics)
    assert sample(text, 'fishbot_task_runs_total{cog="Core",task="Cleanup"}') >= 1
    assert sample(text, 'fishbot_task_failures_total{cog="Core",task="Cleanup"}') == 0
    assert 'fishbot_task_duration_p95_seconds{cog="Core",task="Cleanup"}' in text


async def test_server_stops_with_the_bot(env: simcord.Env, world: Any) -> None:
    url = base_url(env)
    await env.bot.close()
    assert env.bot.monitor.server is None
    with pytest.raises(aiohttp.ClientConnectionError):
        async with aiohttp.ClientSession() as session:
            await session.get(url + "/healthz", timeout=aiohttp.ClientTimeout(total=5))
