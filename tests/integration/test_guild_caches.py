"""The bot's per-guild caches of the GuildConfig row: ``bot.guild_configs`` and ``bot.prefixes``.

Read from memory (loaded at start-up, or on first use), forgotten on every write through the
GuildConfigController, so a command never sees a replaced value; prefixes keep working while
the database is away.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
import simcord

from fish_bot.bot import FishBot

from .conftest import World
from .outage import Outage


def fish(env: simcord.Env) -> FishBot:
    bot = env.bot
    assert isinstance(bot, FishBot)
    return bot


async def say(actor: Any, channel: Any, text: str) -> str:
    await actor.send(channel, text)
    last = channel.last_message
    assert last is not None
    return str(last.content)


async def test_guild_config_cache_follows_every_write_and_survives_a_restart(
    env: simcord.Env, world: World, make_bot: Callable[..., FishBot]
) -> None:
    bot = fish(env)
    gid = world.guild.id
    assert await bot.guild_configs.get(gid) is None  # nothing stored yet

    reply = await say(world.admin, world.general, f"!config log mod {world.mod_log.mention}")
    assert reply.startswith("✅"), reply
    config = await bot.guild_configs.get(gid)
    assert config is not None and config.mod_log_channel_id == world.mod_log.id

    # A write through the controller from anywhere (here: code, not a command) is seen too.
    await bot.db.guild_config.update_config(gid, reason_required=True)
    config = await bot.guild_configs.get(gid)
    assert config is not None and config.reason_required is True

    # A write in a transaction that rolls back leaves the committed value.
    with pytest.raises(RuntimeError):
        async with bot.db.transaction():
            await bot.db.guild_config.update_config(gid, reason_required=False)
            raise RuntimeError("abort")
    config = await bot.guild_configs.get(gid)
    assert config is not None and config.reason_required is True

    await env.bot.close()
    restarted = make_bot()
    await env.restart_bot(restarted)
    assert restarted.guild_configs.is_loaded(gid)  # read once at start-up, with every guild
    config = await restarted.guild_configs.get(gid)
    assert config is not None and config.mod_log_channel_id == world.mod_log.id


async def test_prefixes_keep_working_while_the_database_is_away(
    env: simcord.Env, world: World
) -> None:
    bot = fish(env)
    assert await say(world.member, world.general, "!ping") == "Pong!"
    assert (await say(world.admin, world.general, "!config prefix ?")).startswith("✅")
    assert await say(world.member, world.general, "?ping") == "Pong!"

    outage = Outage(bot)
    await outage.start()
    # The cached prefix answers without the database.
    assert await say(world.member, world.general, "?ping") == "Pong!"
    # A guild whose prefix is not cached (and cannot be read now) gets the default prefix.
    bot.guild_configs.invalidate()
    bot.prefixes.invalidate()
    assert await say(world.member, world.general, "!ping") == "Pong!"
    assert not bot.prefixes.is_loaded(world.guild.id)  # nothing guessed was cached

    outage.stop()
    await world.member.send(world.general, "!ping")  # the stored prefix applies again
    assert world.general.last_message.content == "!ping"
    assert await say(world.member, world.general, "?ping") == "Pong!"
