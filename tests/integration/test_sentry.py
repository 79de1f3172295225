"""Sentry: unexpected errors with their error id, command transactions, controller spans.

The SDK runs for real with a transport that keeps envelopes in memory (nothing leaves the
machine).
"""

from __future__ import annotations

import logging
import re
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import simcord
from discord.ext import commands

from fish_bot.config import Settings
from fish_bot.monitoring.sentry import INSTALL_HINT, init_sentry

from .conftest import OWNER_ID

sentry_sdk = pytest.importorskip("sentry_sdk")
from sentry_sdk.transport import Transport  # noqa: E402

DSN = "https://public@sentry.invalid/1"


class MemoryTransport(Transport):
    """Keeps every envelope instead of sending it."""

    def __init__(self) -> None:
        super().__init__()
        self.envelopes: list[Any] = []

    def capture_envelope(self, envelope: Any) -> None:
        self.envelopes.append(envelope)

    def events(self) -> list[dict[str, Any]]:
        return [e.get_event() for e in self.envelopes if e.get_event() is not None]

    def transactions(self) -> list[dict[str, Any]]:
        found = [e.get_transaction_event() for e in self.envelopes]
        return [t for t in found if t is not None]


@pytest.fixture
def transport() -> Iterator[MemoryTransport]:
    memory = MemoryTransport()
    yield memory
    sentry_sdk.get_client().close()
    sentry_sdk.get_global_scope().set_client(None)


@pytest.fixture
def fish_settings(tmp_path: Path, transport: MemoryTransport) -> Settings:
    settings = Settings(
        data_dir=tmp_path / "data",
        prefix="!",
        owner_ids=[OWNER_ID],
        sentry_dsn=DSN,
        sentry_traces_sample_rate=1.0,
        sentry_environment="test",
    )
    assert init_sentry(settings, transport=transport) is True
    return settings


def add_test_commands(bot: Any) -> None:
    @commands.command(name="boom")
    async def boom(ctx: commands.Context[Any]) -> None:
        raise RuntimeError("kaboom")

    @commands.command(name="touch")
    async def touch(ctx: commands.Context[Any]) -> None:
        await ctx.bot.db.guild.ensure(ctx.guild.id)
        await ctx.send("touched")

    bot.add_command(boom)
    bot.add_command(touch)


async def test_unexpected_error_is_sent_once_with_its_error_id(
    env: simcord.Env, world: Any, transport: MemoryTransport
) -> None:
    add_test_commands(env.bot)
    await world.member.send(world.general, "!boom")
    env.errors  # noqa: B018 - on purpose
    match = re.search(r"error id `([0-9a-f]{8})`", world.general.last_message.content)
    assert match, world.general.last_message.content
    error_id = match.group(1)
    errors = [
        event
        for event in transport.events()
        if any(v.get("type") == "RuntimeError" for v in event["exception"]["values"])
    ]
    assert len(errors) == 1
    assert errors[0]["tags"]["error_id"] == error_id
    assert errors[0]["environment"] == "test"


async def test_command_transaction_holds_controller_spans(
    env: simcord.Env, world: Any, transport: MemoryTransport
) -> None:
    add_test_commands(env.bot)
    await world.member.send(world.general, "!touch")
    assert world.general.last_message.content == "touched"
    await env.advance_time(0)
    transactions = [t for t in transport.transactions() if t["transaction"] == "command touch"]
    assert len(transactions) == 1
    transaction = transactions[0]
    assert transaction["contexts"]["trace"]["op"] == "command"
    assert transaction["contexts"]["trace"]["status"] == "ok"
    spans = {span["description"]: span for span in transaction["spans"]}
    ensure = spans["GuildController.ensure"]
    assert ensure["op"] == "db.controller.ensure"
    assert ensure["tags"]["db.controller"] == "GuildController"
    assert ensure["tags"]["db.operation"] == "ensure"
    # ensure() calls get_or_create() on the same controller: a child span of ensure's.
    inner = spans["GuildController.get_or_create"]
    assert inner["parent_span_id"] == ensure["span_id"]


async def test_controller_calls_outside_commands_make_no_spans(
    env: simcord.Env, world: Any, transport: MemoryTransport
) -> None:
    before = len(transport.transactions())
    await env.bot.db.guild.ensure(world.guild.id)
    assert len(transport.transactions()) == before
    assert "ensure" in vars(env.bot.db.guild)  # instrumented on the instance


def test_no_dsn_means_no_instrumentation(tmp_path: Path) -> None:
    from fish_bot.bot import FishBot

    bot = FishBot(Settings(data_dir=tmp_path))
    assert bot.db.instrumentation is None
    controller = bot.db.guild
    assert "ensure" not in vars(controller)  # plain class methods: nothing wraps them


def test_missing_sdk_logs_one_clear_warning(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setitem(sys.modules, "sentry_sdk", None)  # "not installed"
    caplog.set_level(logging.WARNING, logger="fish_bot.monitoring.sentry")
    assert init_sentry(Settings(data_dir=tmp_path, sentry_dsn=DSN)) is False
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert [r.getMessage() for r in warnings] == [INSTALL_HINT]
    assert "uv sync --extra sentry" in INSTALL_HINT
