"""Every cog's on_message listeners run in one task per message (FishBot.dispatch): in order,
each gated by its cog's pause, one that fails reported without stopping the others."""

from __future__ import annotations

import asyncio
from typing import Any

import discord
import pytest
import simcord

from fish_bot.core.decorators import cog_listener


async def test_listeners_share_one_task_and_a_failure_stops_none(
    env: simcord.Env, world: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen: list[tuple[str, str | None]] = []
    errors: list[str] = []

    async def failing(message: discord.Message) -> None:
        seen.append(("failing", _task_name()))
        raise RuntimeError("listener on fire")

    async def counting(message: discord.Message) -> None:
        await asyncio.sleep(0)  # a listener that waits still lets the next one run after it
        seen.append(("counting", _task_name()))

    async def on_error(event: str, *args: Any, **kwargs: Any) -> None:
        errors.append(event)

    monkeypatch.setattr(env.bot, "on_error", on_error)
    env.bot.add_listener(failing, "on_message")
    env.bot.add_listener(counting, "on_message")

    await world.member.send(world.general, "hello there")

    assert [name for name, _ in seen] == ["failing", "counting"]
    assert len({task for _, task in seen}) == 1  # one task for both
    assert seen[0][1] == "fish-bot: on_message listeners"
    assert errors == ["on_message"]

    env.bot.remove_listener(failing, "on_message")
    seen.clear()
    await world.member.send(world.general, "again")
    assert [name for name, _ in seen] == ["counting"]
    # Commands keep their own task: ping still answers.
    await world.member.send(world.general, "!ping")
    assert world.general.last_message.content == "Pong!"


async def test_a_paused_cogs_listener_is_skipped_in_the_shared_task(
    env: simcord.Env, world: Any
) -> None:
    cog = env.bot.get_cog("Core")
    assert cog is not None
    calls: list[int] = []

    @cog_listener("on_message")
    async def listen(self: Any, message: discord.Message) -> None:
        calls.append(message.guild.id if message.guild else 0)

    bound = listen.__get__(cog)
    env.bot.add_listener(bound, "on_message")
    await world.member.send(world.general, "one")
    await cog.pause(world.guild.id)
    await world.member.send(world.general, "two")
    await cog.resume(world.guild.id)
    await world.member.send(world.general, "three")

    assert calls == [world.guild.id, world.guild.id]


def _task_name() -> str | None:
    task = asyncio.current_task()
    return task.get_name() if task is not None else None


async def test_event_hooks_run_inside_dispatch_and_a_failing_one_is_only_logged(
    env: simcord.Env, world: Any, caplog: pytest.LogCaptureFixture
) -> None:
    seen: list[str] = []

    def broken(ctx: Any) -> None:
        raise RuntimeError("hook on fire")

    env.bot.add_event_hook("on_command", broken)
    env.bot.add_event_hook("on_command", lambda ctx: seen.append(ctx.command.name))

    await world.member.send(world.general, "!ping")

    assert world.general.last_message.content == "Pong!"
    assert seen == ["ping"]
    assert "An event hook of command failed" in caplog.text
