"""Helpers shared by the automod tests (SimCord)."""

from __future__ import annotations

from typing import Any

import simcord

from .conftest import World
from .moderation_helpers import fish, say, set_up_moderation


async def set_up_automod(env: simcord.Env, world: World, *rules: str) -> World:
    """Moderation set up (ranks, #mod-log), then each ``automod add ...`` run by the admin."""
    await set_up_moderation(env, world)
    for rule in rules:
        answer = await say(world.admin, world.bot_commands, f"!automod add {rule}")
        assert answer.startswith("🛡️ Rule"), answer
    return world


def gone(env: simcord.Env, channel: Any, message_id: int) -> bool:
    return message_id not in env.backend.messages.get(channel.id, {})


def mod_log_titles(world: World) -> list[str]:
    return [m.embeds[0].title for m in world.mod_log.history() if m.embeds]


def statements(env: simcord.Env) -> int:
    return fish(env).database.stats.queries
