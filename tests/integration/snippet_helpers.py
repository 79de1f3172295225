"""Helpers shared by the snippets tests (SimCord)."""

from __future__ import annotations

from typing import Any

import simcord

from .conftest import World
from .moderation_helpers import assert_refused, fish, set_up_moderation

__all__ = ["assert_refused", "cog", "fish", "post", "set_up", "slash_text"]


def cog(env: simcord.Env) -> Any:
    found = fish(env).get_cog("Snippets")
    assert found is not None and type(found).__name__ == "Snippets"
    return found


async def set_up(env: simcord.Env, world: World) -> World:
    """Moderators rank 5 (snippet moderators: `snippet lock` needs 2), admins rank 6."""
    return await set_up_moderation(env, world)


async def post(actor: Any, channel: Any, text: str) -> list[Any]:
    """Send ``text``; every message the bot sent after it."""
    sent = await actor.send(channel, text)
    return [m for m in channel.history() if m.id > sent.id and m.author.bot]


def slash_text(result: Any) -> str:
    assert result.response is not None
    return str(result.response.content)
