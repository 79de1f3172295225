"""Slash commands are synced only when their definitions change, or on the owner's `sync`."""

from __future__ import annotations

from collections.abc import Callable

import simcord

from fish_bot.bot import BUILTIN_COGS, FishBot

from .conftest import World


def sync_calls(env: simcord.Env) -> int:
    """How many times the bot replaced its global application commands."""
    return sum(
        1
        for entry in env.http_requests
        if entry.method == "PUT" and entry.path.rstrip("/").endswith("/commands")
    )


async def restart(env: simcord.Env, make_bot: Callable[..., FishBot], cogs: list[str]) -> FishBot:
    await env.bot.close()
    bot = make_bot(cogs)
    await env.restart_bot(bot)
    return bot


async def test_sync_happens_only_when_definitions_change(
    env: simcord.Env, world: World, make_bot: Callable[..., FishBot]
) -> None:
    first = env.bot
    assert isinstance(first, FishBot)
    assert first.app_commands_synced  # a fresh database: the first start syncs
    assert sync_calls(env) == 1

    # Same cogs, same definitions: the restart does not sync.
    second = await restart(env, make_bot, list(BUILTIN_COGS))
    assert not second.app_commands_synced
    assert sync_calls(env) == 1
    result = await world.member.slash(world.general, "ping")
    assert result.response is not None and result.response.content == "Pong!"

    # A new cog brings new commands: the next start syncs them.
    third = await restart(env, make_bot, [*BUILTIN_COGS, "fish_bot.cogs.example"])
    assert third.app_commands_synced
    assert sync_calls(env) == 2
