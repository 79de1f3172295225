"""AFK through messages and time: the member's return, mentions of AFK members (once per
channel per five minutes, no pings, self-deleting), the cost in queries, the expiry job and
restarts."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
import simcord

from fish_bot.bot import BUILTIN_COGS, FishBot
from fish_bot.database.models.scheduler import JobStatus, ScheduledJob

from .afk_helpers import (
    afk_jobs,
    afk_state,
    bot_messages,
    exists,
    nick,
    pinged_nobody,
    set_up,
)
from .conftest import World, say
from .moderation_helpers import fish, restart


@pytest.fixture
def bot_cogs() -> list[str]:
    """Every built-in module but levels: its batched flush of earned XP would be counted by the
    statement-count tests here, which are about what AFK costs a message."""
    return [name for name in BUILTIN_COGS if name != "fish_bot.cogs.levels"]


HOUR = 3600


@pytest.fixture
async def aw(env: simcord.Env, world: World) -> World:
    return await set_up(env, world)


def afk_cog(env: simcord.Env) -> Any:
    cog = fish(env).get_cog("Afk")
    assert cog is not None and type(cog).__name__ == "Afk"
    return cog


def since_stamp(env: simcord.Env, seconds_ago: float = 0) -> str:
    return f"<t:{int(env.now().timestamp() - seconds_ago)}:R>"


# --- the return ------------------------------------------------------------------------------


async def test_the_next_message_after_the_grace_ends_the_afk(env: simcord.Env, aw: World) -> None:
    await say(aw.member, aw.general, "!afk lunch")
    await env.advance_time(5)
    early = await aw.member.send(aw.general, "oops, one more thing")
    assert bot_messages(aw.general, early) == []
    assert await afk_state(env, aw, aw.member) is not None

    await env.advance_time(6)
    sent = await aw.member.send(aw.general, "I'm back")

    [welcome] = bot_messages(aw.general, sent)
    assert welcome.content == (
        f"👋 Welcome back, {aw.member.mention}! You were away for 11s; your AFK is over."
    )
    assert pinged_nobody(env, welcome)
    assert await afk_state(env, aw, aw.member) is None
    assert nick(env, aw, aw.member) is None
    await env.advance_time(9)
    assert exists(env, welcome)
    await env.advance_time(2)
    assert not exists(env, welcome)


async def test_a_message_ends_a_timed_afk_and_its_job(env: simcord.Env, aw: World) -> None:
    await say(aw.member, aw.general, "!afk 2h lunch")
    await env.advance_time(60)
    await aw.member.send(aw.general, "done early")

    assert await afk_state(env, aw, aw.member) is None
    assert [job.status for job in await afk_jobs(env)] == [JobStatus.CANCELLED.value]


async def test_a_member_who_leaves_is_no_longer_afk(env: simcord.Env, aw: World) -> None:
    await say(aw.member, aw.general, "!afk 1h lunch")
    aw.guild.remove_member(aw.member)
    await env.settle()

    assert await afk_state(env, aw, aw.member) is None
    assert [job.status for job in await afk_jobs(env)] == [JobStatus.CANCELLED.value]


# --- mentions --------------------------------------------------------------------------------


async def test_a_mention_of_an_afk_member_is_answered_without_pings(
    env: simcord.Env, aw: World
) -> None:
    await say(aw.member, aw.general, "!afk lunch @everyone")
    stamp = since_stamp(env)
    await env.advance_time(3)

    notice = await say(aw.member2, aw.general, f"hey {aw.member.mention}, are you there?")

    assert notice.content == f"💤 {aw.member.mention} is AFK: `lunch @everyone` (since {stamp})."
    assert pinged_nobody(env, notice)
    assert await afk_state(env, aw, aw.member) is not None  # someone else's message
    await env.advance_time(29)
    assert exists(env, notice)
    await env.advance_time(2)
    assert not exists(env, notice)


async def test_a_timed_afk_says_when_it_ends(env: simcord.Env, aw: World) -> None:
    await say(aw.member, aw.general, "!afk 2h lunch")
    back = f"<t:{int(env.now().timestamp()) + 2 * HOUR}:R>"

    notice = await say(aw.member2, aw.general, aw.member.mention)

    assert notice.content.endswith(f", back {back}.")


async def test_a_member_is_announced_once_per_channel_per_five_minutes(
    env: simcord.Env, aw: World
) -> None:
    await say(aw.member, aw.general, "!afk lunch")
    first = await say(aw.member2, aw.general, f"{aw.member.mention}?")
    assert first.content.startswith("💤")

    for actor in (aw.member2, aw.moderator, aw.admin):
        sent = await actor.send(aw.general, f"{aw.member.mention} ping")
        assert bot_messages(aw.general, sent) == []
    elsewhere = await say(aw.member2, aw.bot_commands, f"{aw.member.mention}!")
    assert elsewhere.content.startswith(f"💤 {aw.member.mention} is AFK")

    await env.advance_time(5 * 60)
    again = await say(aw.moderator, aw.general, f"{aw.member.mention} still?")
    assert again.content.startswith(f"💤 {aw.member.mention} is AFK")


async def test_a_reply_to_an_afk_member_is_answered(env: simcord.Env, aw: World) -> None:
    written = await aw.member.send(aw.general, "does anyone know how to feed fish?")
    await say(aw.member, aw.general, "!afk shopping")

    sent = await aw.member2.send(aw.general, "flakes, twice a day", reply_to=written)

    [notice] = bot_messages(aw.general, sent)
    assert notice.content.startswith(f"💤 {aw.member.mention} is AFK: `shopping`")


async def test_several_afk_members_get_one_answer(env: simcord.Env, aw: World) -> None:
    await say(aw.member, aw.general, "!afk lunch")
    await say(aw.moderator, aw.general, "!permafk holiday")

    sent = await aw.member2.send(
        aw.general, f"{aw.moderator.mention} {aw.member.mention} {aw.admin.mention}"
    )

    [notice] = bot_messages(aw.general, sent)
    lines = notice.content.split("\n")
    assert len(lines) == 2
    assert {line.split(" is AFK")[0] for line in lines} == {
        f"💤 {aw.member.mention}",
        f"💤 {aw.moderator.mention}",
    }
    assert pinged_nobody(env, notice)


async def test_mentioning_yourself_is_not_answered(env: simcord.Env, aw: World) -> None:
    await say(aw.member, aw.general, "!permafk thinking")
    await env.advance_time(20)
    sent = await aw.member.send(aw.general, f"note to {aw.member.mention}")

    assert bot_messages(aw.general, sent) == []


async def test_the_notice_lifetime_is_a_server_setting(env: simcord.Env, aw: World) -> None:
    await say(aw.owner, aw.general, "!settings set afk notice_delete_after 60s")
    await say(aw.member, aw.general, "!afk lunch")

    notice = await say(aw.member2, aw.general, aw.member.mention)
    await env.advance_time(31)
    assert exists(env, notice)
    await env.advance_time(30)
    assert not exists(env, notice)


# --- the cost of a message -------------------------------------------------------------------


async def warm_up(env: simcord.Env, world: World) -> None:
    """A first message of an ordinary member, so the per-guild caches every message reads (the
    prefix, automod's compiled rules) are loaded before the counting starts."""
    await world.member2.send(world.bot_commands, "first message of the guild")


async def test_ordinary_messages_cost_no_query(env: simcord.Env, aw: World) -> None:
    await warm_up(env, aw)
    stats = fish(env).database.stats
    before = stats.queries
    for text in ("hello", f"hi {aw.moderator.mention}", "blub"):
        await aw.member2.send(aw.general, text)
    assert stats.queries == before

    await say(aw.member, aw.general, "!afk lunch")
    await say(aw.admin, aw.general, "!permafk away")
    before = stats.queries
    for text in ("hello", f"hi {aw.moderator.mention}", f"{aw.member2.mention} blub"):
        await aw.member2.send(aw.general, text)
    await aw.admin.send(aw.general, "a permanent AFK writing")
    assert stats.queries == before


async def test_a_message_mentioning_twenty_afk_members_costs_one_query(
    env: simcord.Env, aw: World
) -> None:
    cog = afk_cog(env)
    guild = fish(env).get_guild(aw.guild.id)
    assert guild is not None
    actors = [aw.guild.add_member(env.create_user(f"away{n}")) for n in range(20)]
    await env.settle()
    for n, actor in enumerate(actors):
        member = guild.get_member(actor.id)
        assert member is not None
        await cog.start_afk(member, f"reason {n}")
    await warm_up(env, aw)
    stats = fish(env).database.stats

    before = stats.queries
    sent = await aw.member2.send(aw.general, " ".join(actor.mention for actor in actors))

    assert stats.queries - before <= 1
    [notice] = bot_messages(aw.general, sent)
    assert len(notice.content.split("\n")) == 20
    assert "`reason 19`" in notice.content


async def test_a_failed_afk_leaves_nothing_behind(
    env: simcord.Env, aw: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The row and its job roll back together; the in-memory members never saw the AFK."""

    async def broken(*args: Any, **kwargs: Any) -> int:
        raise RuntimeError("scheduler down")

    monkeypatch.setattr(fish(env).scheduler, "schedule", broken)
    reply = await say(aw.member, aw.general, "!afk 2h lunch")
    assert "error id" in reply.content
    simcord.assert_error(env, Exception, contains="scheduler down")
    monkeypatch.undo()

    assert await afk_state(env, aw, aw.member) is None
    assert nick(env, aw, aw.member) is None
    stats = fish(env).database.stats
    before = stats.queries
    sent = await aw.member2.send(aw.general, f"{aw.member.mention}?")
    assert bot_messages(aw.general, sent) == []
    assert stats.queries == before


# --- time: the expiry job and restarts -------------------------------------------------------


async def test_a_timed_afk_ends_on_time(env: simcord.Env, aw: World) -> None:
    await say(aw.member, aw.general, "!afk 2h lunch")

    await env.advance_time(2 * HOUR - 1)
    assert await afk_state(env, aw, aw.member) is not None
    assert nick(env, aw, aw.member) == "[AFK] member"
    await env.advance_time(2)

    assert await afk_state(env, aw, aw.member) is None
    assert nick(env, aw, aw.member) is None
    assert [job.status for job in await afk_jobs(env)] == [JobStatus.DONE.value]
    await aw.member2.send(aw.general, "anyone?")  # the levels module reloads the quiet server
    stats = fish(env).database.stats
    before = stats.queries
    await aw.member2.send(aw.general, f"{aw.member.mention}?")
    assert stats.queries == before  # no longer AFK in memory either


async def test_a_changed_afk_is_not_ended_by_its_old_job(
    db_backend: str, env: simcord.Env, aw: World
) -> None:
    await say(aw.member, aw.general, "!afk 2h lunch")
    [old] = await afk_jobs(env)
    await env.advance_time(60)
    await say(aw.member, aw.general, "!afk 4h long lunch")

    # The old job, even if it ran (a crash between its claim and its cancellation), is a no-op.
    stale = ScheduledJob(
        id=old.id,
        job_type=old.job_type,
        run_at=old.run_at,
        payload=old.payload,
        guild_id=old.guild_id,
    )
    await afk_cog(env).expire_afk(stale)
    await env.advance_time(2 * HOUR)
    state = await afk_state(env, aw, aw.member)
    assert state is not None and state.reason == "long lunch"

    await env.advance_time(2 * HOUR)
    assert await afk_state(env, aw, aw.member) is None
    assert nick(env, aw, aw.member) is None


async def test_a_restart_keeps_afk_states_and_their_expiry(
    db_backend: str, env: simcord.Env, aw: World, make_bot: Callable[..., FishBot]
) -> None:
    """On both databases (the expiry matches its AFK by the stored end time)."""
    await say(aw.member, aw.general, "!afk 2h lunch")
    await say(aw.member2, aw.general, "!permafk on holiday")
    await say(aw.moderator, aw.general, "!afk until I write")
    stamp = since_stamp(env)

    await restart(env, make_bot)

    await warm_up(env, aw)
    stats = fish(env).database.stats
    before = stats.queries
    await aw.admin.send(aw.general, "an ordinary message after the restart")
    assert stats.queries == before  # the AFK members were loaded at start-up
    before = stats.queries
    notice = await say(
        aw.admin, aw.general, f"{aw.member.mention} {aw.member2.mention} {aw.moderator.mention}"
    )
    assert stats.queries - before <= 1
    assert len(notice.content.split("\n")) == 3
    assert f"`on holiday` (since {stamp})" in notice.content
    reply = await say(aw.moderator, aw.general, "!afk list")
    assert reply.embeds[0].title == "AFK members (3)"

    await env.advance_time(2 * HOUR)
    assert await afk_state(env, aw, aw.member) is None
    assert nick(env, aw, aw.member) is None
    assert await afk_state(env, aw, aw.member2) is not None
    await aw.moderator.send(aw.general, "back")
    assert await afk_state(env, aw, aw.moderator) is None
    assert nick(env, aw, aw.moderator) is None
