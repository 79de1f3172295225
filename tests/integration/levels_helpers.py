"""Shared set-up of the levels tests: the cogs, the fixture and small readers."""

from __future__ import annotations

from typing import Any

import pytest
import simcord

from .conftest import World

COGS = ["fish_bot.cogs.admin", "fish_bot.cogs.levels"]


def cog(env: simcord.Env) -> Any:
    found = env.bot.get_cog("Levels")
    assert found is not None
    return found


@pytest.fixture
async def lw(env: simcord.Env, world: World) -> World:
    """The world with a fixed 20 XP a message (no randomness) and the default 60 s cooldown."""
    levels = cog(env)
    await levels.update_settings({"xp_min": 20, "xp_max": 20}, world.guild.id)
    return world


def xp(env: simcord.Env, world: World, actor: Any) -> int:
    state = cog(env).store.cache.peek(world.guild.id)
    entry = state.members.get(actor.id) if state is not None else None
    return entry.xp if entry is not None else 0


async def chat(env: simcord.Env, actor: Any, channel: Any, times: int = 1) -> None:
    """``times`` messages, each after the cooldown (61 s of virtual time apart)."""
    for _ in range(times):
        await actor.send(channel, "hello fish")
        await env.advance_time(61)


def role_ids(env: simcord.Env, world: World, actor: Any) -> set[int]:
    member = env.bot.get_guild(world.guild.id).get_member(actor.id)
    assert member is not None
    return {role.id for role in member.roles if not role.is_default()}


async def stored_xp(env: simcord.Env, world: World, actor: Any) -> int:
    return (await env.bot.db.levels.get_xp_and_level(actor.id, world.guild.id))[0]
