"""Timed moderation actions end on time through the persisted job scheduler.

Virtual time (``env.advance_time``) drives the scheduler. A tempban is lifted on time, also when
the bot restarted in between, and right after start-up when it came due while the bot was down;
nothing is lifted twice. Timed jails, poll bans, snippet bans and timeouts expire the same way.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import pytest
import simcord

from fish_bot.bot import FishBot
from fish_bot.cogs.moderation.constants import (
    POLLUNBAN_JOB,
    SNIPPETUNBAN_JOB,
    UNBAN_JOB,
    UNJAIL_JOB,
    UNTIMEOUT_JOB,
)
from fish_bot.database.models.cases import CaseStatus, CaseType
from fish_bot.database.models.scheduler import JobStatus

from .conftest import World
from .moderation_helpers import (
    cases,
    exists,
    fish,
    jobs,
    moderation,
    post_poll,
    requests,
    restart,
    say,
    set_up_moderation,
)

HOUR = 3600


@pytest.fixture
async def mw(env: simcord.Env, world: World) -> World:
    return await set_up_moderation(env, world)


def unbans(env: simcord.Env, world: World) -> int:
    """How many unban requests the bot made for the member."""
    return len(requests(env, "DELETE", f"/guilds/{world.guild.id}/bans/{world.member.id}"))


async def test_a_tempban_is_lifted_on_time_once(env: simcord.Env, mw: World) -> None:
    reply = await say(mw.moderator, mw.general, f"!tempban {mw.member.mention} 2h cool down")

    assert reply.startswith(f"⏳ Temporarily banned {mw.member.mention} (Case #1) until <t:")
    assert "(2h)" in reply
    [case] = await cases(env, mw)
    assert case.case_type == "TEMPBAN" and case.expires_at == env.now() + timedelta(hours=2)
    [job] = await jobs(env, UNBAN_JOB)
    assert job.payload == {"user_id": mw.member.id, "case_number": 1}
    assert job.guild_id == mw.guild.id and job.run_at == case.expires_at
    assert "Until:" in mw.member.user.dm_channel.last_message.content

    await env.advance_time(2 * HOUR - 1)
    assert mw.guild.get_ban(mw.member) is not None
    assert unbans(env, mw) == 0

    await env.advance_time(2)
    assert mw.guild.get_ban(mw.member) is None
    [case] = await cases(env, mw)
    assert case.status == CaseStatus.EXPIRED.value
    [job] = await jobs(env, UNBAN_JOB)
    assert job.status == JobStatus.DONE.value
    log = mw.mod_log.last_message
    assert log is not None and log.embeds[0].title == "⌛ Case #1 · Temporary ban expired"
    assert log.embeds[0].fields[-1].value == "The user was unbanned."

    await env.advance_time(24 * HOUR)
    assert unbans(env, mw) == 1
    assert len(mw.mod_log.history()) == 2  # the case, then its expiry


async def test_a_tempban_survives_a_restart(
    env: simcord.Env, mw: World, make_bot: Callable[..., FishBot]
) -> None:
    await say(mw.moderator, mw.general, f"!tempban {mw.member.mention} 1h")

    await restart(env, make_bot)
    await env.advance_time(HOUR - 5)
    assert mw.guild.get_ban(mw.member) is not None

    await env.advance_time(10)
    assert mw.guild.get_ban(mw.member) is None
    assert unbans(env, mw) == 1
    [case] = await cases(env, mw)
    assert case.status == CaseStatus.EXPIRED.value


async def test_a_tempban_due_while_the_bot_was_down_is_lifted_at_start_up(
    env: simcord.Env, mw: World, make_bot: Callable[..., FishBot]
) -> None:
    await say(mw.moderator, mw.general, f"!tempban {mw.member.mention} 1h")
    # The bot goes down: its job runner stops, and the expiry passes while nothing runs.
    await fish(env).scheduler.stop()
    await env.advance_time(3 * HOUR)
    assert mw.guild.get_ban(mw.member) is not None
    [job] = await jobs(env, UNBAN_JOB)
    assert job.status == JobStatus.PENDING.value

    # It starts again: the overdue job runs right after start-up, without waiting.
    await restart(env, make_bot)

    assert mw.guild.get_ban(mw.member) is None
    [case] = await cases(env, mw)
    assert case.status == CaseStatus.EXPIRED.value
    [job] = await jobs(env, UNBAN_JOB)
    assert job.status == JobStatus.DONE.value and job.attempts == 1
    # Nothing is lifted twice: not by another restart, not later.
    await restart(env, make_bot)
    await env.advance_time(24 * HOUR)
    assert unbans(env, mw) == 1
    assert [m.embeds[0].title for m in mw.mod_log.history()] == [
        "⏳ Case #1 · Temporary ban",
        "⌛ Case #1 · Temporary ban expired",
    ]


async def test_an_unban_cancels_the_pending_expiry(env: simcord.Env, mw: World) -> None:
    await say(mw.moderator, mw.general, f"!tempban {mw.member.mention} 1h")

    await say(mw.moderator, mw.general, f"!unban {mw.member.id} early release")
    await env.advance_time(2 * HOUR)

    assert unbans(env, mw) == 1
    tempban, unban = await cases(env, mw)
    assert tempban.status == CaseStatus.LIFTED.value
    assert unban.case_type == "UNBAN"
    [job] = await jobs(env, UNBAN_JOB)
    assert job.status == JobStatus.CANCELLED.value


async def test_an_expiry_that_finds_the_user_unbanned_just_closes_the_case(
    env: simcord.Env, mw: World
) -> None:
    await say(mw.moderator, mw.general, f"!tempban {mw.member.mention} 1h")
    env.backend.remove_ban(mw.guild.id, mw.member.id)  # unbanned by hand in Discord
    await env.settle()

    await env.advance_time(HOUR + 1)

    [case] = await cases(env, mw)
    assert case.status == CaseStatus.EXPIRED.value
    [job] = await jobs(env, UNBAN_JOB)
    assert job.status == JobStatus.DONE.value
    assert mw.mod_log.last_message.embeds[0].fields[-1].value == "The user was already unbanned."


async def test_expiry_handlers_are_idempotent(env: simcord.Env, mw: World) -> None:
    await say(mw.moderator, mw.general, f"!tempban {mw.member.mention} 1h")
    await env.advance_time(HOUR + 1)
    [job] = await jobs(env, UNBAN_JOB)

    # The scheduler may run a job again after a crash: the second run changes nothing.
    await moderation(env).jobs.unban(job)
    await env.settle()

    assert unbans(env, mw) == 1
    assert len(mw.mod_log.history()) == 2


async def test_a_timed_jail_ends_and_gives_the_roles_back(env: simcord.Env, mw: World) -> None:
    jailed = mw.guild.create_role("Jailed")
    await fish(env).db.guild_config.update_jail_role_id(mw.guild.id, jailed.id)
    await env.settle()

    reply = await say(mw.moderator, mw.general, f"!jail {mw.member.mention} 30m think")
    assert "(30m)" in reply
    member = fish(env).get_guild(mw.guild.id).get_member(mw.member.id)  # type: ignore[union-attr]
    assert member is not None and [r.id for r in member.roles[1:]] == [jailed.id]

    await env.advance_time(30 * 60 + 1)

    assert [r.id for r in member.roles[1:]] == [mw.member_role.id]
    [case] = await cases(env, mw)
    assert case.status == CaseStatus.EXPIRED.value
    [job] = await jobs(env, UNJAIL_JOB)
    assert job.status == JobStatus.DONE.value
    # No longer jailed: leaving and coming back brings no jail role.
    mw.guild.remove_member(mw.member)
    await env.settle()
    back = mw.guild.add_member(mw.member.user)
    await env.settle()
    assert back.member is not None and [r.id for r in back.member.roles[1:]] == []


async def test_a_timed_pollban_ends_and_polls_are_allowed_again(
    env: simcord.Env, mw: World
) -> None:
    await say(mw.moderator, mw.general, f"!pollban {mw.member.mention} 1d")
    removed = await post_poll(env, mw.member, mw.general)
    assert not exists(env, mw.general, removed)

    await env.advance_time(24 * HOUR + 1)

    kept = await post_poll(env, mw.member, mw.general)
    assert exists(env, mw.general, kept)
    [case] = await cases(env, mw)
    assert case.status == CaseStatus.EXPIRED.value
    [job] = await jobs(env, POLLUNBAN_JOB)
    assert job.status == JobStatus.DONE.value


async def test_timed_snippetban_and_timeout_cases_expire(env: simcord.Env, mw: World) -> None:
    db = fish(env).db
    await say(mw.moderator, mw.general, f"!snippetban {mw.member.mention} 2h")
    await say(mw.moderator, mw.general, f"!timeout {mw.member2.mention} 1h")

    await env.advance_time(HOUR + 1)
    timeout = (await cases(env, mw, case_type="TIMEOUT"))[0]
    assert timeout.status == CaseStatus.EXPIRED.value
    assert await db.case.is_user_under_restriction(mw.guild.id, mw.member.id, CaseType.SNIPPETBAN)

    await env.advance_time(HOUR)
    assert not await db.case.is_user_under_restriction(
        mw.guild.id, mw.member.id, CaseType.SNIPPETBAN
    )
    for job_type in (SNIPPETUNBAN_JOB, UNTIMEOUT_JOB):
        [job] = await jobs(env, job_type)
        assert job.status == JobStatus.DONE.value
    titles = [m.embeds[0].title for m in mw.mod_log.history()]
    assert titles[-2:] == ["⌛ Case #2 · Timeout expired", "⌛ Case #1 · Snippet ban expired"]


async def test_a_new_tempban_closes_stale_ban_cases_and_their_jobs(
    env: simcord.Env, mw: World
) -> None:
    await say(mw.moderator, mw.general, f"!tempban {mw.member.mention} 1h first")
    env.backend.remove_ban(mw.guild.id, mw.member.id)  # unbanned by hand in Discord
    await env.settle()

    await say(mw.moderator, mw.general, f"!tempban {mw.member.id} 3h second")
    await env.advance_time(HOUR + 1)

    # The first tempban's expiry was cancelled: it does not end the second one early.
    assert mw.guild.get_ban(mw.member) is not None
    first, second = await cases(env, mw)
    assert first.status == CaseStatus.LIFTED.value and second.status == "active"
    assert [job.status for job in await jobs(env, UNBAN_JOB)] == ["cancelled", "pending"]

    await env.advance_time(2 * HOUR)
    assert mw.guild.get_ban(mw.member) is None
    assert unbans(env, mw) == 1
