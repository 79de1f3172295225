"""Durations typed the way moderators write them (issue 9): the real bot under SimCord.

``!tempban @bob 5 days spamming`` bans bob for five days with the reason "spamming" (it used to
ban for 5 seconds with the reason "days spamming"); a bare number or an unknown unit is refused
with an example, and words that do not start with a duration get "give a duration first". The
same parser reads every command's duration, prefix and slash.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
import simcord
from discord.ext import commands

from fish_bot.cogs.moderation.constants import UNBAN_JOB

from .conftest import World
from .moderation_helpers import cases, fish, jobs, say, set_up_moderation


@pytest.fixture
async def mw(env: simcord.Env, world: World) -> World:
    return await set_up_moderation(env, world)


@pytest.fixture
def bob(mw: World, env: simcord.Env) -> Any:
    return mw.guild.add_member(env.create_user("bob"), roles=[mw.member_role])


def timed_out_until(env: simcord.Env, mw: World, actor: Any) -> Any:
    member = fish(env).get_guild(mw.guild.id).get_member(actor.id)  # type: ignore[union-attr]
    assert member is not None
    return member.timed_out_until


async def test_tempban_five_days_spamming_bans_for_five_days(
    env: simcord.Env, mw: World, bob: Any
) -> None:
    reply = await say(mw.moderator, mw.general, f"!tempban {bob.mention} 5 days spamming")

    assert reply.startswith(f"⏳ Temporarily banned {bob.mention} (Case #1)"), reply
    assert "**Reason:** spamming" in reply and "days spamming" not in reply
    assert mw.guild.get_ban(bob) is not None
    [case] = await cases(env, mw)
    assert case.case_type == "TEMPBAN" and case.reason == "spamming"
    assert case.expires_at == env.now() + timedelta(days=5)
    [job] = await jobs(env, UNBAN_JOB)
    assert job.run_at == env.now() + timedelta(days=5)


@pytest.mark.parametrize(
    ("words", "length", "reason"),
    [
        ("5d spamming", timedelta(days=5), "spamming"),
        ("1h30m raid", timedelta(hours=1, minutes=30), "raid"),
        ("1 week 2 days ban evasion", timedelta(days=9), "ban evasion"),
        ("90m cool off", timedelta(minutes=90), "cool off"),
        ("2 hours, 30 minutes x", timedelta(hours=2, minutes=30), "x"),
    ],
)
async def test_tempban_reads_every_way_of_writing_a_duration(
    env: simcord.Env, mw: World, bob: Any, words: str, length: timedelta, reason: str
) -> None:
    reply = await say(mw.moderator, mw.general, f"!tempban {bob.mention} {words}")
    assert "Case #1" in reply, reply
    [case] = await cases(env, mw)
    assert (case.expires_at, case.reason) == (env.now() + length, reason)


async def test_tempban_with_a_duration_then_purge_days(
    env: simcord.Env, mw: World, bob: Any
) -> None:
    await say(mw.moderator, mw.general, f"!tempban {bob.mention} 2 days 3 raid")
    [case] = await cases(env, mw)
    assert (case.expires_at, case.reason) == (env.now() + timedelta(days=2), "raid")
    [ban] = [r for r in env.http_requests if r.method == "PUT" and f"/bans/{bob.id}" in r.path]
    assert ban.params == {"delete_message_seconds": 3 * 86400}


async def test_tempban_until_a_date_and_time_of_two_words(
    env: simcord.Env, mw: World, bob: Any
) -> None:
    moment = env.now() + timedelta(days=3)
    text = moment.strftime("%Y-%m-%d %H:%M")
    reply = await say(mw.moderator, mw.general, f"!tempban {bob.mention} {text} spamming")
    assert "Case #1" in reply, reply
    [case] = await cases(env, mw)
    assert case.expires_at == moment.replace(second=0, microsecond=0)
    assert case.reason == "spamming"


async def test_timeout_two_hours_spamming(env: simcord.Env, mw: World, bob: Any) -> None:
    reply = await say(mw.moderator, mw.general, f"!timeout {bob.mention} 2 hours spamming")

    assert reply.startswith(f"🔇 Timed out {bob.mention} (Case #1)"), reply
    assert timed_out_until(env, mw, bob) == env.now() + timedelta(hours=2)
    [case] = await cases(env, mw)
    assert (case.reason, case.expires_at) == ("spamming", env.now() + timedelta(hours=2))


@pytest.mark.parametrize("command", ["tempban", "timeout"])
@pytest.mark.parametrize(
    ("words", "message"),
    [
        ("5 parsecs", "'parsecs' is not a unit of time; use s, m, h, d or w"),
        ("5", "'5' has no unit (a bare number is never read as seconds): write 5m, 5h, 5d"),
        ("5 --silent", "'5' has no unit"),
        ("3 months", "months and years have no fixed length"),
    ],
)
async def test_a_duration_without_a_known_unit_is_refused(
    env: simcord.Env, mw: World, bob: Any, command: str, words: str, message: str
) -> None:
    reply = await say(mw.moderator, mw.general, f"!{command} {bob.mention} {words}")

    assert message in reply, reply
    assert f"Usage: `!{command} <" in reply
    simcord.assert_error(env, commands.BadArgument)
    assert await cases(env, mw) == []
    assert mw.guild.get_ban(bob) is None and timed_out_until(env, mw, bob) is None


@pytest.mark.parametrize("command", ["tempban", "timeout"])
async def test_words_that_do_not_start_with_a_duration_get_the_hint(
    env: simcord.Env, mw: World, bob: Any, command: str
) -> None:
    reply = await say(mw.moderator, mw.general, f"!{command} {bob.mention} spamming for 5 days")

    assert f"give a duration first, e.g. `!{command} @bob 7d spamming`" in reply, reply
    simcord.assert_error(env, commands.BadArgument)
    assert await cases(env, mw) == []


async def test_an_optional_duration_leaves_the_reason_alone(
    env: simcord.Env, mw: World, bob: Any
) -> None:
    reply = await say(mw.moderator, mw.general, f"!pollban {bob.mention} 2 weeks poll spam")
    assert "Case #1" in reply, reply
    reply = await say(mw.moderator, mw.general, f"!snippetban {bob.mention} spamming snippets")
    assert "Case #2" in reply and "permanently" in reply, reply
    first, second = await cases(env, mw)
    assert (first.expires_at, first.reason) == (env.now() + timedelta(weeks=2), "poll spam")
    assert (second.expires_at, second.reason) == (None, "spamming snippets")
    # A number that is meant as a duration is not swallowed into the reason.
    await say(mw.moderator, mw.general, f"!pollunban {bob.mention}")
    reply = await say(mw.moderator, mw.general, f"!pollban {bob.mention} 5 parsecs")
    assert "'parsecs' is not a unit of time" in reply, reply
    simcord.assert_error(env, commands.BadArgument)
    assert len(await cases(env, mw, case_type="POLLBAN")) == 1


# --- slash -------------------------------------------------------------------------------------


async def test_slash_tempban_reads_the_duration_option(
    env: simcord.Env, mw: World, bob: Any
) -> None:
    result = await mw.moderator.slash(
        mw.general, "tempban", user=bob, duration="5 days", reason="spamming"
    )
    assert result.response is not None and "Case #1" in result.response.content
    [case] = await cases(env, mw)
    assert (case.expires_at, case.reason) == (env.now() + timedelta(days=5), "spamming")


async def test_slash_timeout_reads_the_duration_option(
    env: simcord.Env, mw: World, bob: Any
) -> None:
    result = await mw.moderator.slash(
        mw.general, "timeout", member=bob, duration="2 hours", reason="spamming"
    )
    assert result.response is not None and "Case #1" in result.response.content
    assert timed_out_until(env, mw, bob) == env.now() + timedelta(hours=2)


@pytest.mark.parametrize(
    ("duration", "message"),
    [
        ("5 parsecs", "'parsecs' is not a unit of time"),
        ("5", "has no unit (a bare number is never read as seconds)"),
        ("spamming", "'spamming' is not a duration"),
        ("5 days spamming", "is not a duration"),
    ],
)
async def test_slash_refuses_a_bad_duration_clearly(
    env: simcord.Env, mw: World, bob: Any, duration: str, message: str
) -> None:
    result = await mw.moderator.slash(
        mw.general, "tempban", user=bob, duration=duration, reason="x"
    )
    assert result.response is not None
    assert message in result.response.content, result.response.content
    assert result.response.ephemeral
    simcord.assert_error(env, Exception)
    assert await cases(env, mw) == []
    assert mw.guild.get_ban(bob) is None


# --- the other commands that take a duration ----------------------------------------------


async def test_slowmode_reads_words_and_refuses_a_bare_number(env: simcord.Env, mw: World) -> None:
    reply = await say(mw.moderator, mw.general, f"!slowmode 5 minutes {mw.bot_commands.mention}")
    assert reply == f"🐢 Slow mode in {mw.bot_commands.mention} is now 5m."
    reply = await say(mw.moderator, mw.general, "!slowmode 30")
    assert "'30' has no unit" in reply, reply
    simcord.assert_error(env, commands.BadArgument)
    reply = await say(mw.moderator, mw.general, "!slowmode 0")
    assert reply == f"🐢 Slow mode in {mw.general.mention} is now off."
    result = await mw.moderator.slash(mw.general, "slowmode", delay="2 hours")
    assert result.response is not None
    assert result.response.content == f"🐢 Slow mode in {mw.general.mention} is now 2h."
