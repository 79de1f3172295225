"""The bot starts under SimCord and answers prefix and slash commands."""

from __future__ import annotations

from typing import Any


async def test_ping_prefix_and_slash(env: Any, world: Any) -> None:
    await world.member.send(world.general, "!ping")
    assert world.general.last_message.content == "Pong!"
    result = await world.member.slash(world.general, "ping")
    assert result.response.content == "Pong!"
    assert world.owner.id == world.guild.owner.id
