"""Replies fit Discord's limits and never ping (issue 8 "one error policy", issue 16 "input
the bot cannot answer"), driven through SimCord on the real bot."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import discord
import pytest
import simcord
from discord import app_commands
from discord.ext import commands

from fish_bot.core.base_cog import BaseCog
from fish_bot.core.error_unwrap import unwrap
from fish_bot.exceptions import UserFacingError

COGS = [
    "fish_bot.cogs.admin",
    "fish_bot.cogs.server_config",
    "fish_bot.cogs.example",
    "fish_bot.cogs.help",
]

#: The longest message a user without Nitro can send.
USER_LIMIT = 2000


@pytest.fixture
def bot_cogs() -> Sequence[str]:
    return COGS


def acknowledge(env: simcord.Env) -> None:
    """Refusals are raised (SimCord records them): a UserFacingError, or a converter's
    refusal of bad input; they were meant."""
    meant = (UserFacingError, commands.UserInputError, app_commands.TransformerError)
    assert all(isinstance(unwrap(e), meant) for e in env.errors)


def stored(env: simcord.Env, message: discord.Message) -> Any:
    """SimCord's record of a sent message: what Discord pinged for it."""
    return env.backend.get_message(message.channel.id, message.id)


async def answer(env: simcord.Env, actor: Any, channel: Any, text: str) -> discord.Message:
    sent = await actor.send(channel, text)
    replies = [m for m in channel.history() if m.id > sent.id and m.author.bot]
    assert len(replies) == 1, f"expected one reply to {text[:60]!r}, got {len(replies)}"
    reply = replies[0]
    assert len(reply.content) <= 2000
    assert "error id" not in reply.content
    return reply


async def test_help_with_a_long_name_is_clipped(env: simcord.Env, world: Any) -> None:
    name = "x" * (USER_LIMIT - len("!help "))
    reply = await answer(env, world.member, world.general, f"!help {name}")
    assert reply.content.startswith("There is no command or module called `xxx")
    assert f"`{'x' * 59}…`." in reply.content
    assert len(reply.content) < 200
    acknowledge(env)


async def test_help_with_a_long_subcommand_is_clipped(env: simcord.Env, world: Any) -> None:
    name = "y" * (USER_LIMIT - len("!help config "))
    reply = await answer(env, world.member, world.general, f"!help config {name}")
    assert reply.content.startswith("There is no command or module called `config yyy")
    assert len(reply.content) < 250
    acknowledge(env)


@pytest.mark.parametrize("verb", ["load", "reload"])
async def test_cog_load_and_reload_of_a_long_name(
    env: simcord.Env, world: Any, owner: Any, verb: str
) -> None:
    name = "z" * (USER_LIMIT - len(f"!cog {verb} "))
    reply = await answer(env, owner, world.general, f"!cog {verb} {name}")
    assert reply.content.startswith("`zzz")
    assert "is not a module name" in reply.content
    assert len(reply.content) < 250
    assert f"fish_bot.cogs.{name}" not in env.bot.cog_load_errors
    acknowledge(env)


@pytest.mark.parametrize("name", ["a b", "a..b", "[a](https://example.com)", "é.x", "x/../y"])
async def test_cog_load_of_a_name_that_is_no_package(
    env: simcord.Env, world: Any, owner: Any, name: str
) -> None:
    reply = await answer(env, owner, world.general, f'!cog load "{name}"')
    assert "is not a module name" in reply.content
    acknowledge(env)


@pytest.mark.parametrize("verb", ["set", "reset"])
async def test_settings_with_a_long_key_quote_it_clipped(
    env: simcord.Env, world: Any, owner: Any, verb: str
) -> None:
    key = "k" * 1900
    value = " 1" if verb == "set" else ""
    reply = await answer(env, owner, world.general, f"!settings {verb} example {key}{value}")
    assert reply.content == f"❌ Example has no setting `{'k' * 59}…`."
    acknowledge(env)


async def test_status_of_a_long_name_quotes_it_clipped(env: simcord.Env, world: Any) -> None:
    name = "w" * (USER_LIMIT - len("!status "))
    reply = await answer(env, world.member, world.general, f"!status {name}")
    assert reply.content == f"No loaded module is called `{'w' * 49}…`."
    acknowledge(env)


async def test_sync_of_unicode_digits_is_a_refusal(
    env: simcord.Env, world: Any, owner: Any
) -> None:
    reply = await answer(env, owner, world.general, "!sync ②")
    assert reply.content == "I am not in a server `②`."
    acknowledge(env)


async def test_the_bot_pings_nobody_by_default(env: simcord.Env, world: Any) -> None:
    assert env.bot.allowed_mentions is not None
    assert env.bot.allowed_mentions.to_dict() == {"parse": []}
    member = world.member.id
    role = world.admin_role.id
    text = f"@everyone <@&{role}> <@{member}>"
    reply = await answer(env, world.member2, world.general, f"!status {text}")
    assert "@everyone" in reply.content
    record = stored(env, reply)
    assert not record.mention_everyone
    assert record.ping_role_ids == []
    assert record.ping_user_ids == []
    acknowledge(env)


async def test_a_reminder_pings_its_author_only(env: simcord.Env, world: Any) -> None:
    await answer(env, world.member, world.general, f"!example remind 1m hi <@{world.member2.id}>")
    await env.advance_time(61)
    posted = [m for m in world.general.history() if m.author.bot and m.content.startswith("⏰ <@")]
    assert posted
    record = stored(env, posted[-1])
    assert record.ping_user_ids == [world.member.id]
    assert not record.mention_everyone


async def test_replies_quoting_input_fit_discords_limits_as_slash_commands(
    env: simcord.Env, world: Any, owner: Any
) -> None:
    result = await owner.slash(world.general, "status", cog="q" * 3000)
    assert result.response is not None
    assert result.response.content == f"No loaded module is called `{'q' * 49}…`."
    result = await owner.slash(world.general, "cog load", name="r" * 3000)
    assert result.response is not None
    assert len(result.response.content) < 200
    acknowledge(env)


class _Context:
    guild = None


def test_require_guild_refuses_direct_messages() -> None:
    with pytest.raises(UserFacingError, match="only works in a server"):
        BaseCog.require_guild(_Context())  # type: ignore[arg-type]
