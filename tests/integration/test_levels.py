"""The levels cog through the real bot in SimCord: XP, level-ups, rewards and flushes."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import discord
import pytest
import simcord

from fish_bot.bot import FishBot
from fish_bot.cogs.levels.utils import xp_for_level

from .conftest import World, replies, say
from .levels_helpers import COGS, chat, cog, lw, role_ids, stored_xp, xp

__all__ = ["lw"]  # the fixture, imported for pytest


@pytest.fixture
def bot_cogs() -> Sequence[str]:
    return COGS


# --- earning XP --------------------------------------------------------------------------


async def test_a_message_earns_xp_once_per_cooldown(env: simcord.Env, lw: World) -> None:
    await lw.member.send(lw.general, "first")
    await lw.member.send(lw.general, "second, inside the cooldown")
    assert xp(env, lw, lw.member) == 20
    await env.advance_time(59)
    await lw.member.send(lw.general, "still inside")
    assert xp(env, lw, lw.member) == 20
    await env.advance_time(2)
    await lw.member.send(lw.general, "after the cooldown")
    assert xp(env, lw, lw.member) == 40


async def test_warm_messages_run_no_statement_inside_or_outside_the_cooldown(
    env: simcord.Env, lw: World
) -> None:
    await lw.member.send(lw.general, "warm-up: the guild's rows are read once")
    stats = env.bot.database.stats
    before = stats.queries
    await lw.member.send(lw.general, "inside the cooldown")
    await lw.member2.send(lw.general, "another member, first message")
    assert stats.queries == before
    await env.advance_time(61)  # the flush loop writes meanwhile
    before = stats.queries
    await lw.member.send(lw.general, "outside the cooldown")
    await lw.member2.send(lw.general, "outside too")
    assert stats.queries == before
    assert xp(env, lw, lw.member) == 40
    assert xp(env, lw, lw.member2) == 40


async def test_a_cold_guild_is_loaded_once_for_a_burst_of_first_messages(
    env: simcord.Env, lw: World
) -> None:
    chatters = [lw.guild.add_member(env.create_user(f"chatter{i}")) for i in range(6)]
    await env.settle()
    store = cog(env).store
    store.cache.invalidate(lw.guild.id)  # cold, as after a restart (the joins loaded it)
    loads = store.stats.loads
    for chatter in chatters:  # all arrive before the bot handles the first
        env.backend.create_message(lw.general.id, chatter.id, "hi all")
    await env.settle()
    assert store.stats.loads == loads + 1
    assert [xp(env, lw, chatter) for chatter in chatters] == [20] * 6


async def test_excluded_channels_roles_commands_dms_and_blacklist_earn_nothing(
    env: simcord.Env, lw: World
) -> None:
    levels = cog(env)
    quiet = lw.guild.create_text_channel("spam")
    muted = lw.guild.create_role("No XP")
    await levels.set_setting("excluded_channels", [quiet.id], lw.guild.id)
    await levels.set_setting("excluded_roles", [muted.id], lw.guild.id)
    await lw.member.send(quiet, "excluded channel")
    await lw.member.send(lw.general, "!rank")  # a command
    await lw.member.send_dm("a direct message")
    assert xp(env, lw, lw.member) == 0
    muted_member = lw.guild.add_member(env.create_user("muted"), roles=[muted])
    await env.settle()
    await muted_member.send(lw.general, "excluded role")
    assert xp(env, lw, muted_member) == 0
    await say(lw.admin, lw.general, f"!levels blacklist {lw.member2.mention}")
    await env.advance_time(61)
    await lw.member2.send(lw.general, "blacklisted")
    assert xp(env, lw, lw.member2) == 0
    await lw.member.send(lw.general, "an ordinary message")
    assert xp(env, lw, lw.member) == 20


async def test_the_highest_role_multiplier_applies(env: simcord.Env, lw: World) -> None:
    boost = lw.guild.create_role("Booster")
    await cog(env).set_setting(
        "role_multipliers", {str(lw.member_role.id): 1.5, str(boost.id): 3}, lw.guild.id
    )
    boosted = lw.guild.add_member(env.create_user("boosted"), roles=[lw.member_role, boost])
    await env.settle()
    await lw.member.send(lw.general, "member role")
    await boosted.send(lw.general, "both roles")
    assert xp(env, lw, lw.member) == 30
    assert xp(env, lw, boosted) == 60


async def test_a_bad_multiplier_is_refused(env: simcord.Env, lw: World) -> None:
    reply = await say(
        lw.owner,
        lw.general,
        f'!settings set levels role_multipliers {{"{lw.member_role.id}": 50}}',
    )
    assert "between 0 and 10" in reply.content
    env.errors  # noqa: B018 - acknowledge the refusal


# --- level-ups and rewards ---------------------------------------------------------------


async def test_level_up_at_the_exact_threshold_pings_only_the_member(
    env: simcord.Env, lw: World
) -> None:
    await cog(env).set_setting(
        "levelup_message",
        "@everyone {member} is level {level} <@&" + str(lw.admin_role.id) + ">",
        lw.guild.id,
    )
    start = await lw.member.send(lw.general, "one")
    await env.advance_time(61)
    await chat(env, lw.member, lw.general, 3)
    assert xp(env, lw, lw.member) == 80
    assert replies(lw.general, start) == []
    last = await lw.member.send(lw.general, "the fifth message: 100 XP")
    assert xp(env, lw, lw.member) == xp_for_level(1) == 100
    (announcement,) = replies(lw.general, last)
    assert announcement.content.startswith(f"@everyone {lw.member.mention} is level 1")
    pinged = env.backend.get_message(lw.general.id, announcement.id)  # what Discord pinged
    assert list(pinged.ping_user_ids) == [lw.member.id]
    assert not pinged.mention_everyone
    assert not pinged.ping_role_ids


async def test_level_up_by_dm_and_off(env: simcord.Env, lw: World) -> None:
    levels = cog(env)
    await levels.set_setting("levelup_destination", "dm", lw.guild.id)
    await say(lw.admin, lw.general, f"!levels setxp {lw.member.mention} 99")
    last = await lw.member.send(lw.general, "to level 1")
    assert replies(lw.general, last) == []
    assert "reached level 1" in lw.member.user.dm_channel.last_message.content
    await levels.set_setting("levelup_destination", "off", lw.guild.id)
    await say(lw.admin, lw.general, f"!levels setxp {lw.member2.mention} 99")
    last = await lw.member2.send(lw.general, "to level 1 quietly")
    assert replies(lw.general, last) == []


async def test_level_up_in_the_set_channel(env: simcord.Env, lw: World) -> None:
    levels = cog(env)
    await levels.update_settings(
        {"levelup_destination": "set_channel", "levelup_channel": lw.bot_commands.id},
        lw.guild.id,
    )
    await say(lw.admin, lw.general, f"!levels setxp {lw.member.mention} 250")
    last = await lw.member.send(lw.general, "to level 2")
    assert replies(lw.general, last) == []
    assert lw.bot_commands.last_message.content == f"🎉 {lw.member.mention} reached level 2!"


async def test_rewards_are_given_removed_and_restored_on_rejoin(
    env: simcord.Env, lw: World
) -> None:
    one = lw.guild.create_role("Minnow")
    two = lw.guild.create_role("Shark")
    reply = await say(lw.admin, lw.general, f"!levels rewards add 1 {one.mention}")
    assert reply.content.startswith("✅ Members reaching level 1 get")
    await say(lw.admin, lw.general, f"!levels rewards add 2 {two.mention}")
    listed = await say(lw.member, lw.general, "!levels rewards list")
    assert listed.embeds[0].description == f"Level 1: {one.mention}\nLevel 2: {two.mention}"

    await say(lw.admin, lw.general, f"!levels setxp {lw.member.mention} 99")
    await lw.member.send(lw.general, "to level 1")
    assert role_ids(env, lw, lw.member) == {lw.member_role.id, one.id}
    await say(lw.admin, lw.general, f"!levels set {lw.member.mention} 2")
    assert role_ids(env, lw, lw.member) == {lw.member_role.id, one.id, two.id}

    # highest only: the lower reward goes at the next change
    await cog(env).set_setting("reward_mode", "highest", lw.guild.id)
    await say(lw.admin, lw.general, f"!levels set {lw.member.mention} 2")
    assert role_ids(env, lw, lw.member) == {lw.member_role.id, two.id}

    lw.guild.remove_member(lw.member)
    await env.settle()
    back = lw.guild.add_member(lw.member.user)
    await env.settle()
    assert role_ids(env, lw, back) == {two.id}

    await say(lw.admin, lw.general, f"!levels reset {back.mention}")
    assert role_ids(env, lw, back) == set()
    assert await stored_xp(env, lw, back) == 0


async def test_a_reward_role_the_bot_may_not_give_is_refused(env: simcord.Env, lw: World) -> None:
    reply = await say(lw.admin, lw.general, f"!levels rewards add 3 {lw.mod_role.mention}")
    assert "can't be a level reward" in reply.content
    env.errors  # noqa: B018
    assert await env.bot.db.levels.get_rewards(lw.guild.id) == []


async def test_a_reward_role_above_the_bot_or_the_invoker_is_refused(
    env: simcord.Env, lw: World
) -> None:
    """Issue 16: a role the bot hands out sits below the bot's top role and the invoker's."""
    guild = lw.guild
    top = guild.create_role("Top", position=100)
    reply = await say(lw.owner, lw.general, f"!levels rewards add 3 {top.mention}")
    assert reply.content.startswith(f"{top.mention} is not below my highest role"), reply.content
    env.errors  # noqa: B018

    # New roles go just above @everyone: Shiny is created first, so it sits above LowAdmin.
    shiny = guild.create_role("Shiny")
    low_admin = guild.create_role("LowAdmin", permissions=discord.Permissions(administrator=True))
    invoker = guild.add_member(env.create_user("low-admin"), roles=[low_admin])
    reply = await say(invoker, lw.general, f"!levels rewards add 3 {shiny.mention}")
    refusal = f"{shiny.mention} is not below your highest role, so you can't make me give it."
    assert reply.content == refusal
    env.errors  # noqa: B018
    result = await invoker.slash(lw.general, "levels rewards add", level=3, role=shiny)
    assert result.response is not None
    assert result.response.content == refusal
    env.errors  # noqa: B018
    assert await env.bot.db.levels.get_rewards(guild.id) == []


async def test_members_cannot_change_xp(env: simcord.Env, lw: World) -> None:
    reply = await say(lw.member, lw.general, f"!levels setxp {lw.member.mention} 5000")
    assert reply.content.startswith("⛔ `levels setxp` needs the **Moderate Members** permission")
    env.errors  # noqa: B018
    assert xp(env, lw, lw.member) == 0


async def test_manual_changes_do_not_lose_buffered_xp(env: simcord.Env, lw: World) -> None:
    await lw.member.send(lw.general, "buffered")
    await say(lw.admin, lw.general, f"!levels blacklist {lw.member.mention}")
    row = await env.bot.db.levels.get_by_id((lw.guild.id, lw.member.id))
    assert row is not None and row.xp == 20 and row.blacklisted
    await say(lw.admin, lw.general, f"!levels blacklist {lw.member.mention}")
    assert not await env.bot.db.levels.is_blacklisted(lw.member.id, lw.guild.id)


# --- flushing ----------------------------------------------------------------------------


async def test_xp_is_written_at_the_flush_interval(env: simcord.Env, lw: World) -> None:
    await lw.member.send(lw.general, "hello")
    assert await stored_xp(env, lw, lw.member) == 0  # still in memory
    await env.advance_time(11)  # flush_interval: 10 s
    assert await stored_xp(env, lw, lw.member) == 20
    assert cog(env).store.dirty_rows == 0


async def test_xp_is_written_at_shutdown(
    env: simcord.Env, lw: World, make_bot: Callable[..., FishBot]
) -> None:
    await lw.member.send(lw.general, "hello")
    await lw.member2.send(lw.general, "hello too")
    await env.bot.close()
    await env.restart_bot(make_bot(COGS))
    assert await stored_xp(env, lw, lw.member) == 20
    assert await stored_xp(env, lw, lw.member2) == 20


async def test_a_crash_loses_at_most_one_interval_and_no_row_is_torn(
    env: simcord.Env, lw: World, make_bot: Callable[..., FishBot], monkeypatch: pytest.MonkeyPatch
) -> None:
    await chat(env, lw.member, lw.general, 4)  # 80 XP, flushed meanwhile
    assert await stored_xp(env, lw, lw.member) == 80
    await lw.member.send(lw.general, "the fifth message: level 1, not flushed yet")
    assert xp(env, lw, lw.member) == 100

    async def killed(*_args: Any) -> int:  # kill -9: nothing more reaches the database
        return 0

    monkeypatch.setattr(cog(env).store, "flush", killed)
    await env.bot.close()
    await env.restart_bot(make_bot(COGS))
    row = await env.bot.db.levels.get_by_id((lw.guild.id, lw.member.id))
    assert row is not None
    assert (row.xp, row.level) == (80, 0)  # the last interval is lost, the row is whole
    await env.advance_time(61)
    await lw.member.send(lw.general, "after the restart")
    assert xp(env, lw, lw.member) == 100


async def test_a_cold_guild_is_dropped_and_read_again(env: simcord.Env, lw: World) -> None:
    await lw.member.send(lw.general, "hello")
    await env.advance_time(1800 + 20)  # idle_eviction: 30 minutes
    assert cog(env).store.cache.peek(lw.guild.id) is None
    await lw.member.send(lw.general, "back again")
    assert xp(env, lw, lw.member) == 40
