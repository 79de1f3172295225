"""/healthz and /metrics of a real FishBot under SimCord, over a real socket on 127.0.0.1."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import aiohttp
import discord
import pytest
import simcord
from discord.ext import commands

from fish_bot.bot import FishBot
from fish_bot.config import Settings
from fish_bot.exceptions import DatabaseUnavailable
from fish_bot.monitoring.metrics import render_metrics

from .conftest import sqlite_file
from .outage import Outage


@pytest.fixture
def fish_settings(fish_settings: Settings) -> Settings:
    """The usual test settings (on PostgreSQL too for a test asking for ``db_backend``), with
    the health endpoint on a free port of 127.0.0.1."""
    return fish_settings.model_copy(update={"health_port": 0})


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


# --- the database goes away and comes back -------------------------------------------------


async def test_healthz_is_503_while_the_database_is_unreachable_and_200_once_it_is_back(
    env: simcord.Env, world: Any, db_backend: str
) -> None:
    assert env.bot.database.dialect == db_backend
    outage = Outage(env.bot)
    assert (await get(env, "/healthz"))[0] == 200

    await outage.start()
    for _ in range(2):  # and it stays 503 while the database is away
        status, _text, body = await get(env, "/healthz")
        assert status == 503
        assert body["status"] == "unhealthy"
        assert body["database"]["ok"] is False
        assert any(reason.startswith("the database does not answer") for reason in body["reasons"])

    outage.stop()
    status, _text, body = await get(env, "/healthz")
    assert status == 200
    assert body["status"] == "ok"
    assert body["reasons"] == []
    assert await say(world.member, world.general, "!ping") == "Pong!"


# --- the job scheduler cannot start ----------------------------------------------------------


async def say(actor: Any, channel: Any, text: str) -> Any:
    sent = await actor.send(channel, text)
    answers = [m for m in channel.history() if m.id > sent.id and m.author.bot]
    assert answers, f"no reply to {text!r}"
    last = answers[-1]
    return last.content if not last.embeds else last


@pytest.mark.usefixtures("virtual_scheduler_retries")
async def test_a_scheduler_that_fails_to_start_is_retried_and_reported_until_it_starts(
    env: simcord.Env,
    world: Any,
    make_bot: Callable[..., FishBot],
    caplog: pytest.LogCaptureFixture,
) -> None:
    bot = make_bot()
    controller = bot.db.scheduled_job
    reset_stale_running = controller.reset_stale_running
    failures = 2

    async def first_writes_fail() -> int:
        nonlocal failures
        if failures:
            failures -= 1
            raise DatabaseUnavailable("the database dropped right after start-up")
        return await reset_stale_running()

    controller.reset_stale_running = first_writes_fail  # type: ignore[method-assign]
    await env.bot.close()
    await env.restart_bot(bot)
    assert not bot.scheduler.is_running

    # /healthz: 503 with the reason.
    status, _text, body = await get(env, "/healthz")
    assert status == 503
    assert body["gateway"]["connected"] is True and body["database"]["ok"] is True
    assert body["scheduler"]["running"] is False
    assert body["reasons"] == [
        "the job scheduler is not running: DatabaseUnavailable: the database dropped right "
        "after start-up"
    ]
    # status: the reason, for whoever asks.
    reply = await say(world.member, world.general, "!status")
    fields = {field.name: field.value for field in reply.embeds[0].fields}
    assert fields["Job scheduler"].startswith(
        "❌ not running: DatabaseUnavailable: the database dropped right after start-up"
    )
    # The log: every failed attempt, with when it tries again.
    assert "The job scheduler could not start (attempt 1)" in caplog.text
    assert "retrying in 5s" in caplog.text

    # A job scheduled meanwhile is kept and runs once the scheduler starts.
    ran: list[int] = []

    async def probe(job: Any) -> None:
        ran.append(job.id)

    bot.scheduler.register_handler("test.probe", probe)
    job_id = await bot.scheduler.schedule("test.probe", discord.utils.utcnow())
    assert ran == []

    await env.advance_time(5)  # the second attempt fails too, then waits 10 s
    assert not bot.scheduler.is_running
    assert "The job scheduler could not start (attempt 2)" in caplog.text
    await env.advance_time(11)
    assert bot.scheduler.is_running
    assert ran == [job_id]
    assert "The job scheduler started after 2 failed attempt(s)" in caplog.text

    status, _text, body = await get(env, "/healthz")
    assert status == 200
    assert body["scheduler"]["running"] is True and body["scheduler"]["start_error"] is None
    reply = await say(world.member, world.general, "!status")
    fields = {field.name: field.value for field in reply.embeds[0].fields}
    assert fields["Job scheduler"] == "✅ running"


@pytest.mark.usefixtures("virtual_scheduler_retries")
async def test_a_read_only_database_file_keeps_the_scheduler_reported_and_retrying(
    env: simcord.Env,
    world: Any,
    make_bot: Callable[..., FishBot],
    fish_settings: Settings,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Issue 16: the scheduler's first write fails on a database file that can only be read
    (opened read-only: the tests run as root, whom file permissions do not stop). Reads
    still work; the scheduler is reported down and tried again until a start works."""
    path = sqlite_file(fish_settings).as_posix()
    await env.bot.close()
    bot = make_bot(database_url=f"sqlite+aiosqlite:///file:{path}?mode=ro&uri=true")
    await env.restart_bot(bot)
    assert not bot.scheduler.is_running

    status, _text, body = await get(env, "/healthz")
    assert status == 503
    assert body["database"]["ok"] is True  # it answers reads
    [reason] = body["reasons"]
    assert reason.startswith("the job scheduler is not running: OperationalError")
    assert "attempt to write a readonly database" in reason
    reply = await say(world.member, world.general, "!status")
    fields = {field.name: field.value for field in reply.embeds[0].fields}
    assert fields["Job scheduler"].startswith("❌ not running: OperationalError")
    assert "The job scheduler could not start (attempt 1)" in caplog.text
    await env.advance_time(6)
    assert "The job scheduler could not start (attempt 2)" in caplog.text
    assert not bot.scheduler.is_running
    env.errors  # noqa: B018  (the other loops' failed writes, logged)
