"""lockdown / unlock and the raid mode: @everyone loses Send Messages, and the exact previous
overwrite comes back: by `unlock`, on time through the persisted scheduler, also after a
restart."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import discord
import pytest
import simcord

from fish_bot.bot import FishBot
from fish_bot.cogs.automod.constants import RAID_END_JOB, UNLOCK_JOB

from .conftest import World
from .moderation_helpers import fish, jobs, restart, say, set_up_moderation

HOUR = 3600


def channel_of(env: simcord.Env, handle: Any) -> discord.TextChannel:
    channel = fish(env).get_channel(handle.id)
    assert isinstance(channel, discord.TextChannel)
    return channel


def everyone_overwrite(env: simcord.Env, handle: Any) -> tuple[int, int] | None:
    """The @everyone overwrite of a channel as (allow, deny) bits, None when it has none."""
    channel = channel_of(env, handle)
    overwrite = channel.overwrites.get(channel.guild.default_role)
    if overwrite is None:
        return None
    allow, deny = overwrite.pair()
    return allow.value, deny.value


async def give_custom_overwrite(env: simcord.Env, handle: Any) -> tuple[int, int]:
    channel = channel_of(env, handle)
    custom = discord.PermissionOverwrite(add_reactions=False, attach_files=True, send_messages=True)
    await channel.set_permissions(channel.guild.default_role, overwrite=custom)
    await env.settle()
    found = everyone_overwrite(env, handle)
    assert found is not None
    return found


async def test_lockdown_and_unlock_restore_the_exact_overwrite(
    env: simcord.Env, world: World
) -> None:
    w = await set_up_moderation(env, world)
    before = await give_custom_overwrite(env, w.general)

    answer = await say(w.moderator, w.general, "!lockdown spam wave")
    assert answer.startswith(f"🔒 Locked {w.general.mention} until `unlock`")
    overwrite = channel_of(env, w.general).overwrites_for(
        channel_of(env, w.general).guild.default_role
    )
    assert overwrite.send_messages is False and overwrite.add_reactions is False
    with pytest.raises(simcord.BackendError):
        await w.member.send(w.general, "can I talk?")
    assert "🔒 Lockdown" in [m.embeds[0].title for m in w.mod_log.history() if m.embeds]

    answer = await say(w.moderator, w.bot_commands, f"!unlock {w.general.mention} calm again")
    assert answer.startswith("🔓 Unlocked")
    assert everyone_overwrite(env, w.general) == before
    await w.member.send(w.general, "thanks")


async def test_a_channel_without_overwrite_gets_none_back(env: simcord.Env, world: World) -> None:
    w = await set_up_moderation(env, world)
    assert everyone_overwrite(env, w.bot_commands) is None
    await say(w.moderator, w.general, f"!lockdown {w.bot_commands.mention} 30m")
    assert everyone_overwrite(env, w.bot_commands) is not None
    assert "Nothing there is locked" in await say(w.moderator, w.general, "!unlock")
    env.errors  # noqa: B018 - the refusal above is acknowledged
    await say(w.moderator, w.general, f"!unlock {w.bot_commands.mention}")
    assert everyone_overwrite(env, w.bot_commands) is None
    [job] = await jobs(env, UNLOCK_JOB)
    assert job.status == "cancelled"


async def test_a_timed_server_lockdown_is_restored_exactly_after_a_restart(
    env: simcord.Env, world: World, make_bot: Callable[..., FishBot]
) -> None:
    w = await set_up_moderation(env, world)
    before_general = await give_custom_overwrite(env, w.general)
    answer = await say(w.admin, w.bot_commands, "!lockdown server 2h raid")
    assert "(3 channel(s))" in answer and "for 2h" in answer
    for handle in (w.general, w.mod_log, w.bot_commands):
        overwrite = channel_of(env, handle).overwrites_for(
            channel_of(env, handle).guild.default_role
        )
        assert overwrite.send_messages is False

    await restart(env, make_bot)
    await env.advance_time(2 * HOUR - 10)
    assert (
        channel_of(env, w.general)
        .overwrites_for(channel_of(env, w.general).guild.default_role)
        .send_messages
        is False
    )

    await env.advance_time(20)
    assert everyone_overwrite(env, w.general) == before_general
    assert everyone_overwrite(env, w.mod_log) is None
    assert everyone_overwrite(env, w.bot_commands) is None
    assert {job.status for job in await jobs(env, UNLOCK_JOB)} == {"done"}
    assert "🔓 Lockdown ended" in [m.embeds[0].title for m in w.mod_log.history() if m.embeds]


async def test_raid_mode_locks_down_and_alerts(env: simcord.Env, world: World) -> None:
    w = await set_up_moderation(env, world)
    for command in (
        "!settings set automod raid_joins 3",
        "!settings set automod raid_action lockdown",
        "!settings set automod raid_duration 10m",
    ):
        await w.admin.send(w.bot_commands, command)
    await env.settle()
    for i in range(3):
        w.guild.add_member(env.create_user(f"joiner{i}"))
    await env.settle()
    assert everyone_overwrite(env, w.general) is None  # 3 joins: not more than 3
    w.guild.add_member(env.create_user("joiner3"))
    await env.settle()
    overwrite = channel_of(env, w.general).overwrites_for(
        channel_of(env, w.general).guild.default_role
    )
    assert overwrite.send_messages is False
    titles = [m.embeds[0].title for m in w.mod_log.history() if m.embeds]
    assert titles.count("🚨 Raid detected") == 1
    await env.advance_time(601)
    assert everyone_overwrite(env, w.general) is None


async def test_raid_mode_verification_gate_is_lifted_on_time(
    env: simcord.Env, world: World
) -> None:
    w = await set_up_moderation(env, world)
    for command in (
        "!settings set automod raid_joins 2",
        "!settings set automod raid_action verification",
    ):
        await w.admin.send(w.bot_commands, command)
    await env.settle()
    guild = fish(env).get_guild(w.guild.id)
    assert guild is not None
    previous = guild.verification_level
    for i in range(3):
        w.guild.add_member(env.create_user(f"joiner{i}"))
    await env.settle()
    assert fish(env).get_guild(w.guild.id).verification_level == discord.VerificationLevel.high  # type: ignore[union-attr]
    await env.advance_time(601)
    assert fish(env).get_guild(w.guild.id).verification_level == previous  # type: ignore[union-attr]
    [job] = await jobs(env, RAID_END_JOB)
    assert job.status == "done"


async def test_a_lockdown_due_while_the_bot_was_down_ends_at_start_up(
    env: simcord.Env, world: World, make_bot: Callable[..., FishBot]
) -> None:
    w = await set_up_moderation(env, world)
    before = await give_custom_overwrite(env, w.general)
    result = await w.moderator.slash(w.bot_commands, "lockdown", target="#general", duration="1h")
    assert result.response is not None and "Locked" in result.response.content
    assert everyone_overwrite(env, w.general) != before

    await fish(env).scheduler.stop()
    await env.advance_time(3 * HOUR)
    assert everyone_overwrite(env, w.general) != before  # nothing ran while it was down

    await restart(env, make_bot)
    assert everyone_overwrite(env, w.general) == before
    [job] = await jobs(env, UNLOCK_JOB)
    assert job.status == "done" and job.attempts == 1
    await restart(env, make_bot)  # nothing is restored twice
    assert everyone_overwrite(env, w.general) == before
