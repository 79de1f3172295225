"""The moderation actions end to end: the real FishBot and its moderation cog under SimCord.

Every command's success path, then each refusal of the action flow (yourself, the bot, the
server owner, the role hierarchy, the moderator's permission and rank, the bot's hierarchy and
permission, a target not in the server), failures of Discord and of the database, closed DMs,
reasons that must not ping, and concurrent warns.

World: the moderator's role has rank 5 and kick/ban/moderate/manage permissions; the admin role
(Administrator) rank 6; members rank 0; #mod-log is the mod log.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import discord
import pytest
import simcord
from discord.ext import commands

from fish_bot.cogs.moderation.constants import UNTIMEOUT_JOB
from fish_bot.cogs.moderation.utils import ModerationError
from fish_bot.core.base_cog import PermissionCheckFailure
from fish_bot.database.models.cases import CaseStatus, CaseType
from fish_bot.database.models.scheduler import JobStatus

from .conftest import World, show_slash_commands
from .moderation_helpers import (
    assert_refused,
    cases,
    dms,
    exists,
    fish,
    jobs,
    post_poll,
    requests,
    say,
    set_up_moderation,
    unwrap,
)


@pytest.fixture
async def mw(env: simcord.Env, world: World) -> World:
    """The world with ranks and a mod log."""
    return await set_up_moderation(env, world)


async def jail_role(env: simcord.Env, world: World) -> Any:
    """A 'Jailed' role, configured as the server's jail role."""
    role = world.guild.create_role("Jailed")
    await fish(env).db.guild_config.update_jail_role_id(world.guild.id, role.id)
    return role


def role_ids(env: simcord.Env, world: World, actor: Any) -> set[int]:
    member = fish(env).get_guild(world.guild.id).get_member(actor.id)  # type: ignore[union-attr]
    assert member is not None
    return {role.id for role in member.roles if not role.is_default()}


# --- ban, tempban, unban -------------------------------------------------------------------


async def test_ban_dms_first_then_bans_records_and_logs(env: simcord.Env, mw: World) -> None:
    reply = await say(mw.moderator, mw.general, f"!ban {mw.member.mention} spamming links")

    assert reply.startswith(f"🔨 Banned {mw.member.mention} (Case #1).")
    assert "**Reason:** spamming links" in reply
    assert mw.guild.get_ban(mw.member) is not None
    assert mw.member.id not in mw.guild.member_ids()
    # The DM went out before the ban (the member cannot be reached afterwards).
    assert dms(mw.member) == ["🔨 You were banned from **Fish Tank**.\n**Reason:** spamming links"]
    order = [
        (r.method, r.path)
        for r in env.http_requests
        if "/bans/" in r.path or (r.method == "POST" and "/messages" in r.path)
    ]
    dm_path = f"/channels/{mw.member.user.dm_channel.id}/messages"
    assert order.index(("POST", dm_path)) < order.index(
        ("PUT", f"/guilds/{mw.guild.id}/bans/{mw.member.id}")
    )
    # The case, and its embed in the mod log with the message id stored on the case.
    [case] = await cases(env, mw)
    assert (case.case_number, case.case_type, case.status) == (1, "BAN", "active")
    assert (case.user_id, case.moderator_id, case.reason) == (
        mw.member.id,
        mw.moderator.id,
        "spamming links",
    )
    log = mw.mod_log.last_message
    assert log is not None and log.embeds[0].title == "🔨 Case #1 · Ban"
    assert case.mod_log_message_id == log.id
    fields = {field.name: field.value for field in log.embeds[0].fields}
    assert fields["Reason"] == "spamming links"
    assert str(mw.member.id) in str(fields["User"])
    # The audit log names the moderator.
    [ban] = requests(env, "PUT", f"/bans/{mw.member.id}")
    assert ban.reason == f"moderator ({mw.moderator.id}): spamming links"


async def test_ban_slash_with_purge_days_and_silent(env: simcord.Env, mw: World) -> None:
    result = await mw.moderator.slash(
        mw.general, "ban", user=mw.member, purge_days=2, reason="raid --silent"
    )

    assert result.response is not None
    assert "Banned" in result.response.content and "Case #1" in result.response.content
    assert "Silent" in result.response.content
    assert mw.guild.get_ban(mw.member) is not None
    assert dms(mw.member) == []
    [ban] = requests(env, "PUT", f"/bans/{mw.member.id}")
    assert ban.params == {"delete_message_seconds": 2 * 86400}
    [case] = await cases(env, mw)
    assert case.reason == "raid"


async def test_ban_a_user_who_is_not_a_member_by_id(env: simcord.Env, mw: World) -> None:
    outsider = env.create_user("outsider")

    reply = await say(mw.moderator, mw.general, f"!ban {outsider.id} ban evasion")

    assert "Case #1" in reply
    assert mw.guild.get_ban(outsider) is not None
    [case] = await cases(env, mw)
    assert case.user_id == outsider.id and case.case_type == "BAN"


async def test_ban_refuses_bad_purge_days_and_an_already_banned_user(
    env: simcord.Env, mw: World
) -> None:
    reply = await say(mw.moderator, mw.general, f"!ban {mw.member.mention} 9 spam")
    assert_refused(env, reply, "0 to 7 days", ModerationError)

    await say(mw.moderator, mw.general, f"!ban {mw.member.mention} spam")
    reply = await say(mw.moderator, mw.general, f"!ban {mw.member.id} again")
    assert_refused(env, reply, "is already banned", ModerationError)
    assert len(await cases(env, mw)) == 1


async def test_unban_lifts_the_ban_and_closes_its_case(env: simcord.Env, mw: World) -> None:
    await say(mw.moderator, mw.general, f"!ban {mw.member.mention} spam")

    reply = await say(mw.moderator, mw.general, f"!unban {mw.member.id} appeal accepted")

    assert reply.startswith(f"🔓 Unbanned {mw.member.mention} (Case #2).")
    assert mw.guild.get_ban(mw.member) is None
    ban, unban = await cases(env, mw)
    assert (ban.case_type, ban.status) == ("BAN", CaseStatus.LIFTED.value)
    assert (unban.case_type, unban.status, unban.reason) == ("UNBAN", "active", "appeal accepted")
    assert mw.mod_log.last_message.embeds[0].title == "🔓 Case #2 · Unban"


async def test_unban_of_someone_unbanned_by_hand_just_closes_the_case(
    env: simcord.Env, mw: World
) -> None:
    await say(mw.moderator, mw.general, f"!ban {mw.member.mention} spam")
    env.backend.remove_ban(mw.guild.id, mw.member.id)  # unbanned in Discord's own menu
    await env.settle()

    reply = await say(mw.moderator, mw.general, f"!unban {mw.member.id}")

    assert "was not banned on Discord any more; closed their open ban case" in reply
    [ban] = await cases(env, mw)
    assert ban.status == CaseStatus.LIFTED.value

    reply = await say(mw.moderator, mw.general, f"!unban {mw.member.id}")
    assert_refused(env, reply, "is not banned", ModerationError)


# --- kick, warn, note ----------------------------------------------------------------------


async def test_kick(env: simcord.Env, mw: World) -> None:
    reply = await say(mw.moderator, mw.general, f"!kick {mw.member.mention} be nice")

    assert reply.startswith(f"👢 Kicked {mw.member.mention} (Case #1).")
    assert mw.member.id not in mw.guild.member_ids()
    assert mw.guild.get_ban(mw.member) is None
    assert dms(mw.member) == ["👢 You were kicked from **Fish Tank**.\n**Reason:** be nice"]
    [case] = await cases(env, mw)
    assert (case.case_type, case.reason) == ("KICK", "be nice")


async def test_kick_slash(env: simcord.Env, mw: World) -> None:
    result = await mw.moderator.slash(mw.general, "kick", member=mw.member)

    assert result.response is not None and "Kicked" in result.response.content
    assert mw.member.id not in mw.guild.member_ids()
    [case] = await cases(env, mw)
    assert case.reason is None


async def test_warn_tells_the_member_after_recording(env: simcord.Env, mw: World) -> None:
    reply = await say(mw.moderator, mw.general, f"!warn {mw.member.mention} no spoilers")

    assert reply.startswith(f"⚠️ Warned {mw.member.mention} (Case #1).")
    assert dms(mw.member) == ["⚠️ You received a warning in **Fish Tank**.\n**Reason:** no spoilers"]
    assert mw.member.id in mw.guild.member_ids()
    [case] = await cases(env, mw)
    assert case.case_type == "WARN" and case.status == "active"

    result = await mw.moderator.slash(mw.general, "warn", member=mw.member2, reason="caps -s")
    assert result.response is not None and "Case #2" in result.response.content
    assert dms(mw.member2) == []


async def test_warn_needs_a_reason(env: simcord.Env, mw: World) -> None:
    reply = await say(mw.moderator, mw.general, f"!warn {mw.member.mention}")

    assert reply.startswith("Missing `reason`.")
    assert "Usage: `!warn <member> <reason>`" in reply
    simcord.assert_error(env, commands.MissingRequiredArgument)
    reply = await say(mw.moderator, mw.general, f"!warn {mw.member.mention} --silent")
    assert_refused(env, reply, "Give a reason", ModerationError)
    assert await cases(env, mw) == []


async def test_note_is_recorded_without_telling_anyone(env: simcord.Env, mw: World) -> None:
    outsider = env.create_user("outsider")

    reply = await say(mw.moderator, mw.general, f"!note {mw.member.mention} seems to be an alt")
    await say(mw.moderator, mw.general, f"!note {outsider.id} known raider, posts -s spam")

    assert reply.startswith(f"📝 Added a note to the record of {mw.member.mention} (Case #1).")
    assert dms(mw.member) == []
    first, second = await cases(env, mw)
    assert (first.case_type, first.reason) == ("NOTE", "seems to be an alt")
    # A note is kept as written (no --silent flag to take out).
    assert (second.user_id, second.reason) == (outsider.id, "known raider, posts -s spam")
    assert mw.mod_log.last_message.embeds[0].title == "📝 Case #2 · Note"


async def test_a_server_can_require_a_reason(env: simcord.Env, mw: World) -> None:
    await fish(env).db.guild_config.update_config(mw.guild.id, reason_required=True)

    reply = await say(mw.moderator, mw.general, f"!kick {mw.member.mention}")
    assert_refused(env, reply, "requires a reason", ModerationError)
    assert mw.member.id in mw.guild.member_ids()
    assert dms(mw.member) == []

    reply = await say(mw.moderator, mw.general, f"!kick {mw.member.mention} rule 3")
    assert "Case #1" in reply


# --- timeouts ------------------------------------------------------------------------------


async def test_timeout_and_untimeout(env: simcord.Env, mw: World) -> None:
    reply = await say(mw.moderator, mw.general, f"!timeout {mw.member.mention} 2h cool off")

    assert reply.startswith(f"🔇 Timed out {mw.member.mention} (Case #1) until <t:")
    member = fish(env).get_guild(mw.guild.id).get_member(mw.member.id)  # type: ignore[union-attr]
    assert member is not None and member.is_timed_out()
    assert member.timed_out_until == env.now() + timedelta(hours=2)
    [case] = await cases(env, mw)
    assert case.case_type == "TIMEOUT" and case.expires_at == env.now() + timedelta(hours=2)
    [job] = await jobs(env, UNTIMEOUT_JOB)
    assert job.payload == {"user_id": mw.member.id, "case_number": 1}
    assert dms(mw.member)[0].startswith("🔇 You were timed out in **Fish Tank**.")

    reply = await say(mw.moderator, mw.general, f"!timeout {mw.member.mention} 1h again")
    assert_refused(env, reply, "is already timed out", ModerationError)

    reply = await say(mw.moderator, mw.general, f"!untimeout {mw.member.mention} apologised")
    assert reply.startswith(f"🔊 Removed the timeout of {mw.member.mention} (Case #2).")
    assert not member.is_timed_out()
    timeout, untimeout = await cases(env, mw)
    assert timeout.status == CaseStatus.LIFTED.value and untimeout.case_type == "UNTIMEOUT"
    [job] = await jobs(env, UNTIMEOUT_JOB)
    assert job.status == JobStatus.CANCELLED.value

    reply = await say(mw.moderator, mw.general, f"!untimeout {mw.member.mention}")
    assert_refused(env, reply, "is not timed out", ModerationError)


async def test_timeout_limits_and_duration_errors(env: simcord.Env, mw: World) -> None:
    reply = await say(mw.moderator, mw.general, f"!timeout {mw.member.mention} 29d too long")
    assert_refused(env, reply, "at most 28 days", ModerationError)

    reply = await say(mw.moderator, mw.general, f"!timeout {mw.member.mention} soon spam")
    assert "give a duration first, e.g. `!timeout @member 7d spamming`" in reply
    assert "Usage: `!timeout <member> <duration> [reason]`" in reply
    simcord.assert_error(env, commands.BadArgument)

    reply = await say(mw.moderator, mw.general, f"!timeout {mw.admin.mention} 1h")
    # The admin is above the moderator: the hierarchy check refuses first.
    assert_refused(env, reply, "Your top role (Moderator) must be above", ModerationError)
    reply = await say(mw.owner, mw.general, f"!timeout {mw.admin.mention} 1h")
    assert_refused(env, reply, "time out an Administrator", ModerationError)

    # 28 days exactly, and an absolute date-time, are fine.
    reply = await say(mw.moderator, mw.general, f"!timeout {mw.member.mention} 28d")
    assert "Case #1" in reply
    moment = (env.now() + timedelta(days=3)).strftime("%Y-%m-%dT%H:%M")
    reply = await say(mw.moderator, mw.general, f"!timeout {mw.member2.mention} {moment} x")
    assert "Case #2" in reply
    case = (await cases(env, mw))[-1]
    assert case.expires_at == env.now() + timedelta(days=3)
    assert await cases(env, mw, case_type="TIMEOUT") != []


# --- jail ----------------------------------------------------------------------------------


async def test_jail_replaces_roles_and_unjail_restores_them(env: simcord.Env, mw: World) -> None:
    jailed = await jail_role(env, mw)

    reply = await say(mw.moderator, mw.general, f"!jail {mw.member.mention} calm down")

    assert reply.startswith(f"🔒 Jailed {mw.member.mention} (Case #1) until unjailed.")
    assert role_ids(env, mw, mw.member) == {jailed.id}
    [case] = await cases(env, mw)
    assert case.case_type == "JAIL" and case.extra == {"roles": [mw.member_role.id]}
    assert case.expires_at is None
    reply = await say(mw.moderator, mw.general, f"!jail {mw.member.mention}")
    assert_refused(env, reply, "is already jailed", ModerationError)

    reply = await say(mw.moderator, mw.general, f"!unjail {mw.member.mention} ok now")

    assert reply.startswith(f"🔑 Released {mw.member.mention} from jail (Case #2).")
    assert role_ids(env, mw, mw.member) == {mw.member_role.id}
    jail, unjail = await cases(env, mw)
    assert jail.status == CaseStatus.LIFTED.value and unjail.case_type == "UNJAIL"
    reply = await say(mw.moderator, mw.general, f"!unjail {mw.member.mention}")
    assert_refused(env, reply, "is not jailed", ModerationError)


async def test_a_jailed_member_who_rejoins_is_jailed_again(env: simcord.Env, mw: World) -> None:
    jailed = await jail_role(env, mw)
    await say(mw.moderator, mw.general, f"!jail {mw.member.mention} 1d evading")

    mw.guild.remove_member(mw.member)
    await env.settle()
    back = mw.guild.add_member(mw.member.user)
    await env.settle()

    assert role_ids(env, mw, back) == {jailed.id}
    # Someone who was never jailed joins without it.
    newcomer = mw.guild.add_member(env.create_user("newcomer"))
    await env.settle()
    assert role_ids(env, mw, newcomer) == set()


async def test_a_rejoining_jailed_member_does_not_get_a_jail_role_that_became_powerful(
    env: simcord.Env, mw: World, caplog: pytest.LogCaptureFixture
) -> None:
    """On rejoin the jail role passes the same rule as when it is set up (no managed role,
    none with administration or moderation permissions): otherwise it is skipped and logged."""
    await jail_role(env, mw)
    await say(mw.moderator, mw.general, f"!jail {mw.member.mention} 1d evading")
    # Meanwhile the jail role is replaced (bypassing `config jail role`) by a powerful one.
    powerful = mw.guild.create_role("Warden", permissions=discord.Permissions(ban_members=True))
    await fish(env).db.guild_config.update_jail_role_id(mw.guild.id, powerful.id)

    mw.guild.remove_member(mw.member)
    await env.settle()
    with caplog.at_level("WARNING"):
        back = mw.guild.add_member(mw.member.user)
        await env.settle()

    assert role_ids(env, mw, back) == set()
    assert any(
        "the jail role is not given again" in record.getMessage()
        and "Ban Members" in record.getMessage()
        for record in caplog.records
    ), [record.getMessage() for record in caplog.records]


async def test_actions_read_the_guild_config_from_the_cache(env: simcord.Env, mw: World) -> None:
    """Moderation reads the jail role, mod log and reason rule from ``bot.guild_configs``: no
    query per action once the guild is loaded, and a change through the controller is seen at
    once."""
    bot = fish(env)
    await jail_role(env, mw)
    await say(mw.moderator, mw.general, f"!note {mw.member.mention} first")  # loads the guild
    controller = bot.db.guild_config
    reads: list[Any] = []
    original = controller.get_by_id

    async def counted(*args: Any, **kwargs: Any) -> Any:
        reads.append(args)
        return await original(*args, **kwargs)

    controller.get_by_id = counted  # type: ignore[method-assign]
    try:
        reply = await say(mw.moderator, mw.general, f"!warn {mw.member.mention} spam")
        assert reply.startswith(f"⚠️ Warned {mw.member.mention} (Case #2)"), reply
        reply = await say(mw.moderator, mw.general, f"!jail {mw.member.mention} calm down")
        assert reply.startswith(f"🔒 Jailed {mw.member.mention} (Case #3)"), reply
        assert reads == []
        assert len(mw.mod_log.history()) == 3  # the mod log channel came from the cache too

        await controller.update_config(mw.guild.id, reason_required=True)
        reply = await say(mw.moderator, mw.general, f"!kick {mw.member2.mention}")
        assert_refused(env, reply, "requires a reason", ModerationError)
    finally:
        del controller.get_by_id


async def test_jail_needs_a_jail_role_the_bot_can_give(env: simcord.Env, mw: World) -> None:
    reply = await say(mw.moderator, mw.general, f"!jail {mw.member.mention}")
    assert_refused(env, reply, "has no jail role", ModerationError)

    high = mw.guild.create_role("Cell", position=50)
    await fish(env).db.guild_config.update_jail_role_id(mw.guild.id, high.id)
    await env.settle()
    reply = await say(mw.moderator, mw.general, f"!jail {mw.member.mention}")
    assert_refused(env, reply, "I can't give the jail role (Cell)", ModerationError)
    assert await cases(env, mw) == []
    assert role_ids(env, mw, mw.member) == {mw.member_role.id}


# --- poll and snippet bans -----------------------------------------------------------------


async def test_pollban_removes_polls_and_tells_the_member_why(
    env: simcord.Env, mw: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    db = fish(env).db
    reads = 0
    original = db.case.restricted_users

    async def counting(*args: Any, **kwargs: Any) -> set[int]:
        nonlocal reads
        reads += 1
        return await original(*args, **kwargs)

    monkeypatch.setattr(db.case, "restricted_users", counting)

    before = await post_poll(env, mw.member, mw.general)  # not banned yet: the poll stays
    assert exists(env, mw.general, before)
    reply = await say(mw.moderator, mw.general, f"!pollban {mw.member.mention} poll spam")
    assert reply.startswith(f"📊 Banned {mw.member.mention} from posting polls (Case #1)")

    poll = await post_poll(env, mw.member, mw.general)
    assert not exists(env, mw.general, poll)
    assert dms(mw.member)[-1] == (
        f"📊 Your poll in {mw.general.mention} was removed: you are banned from posting polls "
        "in **Fish Tank**."
    )
    other = await post_poll(env, mw.member2, mw.general)
    assert exists(env, mw.general, other)
    # Ordinary messages are left alone and read nothing; the guild's list was read once.
    message = await mw.member.send(mw.general, "just chatting")
    assert exists(env, mw.general, message.id)
    assert reads == 1

    reply = await say(mw.moderator, mw.general, f"!pollunban {mw.member.mention} fine")
    assert reply.startswith(f"📊 Allowed {mw.member.mention} to post polls again (Case #2).")
    again = await post_poll(env, mw.member, mw.general)
    assert exists(env, mw.general, again)
    assert reads == 1
    pollban, pollunban = await cases(env, mw)
    assert pollban.status == CaseStatus.LIFTED.value and pollunban.case_type == "POLLUNBAN"


async def test_a_pollban_voided_with_cases_modify_stops_removing_polls(
    env: simcord.Env, mw: World
) -> None:
    await say(mw.moderator, mw.general, f"!pollban {mw.member.mention} poll spam")
    removed = await post_poll(env, mw.member, mw.general)
    assert not exists(env, mw.general, removed)

    reply = await say(mw.admin, mw.general, "!cases modify 1 status:voided")
    assert reply.startswith("✏️ Case #1 updated: status Active → Voided."), reply

    kept = await post_poll(env, mw.member, mw.general)
    assert exists(env, mw.general, kept)
    reply = await say(mw.admin, mw.general, "!cases modify 1 status:active")
    assert reply.startswith("✏️ Case #1 updated: status Voided → Active."), reply
    removed = await post_poll(env, mw.member, mw.general)
    assert not exists(env, mw.general, removed)


async def test_pollban_tells_in_the_channel_when_dms_are_closed(
    env: simcord.Env, mw: World
) -> None:
    await say(mw.moderator, mw.general, f"!pollban {mw.member.mention} -s")
    env.inject_error(
        "POST",
        f"/channels/{mw.member.user.dm_channel.id}/messages",
        status=403,
        code=50007,
        message="Cannot send messages to this user",
    )

    poll = await post_poll(env, mw.member, mw.general)

    assert not exists(env, mw.general, poll)
    notice = mw.general.last_message
    assert notice is not None and "your poll was removed" in notice.content
    await env.advance_time(11)  # the notice goes away by itself
    assert not exists(env, mw.general, notice.id)


async def test_snippetban_is_recorded_for_the_snippets_module(env: simcord.Env, mw: World) -> None:
    db = fish(env).db
    reply = await say(mw.moderator, mw.general, f"!snippetban {mw.member.mention} 7d bad tags")

    assert reply.startswith(f"✂️ Banned {mw.member.mention} from snippets (Case #1) until <t:")
    assert await db.case.is_user_under_restriction(
        mw.guild.id, mw.member.id, CaseType.SNIPPETBAN, CaseType.SNIPPETUNBAN
    )
    reply = await say(mw.moderator, mw.general, f"!snippetban {mw.member.mention}")
    assert_refused(env, reply, "already banned from snippets", ModerationError)

    reply = await say(mw.moderator, mw.general, f"!snippetunban {mw.member.mention}")
    assert "Case #2" in reply
    assert not await db.case.is_user_under_restriction(
        mw.guild.id, mw.member.id, CaseType.SNIPPETBAN
    )
    reply = await say(mw.moderator, mw.general, f"!snippetunban {mw.member.mention}")
    assert_refused(env, reply, "is not banned from snippets", ModerationError)


# --- purge and slowmode ---------------------------------------------------------------------


async def test_purge_all_and_one_members_messages(env: simcord.Env, mw: World) -> None:
    ids = []
    for i in range(4):
        ids.append((await mw.member.send(mw.general, f"m{i}")).id)
        ids.append((await mw.member2.send(mw.general, f"o{i}")).id)

    reply = await say(mw.moderator, mw.general, f"!purge 3 {mw.member.mention}")
    assert reply == f"🧹 Deleted 3 messages from {mw.member.mention}."
    remaining = [m.id for m in mw.general.history()]
    assert [i for i in ids if i in remaining] == [ids[0], *ids[1::2]]

    result = await mw.moderator.slash(mw.general, "purge", amount=2)
    assert result.response is not None
    assert result.response.content == "🧹 Deleted 2 messages."
    # The last two messages: the bot's notice and member2's last one.
    assert [i for i in ids if exists(env, mw.general, i)] == [ids[0], ids[1], ids[3], ids[5]]
    assert mw.mod_log.last_message.embeds[0].title == "🧹 Messages purged"

    reply = await say(mw.moderator, mw.general, "!purge 501")
    assert "Usage: `!purge <amount> [member]`" in reply
    simcord.assert_error(env, commands.BadArgument)


async def test_slowmode(env: simcord.Env, mw: World) -> None:
    channel = fish(env).get_channel(mw.general.id)
    assert isinstance(channel, discord.TextChannel)

    assert await say(mw.moderator, mw.general, "!slowmode 30s") == (
        f"🐢 Slow mode in {mw.general.mention} is now 30s."
    )
    assert channel.slowmode_delay == 30
    assert await say(mw.moderator, mw.general, "!slowmode") == (
        f"🐢 Slow mode in {mw.general.mention} is 30s."
    )
    await say(mw.moderator, mw.general, f"!slowmode 2m {mw.bot_commands.mention}")
    other = fish(env).get_channel(mw.bot_commands.id)
    assert isinstance(other, discord.TextChannel) and other.slowmode_delay == 120
    assert await say(mw.moderator, mw.general, "!slowmode off") == (
        f"🐢 Slow mode in {mw.general.mention} is now off."
    )
    assert channel.slowmode_delay == 0
    reply = await say(mw.moderator, mw.general, "!slowmode 7h")
    assert_refused(env, reply, "at most 6h", ModerationError)
    reply = await say(mw.moderator, mw.general, "!slowmode fast")
    assert "give a duration first, e.g. `!slowmode 30s`" in reply
    simcord.assert_error(env, commands.BadArgument)


# --- refusals ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("command", "text"),
    [
        ("kick {self}", "You can't kick yourself."),
        ("ban {bot}", "I can't ban myself."),
        ("warn {owner} x", "You can't warn the server owner."),
        ("kick {admin}", "Your top role (Moderator) must be above the top role of"),
    ],
    ids=["yourself", "the-bot", "the-owner", "hierarchy"],
)
async def test_checks_refuse_and_change_nothing(
    env: simcord.Env, mw: World, command: str, text: str
) -> None:
    bot_user = fish(env).user
    assert bot_user is not None
    line = "!" + command.format(
        self=mw.moderator.mention,
        bot=f"<@{bot_user.id}>",
        owner=mw.owner.mention,
        admin=mw.admin.mention,
    )
    reply = await say(mw.moderator, mw.general, line)

    assert reply.startswith("⛔")
    assert_refused(env, reply, text, ModerationError)
    assert await cases(env, mw) == []
    assert requests(env, "PUT", "/bans/") == [] and requests(env, "DELETE", "/members/") == []
    assert dms(mw.admin) == [] and dms(mw.owner) == []


EVERY_TARGETED_COMMAND = [
    "ban {t} x",
    "tempban {t} 1h x",
    "kick {t} x",
    "warn {t} x",
    "note {t} x",
    "timeout {t} 1h x",
    "untimeout {t} x",
    "jail {t} x",
    "unjail {t} x",
    "pollban {t} x",
    "pollunban {t} x",
    "snippetban {t} x",
    "snippetunban {t} x",
]


@pytest.mark.parametrize("command", EVERY_TARGETED_COMMAND, ids=lambda c: c.split()[0])
async def test_every_action_respects_the_role_hierarchy(
    env: simcord.Env, mw: World, command: str
) -> None:
    reply = await say(mw.moderator, mw.general, "!" + command.format(t=mw.admin.mention))

    assert_refused(env, reply, "Your top role (Moderator) must be above", ModerationError)
    assert await cases(env, mw) == []
    assert dms(mw.admin) == []


@pytest.mark.parametrize(
    ("command", "permission", "label"),
    [
        ("ban {t} x", "ban_members", "Ban Members"),
        ("tempban {t} 1h x", "ban_members", "Ban Members"),
        ("unban {t} x", "ban_members", "Ban Members"),
        ("kick {t} x", "kick_members", "Kick Members"),
        ("timeout {t} 1h x", "moderate_members", "Moderate Members"),
        ("untimeout {t} x", "moderate_members", "Moderate Members"),
        ("jail {t} x", "manage_roles", "Manage Roles"),
        ("unjail {t} x", "manage_roles", "Manage Roles"),
        ("pollban {t} x", "manage_messages", "Manage Messages"),
    ],
    ids=lambda value: value.split()[0] if " " in value else value,
)
async def test_every_action_needs_the_bots_permission(
    env: simcord.Env, mw: World, command: str, permission: str, label: str
) -> None:
    me = mw.guild.me
    assert me is not None
    permissions = discord.Permissions.all()
    permissions.administrator = False
    setattr(permissions, permission, False)
    env.backend.edit_role(mw.guild.id, me.top_role.id, {"permissions": permissions.value})
    await env.settle()

    reply = await say(mw.moderator, mw.general, "!" + command.format(t=mw.member.mention))

    assert_refused(env, reply, f"I need the **{label}** permission", ModerationError)
    assert await cases(env, mw) == []


@pytest.mark.parametrize(
    ("command", "label"),
    [
        ("ban {t} x", "Ban Members"),
        ("kick {t} x", "Kick Members"),
        ("timeout {t} 1h x", "Moderate Members"),
        ("jail {t} x", "Manage Roles"),
    ],
    ids=lambda value: value.split()[0],
)
async def test_every_action_needs_the_moderators_permission(
    env: simcord.Env, mw: World, command: str, label: str
) -> None:
    # A helper role with rank 6 (enough for everything) but no Discord permissions.
    helper_role = mw.guild.create_role("Helper")
    helper = mw.guild.add_member(env.create_user("helper"), roles=[helper_role])
    await env.settle()
    await fish(env).permission_store.set_role_rank(mw.guild.id, helper_role.id, 6)

    reply = await say(helper, mw.general, "!" + command.format(t=mw.member.mention))

    assert_refused(env, reply, f"You need the **{label}** permission", ModerationError)
    assert await cases(env, mw) == []


async def test_a_member_with_the_same_top_role_is_out_of_reach(env: simcord.Env, mw: World) -> None:
    colleague = mw.guild.add_member(env.create_user("colleague"), roles=[mw.mod_role])
    await env.settle()

    reply = await say(mw.moderator, mw.general, f"!warn {colleague.mention} x")

    assert_refused(env, reply, "Your top role (Moderator) must be above", ModerationError)


async def test_the_server_owner_stands_above_everyone(env: simcord.Env, mw: World) -> None:
    reply = await say(mw.owner, mw.general, f"!kick {mw.admin.mention} owner's call")

    assert "Case #1" in reply
    assert mw.admin.id not in mw.guild.member_ids()


async def test_the_bots_top_role_must_be_above_the_target(env: simcord.Env, mw: World) -> None:
    high = mw.guild.create_role("Above The Bot", position=50)
    vip = mw.guild.add_member(env.create_user("vip"), roles=[high])
    await env.settle()

    reply = await say(mw.owner, mw.general, f"!ban {vip.mention} x")

    assert_refused(
        env, reply, "My top role (TestBot) must be above the top role of", ModerationError
    )
    assert "Above The Bot" in reply
    assert mw.guild.get_ban(vip) is None
    assert await cases(env, mw) == []


async def test_the_moderator_needs_the_discord_permission(env: simcord.Env, mw: World) -> None:
    # Members get rank 4 (enough for ban) but have no Ban Members permission.
    await fish(env).permission_store.set_role_rank(mw.guild.id, mw.member_role.id, 4)
    outsider = env.create_user("outsider")

    reply = await say(mw.member, mw.general, f"!ban {outsider.id} x")

    assert_refused(env, reply, "You need the **Ban Members** permission to ban members.")
    assert mw.guild.get_ban(outsider) is None


async def test_the_moderator_needs_the_rank(env: simcord.Env, mw: World) -> None:
    reply = await say(mw.member, mw.general, f"!warn {mw.member2.mention} hi")
    assert reply == "⛔ `warn` needs permission rank 2; your rank is 0."
    simcord.assert_error(env, PermissionCheckFailure, contains="needs permission rank 2")

    # The member's menu has no /ban; shown to everyone (Integrations), ranks decide.
    assert "ban" not in mw.member.available_commands(mw.general)
    show_slash_commands(env, mw.guild)
    result = await mw.member.slash(mw.general, "ban", user=mw.member2)
    assert result.response is not None
    assert result.response.content == "⛔ `ban` needs permission rank 4; your rank is 0."
    simcord.assert_error(env, Exception, contains="needs permission rank 4")
    # A moderator (rank 5) has more than ban's 4, a guild can raise it.
    await fish(env).permission_store.set_command_rank(mw.guild.id, "ban", 6)
    reply = await say(mw.moderator, mw.general, f"!ban {mw.member2.mention}")
    assert reply == "⛔ `ban` needs permission rank 6; your rank is 5."
    simcord.assert_error(env, PermissionCheckFailure)
    assert await cases(env, mw) == []
    assert mw.guild.get_ban(mw.member2) is None


async def test_the_bot_needs_the_discord_permission(env: simcord.Env, mw: World) -> None:
    me = mw.guild.me
    assert me is not None
    permissions = discord.Permissions.all()
    permissions.administrator = False
    permissions.ban_members = False
    env.backend.edit_role(mw.guild.id, me.top_role.id, {"permissions": permissions.value})
    await env.settle()

    reply = await say(mw.moderator, mw.general, f"!ban {mw.member.mention} x")

    assert_refused(env, reply, "I need the **Ban Members** permission to ban members.")
    assert dms(mw.member) == []
    assert await cases(env, mw) == []


async def test_the_target_must_be_in_the_server(env: simcord.Env, mw: World) -> None:
    outsider = env.create_user("outsider")

    reply = await say(mw.moderator, mw.general, f"!kick {outsider.id} x")
    assert reply.startswith(f'Member "{outsider.id}" not found.')
    assert "Usage: `!kick <member> [reason]`" in reply
    simcord.assert_error(env, commands.MemberNotFound)

    result = await mw.moderator.slash(mw.general, "warn", member=outsider, reason="x")
    assert result.response is not None
    assert result.response.content.startswith(f"<@{outsider.id}> is not a member of this server.")
    simcord.assert_error(env, Exception, contains="Failed to convert")
    assert await cases(env, mw) == []


# --- failures ------------------------------------------------------------------------------


async def test_a_refused_discord_action_voids_its_pending_case(env: simcord.Env, mw: World) -> None:
    env.inject_error(
        "DELETE", "/guilds/*/members/*", status=403, code=50013, message="Missing Permissions"
    )

    reply = await say(mw.moderator, mw.general, f"!kick {mw.member.mention} x")

    assert_refused(env, reply, "Discord refused to let me kick", ModerationError)
    assert "Missing Permissions" in reply and "Nothing was done (case #1 is voided)." in reply
    assert mw.member.id in mw.guild.member_ids()
    # The case was recorded before the kick was tried, and voided with Discord's reason.
    [case] = await cases(env, mw)
    assert (case.case_type, case.status) == ("KICK", "voided")
    assert "Missing Permissions" in case.extra["void_reason"]
    assert mw.mod_log.last_message is None


async def test_a_closed_dm_is_noted_not_an_error(env: simcord.Env, mw: World) -> None:
    env.inject_error(
        "POST",
        f"/channels/{mw.member.user.dm_channel.id}/messages",
        status=403,
        code=50007,
        message="Cannot send messages to this user",
    )

    reply = await say(mw.moderator, mw.general, f"!ban {mw.member.mention} spam")

    assert "Case #1" in reply and "Their DMs are closed" in reply
    assert mw.guild.get_ban(mw.member) is not None
    log = mw.mod_log.last_message
    assert log is not None and log.embeds[0].footer.text == (
        "The member's DMs are closed: they were not told."
    )


async def test_a_warn_answers_before_the_dm_and_notes_a_closed_dm_by_an_edit(
    env: simcord.Env, mw: World
) -> None:
    """The answer leaves once the case is recorded; the DM and the mod log follow."""
    dm_channel = mw.member.user.dm_channel
    reply = await say(mw.moderator, mw.general, f"!warn {mw.member.mention} spam")
    answer, dm = mw.general.last_message, dm_channel.last_message
    assert "Case #1" in reply and "DMs are closed" not in reply
    assert dm is not None and answer.id < dm.id < mw.mod_log.last_message.id

    env.inject_error(
        "POST",
        f"/channels/{dm_channel.id}/messages",
        status=403,
        code=50007,
        message="Cannot send messages to this user",
    )
    await mw.moderator.send(mw.general, f"!warn {mw.member.mention} again")
    answer = env.backend.messages[mw.general.id][mw.general.last_message.id]

    assert "Case #2" in answer.content and "Their DMs are closed" in answer.content
    assert answer.edited_timestamp is not None  # the note came by an edit
    assert mw.mod_log.last_message.embeds[0].footer.text == (
        "The member's DMs are closed: they were not told."
    )


async def test_a_warn_whose_answer_fails_still_tells_the_member_and_the_mod_log(
    env: simcord.Env, mw: World
) -> None:
    """The DM and the mod-log post follow the answer, and do not depend on it."""
    env.inject_error(
        "POST",
        f"/channels/{mw.general.id}/messages",
        status=403,
        code=50013,
        message="Missing Permissions",
        times=None,
    )
    await mw.moderator.send(mw.general, f"!warn {mw.member.mention} spam")
    await env.settle()

    [case] = await cases(env, mw)
    assert (case.case_type, case.case_number) == ("WARN", 1)
    dm = mw.member.user.dm_channel.last_message
    assert dm is not None and "spam" in dm.content
    log = mw.mod_log.last_message
    assert log is not None and log.embeds[0].footer.text == "The member was told by DM."
    assert case.mod_log_message_id == log.id
    # The failed answer reached the error policy (acknowledged here).
    assert any(isinstance(unwrap(e), discord.Forbidden) for e in env.errors)


async def test_a_case_that_cannot_be_recorded_stops_the_action(
    env: simcord.Env, mw: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def broken(**_: Any) -> Any:
        raise RuntimeError("database on fire")

    monkeypatch.setattr(fish(env).db.case, "insert_case", broken)

    reply = await say(mw.moderator, mw.general, f"!ban {mw.member.mention} spam")

    # The record comes first: it failed, so nobody was told or banned.
    assert reply.startswith("Sorry, something went wrong on our side (error id `")
    assert "Banned" not in reply
    assert mw.guild.get_ban(mw.member) is None
    assert dms(mw.member) == []
    simcord.assert_error(env, RuntimeError, contains="database on fire")


# --- mentions and concurrency ----------------------------------------------------------------


async def test_mentions_in_reasons_never_ping(env: simcord.Env, mw: World) -> None:
    reason = f"@everyone @here {mw.mod_role.mention} {mw.member2.mention} look"
    dm_channel = mw.member.user.dm_channel

    await say(mw.moderator, mw.general, f"!warn {mw.member.mention} {reason}")

    sent = [
        env.backend.messages[mw.general.id][mw.general.last_message.id],
        env.backend.messages[mw.mod_log.id][mw.mod_log.last_message.id],
        env.backend.messages[dm_channel.id][dm_channel.last_message.id],
    ]
    assert reason in sent[0].content and reason in sent[2].content
    for message in sent:
        assert message.ping_user_ids == [], message.content
        assert message.ping_role_ids == []
        assert message.mention_everyone is False
    for request in requests(env, "POST", "/messages"):
        assert request.json["allowed_mentions"] == {"parse": []}, request.json
    [case] = await cases(env, mw)
    assert case.reason == reason


async def test_concurrent_warns_get_consecutive_case_numbers(
    env: simcord.Env, mw: World, db_backend: str
) -> None:
    """50 warns at once: case numbers 1..50, no gap, no duplicate (SQLite and PostgreSQL)."""
    count = 50
    assert fish(env).database.dialect == db_backend
    members = [mw.guild.add_member(env.create_user(f"user{i}")) for i in range(count)]
    await env.settle()
    # Fifty commands arrive before the bot handles any of them.
    for index, member in enumerate(members):
        env.backend.create_message(
            mw.general.id, mw.moderator.id, f"!warn {member.mention} warn {index}"
        )
    await env.settle()

    found = await cases(env, mw)
    assert sorted(case.case_number for case in found) == list(range(1, count + 1))
    assert {case.user_id for case in found} == {member.id for member in members}
    replies = [m.content for m in mw.general.history() if m.author.id == fish(env).user.id]  # type: ignore[union-attr]
    numbers = sorted(int(r.split("Case #")[1].split(")")[0]) for r in replies)
    assert numbers == list(range(1, count + 1))
