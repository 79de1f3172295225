"""The AFK commands through the real bot, prefix and slash: `afk`, `permafk`, `afk list`,
`afk clear`, with their refusals and the nickname rule."""

from __future__ import annotations

from datetime import timedelta

import pytest
import simcord

from fish_bot.core.base_cog import PermissionCheckFailure
from fish_bot.exceptions import UserFacingError

from .afk_helpers import afk_jobs, afk_state, bot_messages, nick, pinged_nobody, set_up
from .conftest import World, say
from .moderation_helpers import fish


@pytest.fixture
async def aw(env: simcord.Env, world: World) -> World:
    return await set_up(env, world)


# --- afk -------------------------------------------------------------------------------------


async def test_afk_without_arguments(env: simcord.Env, aw: World) -> None:
    reply = await say(aw.member, aw.general, "!afk")

    assert reply.content == (
        f"💤 {aw.member.mention} is AFK: no reason given. Your next message ends it."
    )
    state = await afk_state(env, aw, aw.member)
    assert state is not None and state.reason is None and state.until is None
    assert state.since == env.now() and not state.permanent
    assert nick(env, aw, aw.member) == "[AFK] member"
    assert await afk_jobs(env) == []


async def test_afk_with_a_duration_and_a_reason(env: simcord.Env, aw: World) -> None:
    reply = await say(aw.member, aw.general, "!afk 2h lunch with the fish")

    state = await afk_state(env, aw, aw.member)
    assert state is not None and state.reason == "lunch with the fish"
    assert state.until == env.now() + timedelta(hours=2)
    assert reply.content.startswith(f"💤 {aw.member.mention} is AFK: `lunch with the fish`.")
    assert f"It ends <t:{int(state.until.timestamp())}:R>." in reply.content
    [job] = await afk_jobs(env)
    assert job.run_at == state.until and job.guild_id == aw.guild.id
    assert job.payload["member_id"] == aw.member.id


async def test_afk_reads_a_duration_in_words(env: simcord.Env, aw: World) -> None:
    await say(aw.member, aw.general, "!afk 1 hour and 30 minutes dentist")

    state = await afk_state(env, aw, aw.member)
    assert state is not None and state.reason == "dentist"
    assert state.until == env.now() + timedelta(minutes=90)


async def test_a_reason_that_starts_with_a_number_is_a_reason(env: simcord.Env, aw: World) -> None:
    await say(aw.member, aw.general, "!afk 5 more minutes of sleep")

    state = await afk_state(env, aw, aw.member)
    assert state is not None and state.until is None
    assert state.reason == "5 more minutes of sleep"


async def test_afk_as_a_slash_command(env: simcord.Env, aw: World) -> None:
    result = await aw.member.slash(aw.general, "afk set", duration="30m", reason="walking")

    assert result.response is not None
    assert result.response.content.startswith(f"💤 {aw.member.mention} is AFK: `walking`.")
    state = await afk_state(env, aw, aw.member)
    assert state is not None and state.until == env.now() + timedelta(minutes=30)
    assert nick(env, aw, aw.member) == "[AFK] member"


async def test_a_slash_duration_that_is_no_duration_is_refused(env: simcord.Env, aw: World) -> None:
    result = await aw.member.slash(aw.general, "afk set", duration="soon", reason="x")

    assert result.response is not None
    # The duration parser's own message, with its example of a good value.
    assert result.response.content.startswith("❌ ")
    assert "soon" in result.response.content and "e.g." in result.response.content
    simcord.assert_error(env, Exception, contains="soon")
    assert await afk_state(env, aw, aw.member) is None
    assert nick(env, aw, aw.member) is None


async def test_a_duration_out_of_range_is_refused(env: simcord.Env, aw: World) -> None:
    reply = await say(aw.member, aw.general, "!afk 400d long holiday")
    assert reply.content == "❌ A timed AFK lasts between 1 minute and 365 days (e.g. `2h`)."
    simcord.assert_error(env, UserFacingError, contains="between 1 minute")

    result = await aw.member.slash(aw.general, "afk set", duration="10s")
    assert result.response is not None and "between 1 minute" in result.response.content
    simcord.assert_error(env, Exception, contains="between 1 minute")
    assert await afk_state(env, aw, aw.member) is None


async def test_a_reason_over_100_characters_is_refused(env: simcord.Env, aw: World) -> None:
    reply = await say(aw.member, aw.general, "!afk " + "z" * 101)
    assert reply.content == "❌ An AFK reason is at most 100 characters; yours has 101."
    simcord.assert_error(env, UserFacingError, contains="at most 100")

    result = await aw.member.slash(aw.general, "afk set", reason="y" * 150)
    assert result.response is not None
    assert result.response.content == "❌ An AFK reason is at most 100 characters; yours has 150."
    simcord.assert_error(env, Exception, contains="at most 100")
    assert await afk_state(env, aw, aw.member) is None

    await say(aw.member, aw.general, "!afk " + "z" * 100)
    state = await afk_state(env, aw, aw.member)
    assert state is not None and state.reason == "z" * 100


async def test_a_reason_pings_nobody(env: simcord.Env, aw: World) -> None:
    text = f"@everyone <@&{aw.mod_role.id}> <@{aw.member2.id}>"
    reply = await say(aw.member, aw.general, f"!afk {text}")

    assert f"`{text}`" in reply.content
    assert pinged_nobody(env, reply)
    state = await afk_state(env, aw, aw.member)
    assert state is not None and state.reason == text


async def test_afk_while_afk_updates_the_reason_without_stacking(
    env: simcord.Env, aw: World
) -> None:
    await say(aw.member, aw.general, "!afk 2h lunch")
    first = await afk_state(env, aw, aw.member)
    await env.advance_time(60)

    reply = await say(aw.member, aw.general, "!afk still eating")

    assert reply.content.startswith("💤 Updated your AFK: `still eating`.")
    state = await afk_state(env, aw, aw.member)
    assert first is not None and state is not None
    assert state.reason == "still eating" and state.since == first.since
    assert state.until == first.until  # no duration given: the end stays
    assert nick(env, aw, aw.member) == "[AFK] member"
    assert len(await fish(env).db.afk.get_all_afk_members(aw.guild.id)) == 1

    await say(aw.member, aw.general, "!afk 3h later than planned")
    state = await afk_state(env, aw, aw.member)
    assert state is not None and state.until == env.now() + timedelta(hours=3)
    pending = [job for job in await afk_jobs(env) if job.status == "pending"]
    assert [job.run_at for job in pending] == [state.until]
    assert nick(env, aw, aw.member) == "[AFK] member"


async def test_afk_only_works_in_a_server(env: simcord.Env, aw: World) -> None:
    await aw.member.send_dm("!afk lunch")
    answer = aw.member.user.dm_channel.last_message
    assert answer is not None and answer.author.bot
    assert "server" in answer.content
    simcord.assert_error(env, Exception)


# --- nicknames -------------------------------------------------------------------------------


async def test_the_nickname_is_restored_exactly(env: simcord.Env, aw: World) -> None:
    fishy = aw.guild.add_member(env.create_user("fishy"), nick="Captain Fishy")
    await say(fishy, aw.general, "!afk")
    assert nick(env, aw, fishy) == "[AFK] Captain Fishy"
    state = await afk_state(env, aw, fishy)
    assert state is not None and state.nickname_before == "Captain Fishy"

    await say(aw.moderator, aw.general, f"!afk clear {fishy.mention}")
    assert nick(env, aw, fishy) == "Captain Fishy"

    await say(aw.member, aw.general, "!afk")
    await say(aw.moderator, aw.general, f"!afk clear {aw.member.mention}")
    assert nick(env, aw, aw.member) is None  # no nickname before: none after


async def test_a_long_name_stays_within_32_characters(env: simcord.Env, aw: World) -> None:
    long = aw.guild.add_member(env.create_user("l" * 32))
    await say(long, aw.general, "!afk")

    given = nick(env, aw, long)
    assert given is not None and len(given) == 32
    assert given.startswith("[AFK] lll") and given.endswith("…")
    await say(aw.moderator, aw.general, f"!afk clear {long.mention}")
    assert nick(env, aw, long) is None


async def test_a_name_with_the_prefix_gets_no_second_one(env: simcord.Env, aw: World) -> None:
    already = aw.guild.add_member(env.create_user("already"), nick="[AFK] already")
    reply = await say(already, aw.general, "!afk")

    assert nick(env, aw, already) == "[AFK] already"
    assert "nickname" not in reply.content
    await say(aw.moderator, aw.general, f"!afk clear {already.mention}")
    assert nick(env, aw, already) == "[AFK] already"


async def test_when_the_bot_cannot_rename_afk_still_works(env: simcord.Env, aw: World) -> None:
    reply = await say(aw.owner, aw.general, "!afk meeting")

    assert reply.content.endswith("I left your nickname alone: I am not allowed to change it.")
    state = await afk_state(env, aw, aw.owner)
    assert state is not None and state.reason == "meeting" and state.afk_nickname is None
    assert nick(env, aw, aw.owner) is None
    notice = await say(aw.member, aw.general, f"where is {aw.owner.mention}?")
    assert "`meeting`" in notice.content


async def test_the_nickname_can_be_turned_off(env: simcord.Env, aw: World) -> None:
    await say(aw.owner, aw.general, "!settings set afk set_nickname off")
    reply = await say(aw.member, aw.general, "!afk")

    assert nick(env, aw, aw.member) is None
    assert "nickname" not in reply.content
    assert await afk_state(env, aw, aw.member) is not None


# --- permafk ---------------------------------------------------------------------------------


async def test_permafk_toggles(env: simcord.Env, aw: World) -> None:
    reply = await say(aw.member, aw.general, "!permafk on a boat")
    assert reply.content == (
        f"💤 {aw.member.mention} is permanently AFK: `on a boat`. Your messages do not end it; "
        "`permafk` again does."
    )
    state = await afk_state(env, aw, aw.member)
    assert state is not None and state.permanent and state.until is None
    assert nick(env, aw, aw.member) == "[AFK] member"

    await env.advance_time(60)
    await aw.member.send(aw.general, "hello from the boat")
    assert await afk_state(env, aw, aw.member) is not None

    result = await aw.member.slash(aw.general, "permafk")
    assert result.response is not None
    assert result.response.content == (
        f"👋 Welcome back, {aw.member.mention}: your permanent AFK is off."
    )
    assert await afk_state(env, aw, aw.member) is None
    assert nick(env, aw, aw.member) is None


async def test_permafk_turns_a_timed_afk_permanent(env: simcord.Env, aw: World) -> None:
    await say(aw.member, aw.general, "!afk 1h lunch")
    result = await aw.member.slash(aw.general, "permafk", reason="gone fishing")

    assert result.response is not None
    assert result.response.content.startswith("💤 Updated your AFK: `gone fishing`.")
    state = await afk_state(env, aw, aw.member)
    assert state is not None and state.permanent and state.until is None
    assert [job.status for job in await afk_jobs(env)] == ["cancelled"]
    await env.advance_time(2 * 3600)
    assert await afk_state(env, aw, aw.member) is not None


async def test_permafk_refuses_a_long_reason(env: simcord.Env, aw: World) -> None:
    reply = await say(aw.member, aw.general, "!permafk " + "p" * 120)
    assert reply.content == "❌ An AFK reason is at most 100 characters; yours has 120."
    simcord.assert_error(env, UserFacingError)
    result = await aw.member.slash(aw.general, "permafk", reason="q" * 101)
    assert result.response is not None
    assert result.response.content == "❌ An AFK reason is at most 100 characters; yours has 101."
    simcord.assert_error(env, Exception, contains="at most 100")
    assert await afk_state(env, aw, aw.member) is None


# --- afk list and afk clear ------------------------------------------------------------------


async def test_afk_list_shows_who_is_afk(env: simcord.Env, aw: World) -> None:
    reply = await say(aw.moderator, aw.general, "!afk list")
    assert reply.content == "Nobody is AFK here."

    await say(aw.member, aw.general, "!afk 2h lunch")
    await env.advance_time(60)
    await say(aw.member2, aw.general, "!permafk <@&1> away")

    reply = await say(aw.moderator, aw.general, "!afk list")
    [embed] = reply.embeds
    assert embed.title == "AFK members (2)"
    first, second = (embed.description or "").split("\n")
    assert first.startswith(f"<@{aw.member.id}> · `lunch` · since <t:")
    assert "· until <t:" in first
    assert second.startswith(f"<@{aw.member2.id}> · `<@&1> away`")
    assert second.endswith("· permanent")
    assert pinged_nobody(env, reply)

    result = await aw.moderator.slash(aw.general, "afk list")
    assert result.response is not None
    assert result.response.embeds[0].title == "AFK members (2)"


async def test_afk_list_and_clear_need_the_moderator_rank(env: simcord.Env, aw: World) -> None:
    await say(aw.member2, aw.general, "!afk")
    reply = await say(aw.member, aw.general, "!afk list")
    assert reply.content == "⛔ `afk list` needs permission rank 2; your rank is 0."
    simcord.assert_error(env, PermissionCheckFailure)

    result = await aw.member.slash(aw.general, "afk list")
    assert result.response is not None
    assert result.response.content == "⛔ `afk list` needs permission rank 2; your rank is 0."
    simcord.assert_error(env, Exception, contains="needs permission rank 2")

    reply = await say(aw.member, aw.general, f"!afk clear {aw.member2.mention}")
    assert reply.content == "⛔ `afk clear` needs permission rank 2; your rank is 0."
    simcord.assert_error(env, PermissionCheckFailure)
    result = await aw.member.slash(aw.general, "afk clear", member=aw.member2)
    assert result.response is not None
    assert result.response.content == "⛔ `afk clear` needs permission rank 2; your rank is 0."
    simcord.assert_error(env, Exception, contains="needs permission rank 2")
    assert await afk_state(env, aw, aw.member2) is not None


async def test_afk_clear_ends_an_afk_and_gives_the_name_back(env: simcord.Env, aw: World) -> None:
    await say(aw.member, aw.general, "!afk 2h lunch")
    await say(aw.member2, aw.general, "!permafk forever")

    reply = await say(aw.moderator, aw.general, f"!afk clear {aw.member.mention}")
    assert reply.content == f"✅ Ended the AFK of {aw.member.mention}."
    assert await afk_state(env, aw, aw.member) is None
    assert nick(env, aw, aw.member) is None
    assert [job.status for job in await afk_jobs(env)] == ["cancelled"]

    result = await aw.moderator.slash(aw.general, "afk clear", member=aw.member2)
    assert result.response is not None
    assert result.response.content == f"✅ Ended the AFK of {aw.member2.mention}."
    assert await afk_state(env, aw, aw.member2) is None


async def test_afk_clear_of_someone_not_afk_is_refused(env: simcord.Env, aw: World) -> None:
    reply = await say(aw.moderator, aw.general, f"!afk clear {aw.member.mention}")
    assert reply.content == f"{aw.member.mention} is not AFK."
    simcord.assert_error(env, UserFacingError, contains="is not AFK")

    result = await aw.moderator.slash(aw.general, "afk clear", member=aw.member)
    assert result.response is not None
    assert result.response.content == f"{aw.member.mention} is not AFK."
    simcord.assert_error(env, Exception, contains="is not AFK")


async def test_the_command_messages_themselves_do_not_end_the_afk(
    env: simcord.Env, aw: World
) -> None:
    await say(aw.moderator, aw.general, "!afk")
    await env.advance_time(60)
    before = bot_messages(aw.general)
    await say(aw.moderator, aw.general, "!afk list")
    assert await afk_state(env, aw, aw.moderator) is not None
    assert not any("Welcome back" in m.content for m in bot_messages(aw.general)[len(before) :])


async def test_status_shows_the_afk_members_and_pending_expiries(
    env: simcord.Env, aw: World
) -> None:
    await say(aw.member, aw.general, "!afk 2h lunch")
    await say(aw.member2, aw.general, "!permafk away")

    reply = await say(aw.owner, aw.general, "!status afk")

    fields = {field.name: field.value for field in reply.embeds[0].fields}
    assert fields["State"] == "Ready"
    assert fields["AFK members in memory"] == "2"
    assert fields["Pending AFK expiries"] == "1"
