"""Server logs through the real bot: each event reaches its log channel, batched, without pings;
moderation done by hand in Discord becomes a case."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import discord
import pytest
import simcord

from fish_bot.database.models.cases import CaseType

from .conftest import World
from .moderation_helpers import assert_refused, cases, fish, say, set_up_moderation

FLUSH = 5  # seconds of virtual time: more than the batch delay
pytestmark = pytest.mark.usefixtures("virtual_log_batches")


@pytest.fixture
async def logs(env: simcord.Env, world: World) -> dict[str, Any]:
    """Message, member and server log channels configured (and moderation ranks)."""
    await set_up_moderation(env, world)
    guild = world.guild
    channels = {
        kind: guild.create_text_channel(f"{kind}-log") for kind in ("message", "member", "server")
    }
    await env.settle()
    for kind, channel in channels.items():  # through the bot, as a server owner would
        await say(world.admin, world.general, f"!config log {kind} {channel.mention}")
    await env.advance_time(FLUSH)  # the channels' own "created" entries, before the test
    for channel in channels.values():
        for message in list(channel.history()):
            env.backend.messages[channel.id].pop(message.id, None)
    return channels


def entries(channel: Any) -> list[discord.Embed]:
    """Every embed the bot posted in a log channel, oldest first."""
    return [
        embed for message in channel.history() if message.author.bot for embed in message.embeds
    ]


def titles(channel: Any) -> list[str]:
    return [embed.title or "" for embed in entries(channel)]


def text_of(embed: discord.Embed) -> str:
    parts = [embed.title or "", embed.description or ""]
    parts += [f"{f.name}: {f.value}" for f in embed.fields]
    return "\n".join(parts)


# --- messages ---------------------------------------------------------------------------------


async def test_a_deleted_message_is_logged_with_its_content(
    env: simcord.Env, world: World, logs: dict[str, Any]
) -> None:
    message = await world.member.send(world.general, "something I regret @everyone")
    await world.member.delete(message)
    await env.advance_time(FLUSH)

    [embed] = entries(logs["message"])
    assert embed.title == "🗑️ Message deleted"
    assert "something I regret @everyone" in (embed.description or "")
    assert f"member ({world.member.id})" in text_of(embed)
    assert f"general ({world.general.id})" in text_of(embed)
    [posted] = [m for m in logs["message"].history() if m.author.bot]
    stored = env.backend.messages[logs["message"].id][posted.id]
    assert not stored.mention_everyone and not stored.ping_user_ids


async def test_an_uncached_deleted_message_says_so(
    env: simcord.Env, world: World, logs: dict[str, Any]
) -> None:
    message = await world.member.send(world.general, "old news")
    fish(env)._connection._messages.clear()  # type: ignore[union-attr]
    await world.member.delete(message)
    await env.advance_time(FLUSH)

    [embed] = entries(logs["message"])
    assert "not in my cache" in (embed.description or "")
    assert str(message.id) in text_of(embed)


async def test_a_bulk_delete_is_one_entry_with_a_file(
    env: simcord.Env, world: World, logs: dict[str, Any]
) -> None:
    sent = [await world.member.send(world.general, f"spam {n}") for n in range(12)]
    env.backend.bulk_delete_messages(world.general.id, [m.id for m in sent])
    await env.settle()
    await env.advance_time(FLUSH)

    [posted] = [m for m in logs["message"].history() if m.author.bot]
    assert posted.embeds[0].title == "🗑️ 12 messages deleted at once"
    [attachment] = posted.attachments
    assert attachment.filename.startswith("deleted-messages-")


async def test_an_edit_shows_before_and_after_with_a_jump_link(
    env: simcord.Env, world: World, logs: dict[str, Any]
) -> None:
    message = await world.member.send(world.general, "teh first")
    await world.member.edit(message, "the first")
    await env.advance_time(FLUSH)

    [embed] = entries(logs["message"])
    assert embed.title == "✏️ Message edited"
    assert "teh first" in (embed.description or "") and "the first" in (embed.description or "")
    assert f"/channels/{world.guild.id}/{world.general.id}/{message.id}" in text_of(embed)


async def test_long_edits_are_split_over_embeds(
    env: simcord.Env, world: World, logs: dict[str, Any]
) -> None:
    message = await world.member.send(world.general, "a" * 1999)
    await world.member.edit(message, "b" * 1999)
    await env.advance_time(FLUSH)

    found = entries(logs["message"])
    assert len(found) >= 2
    assert all(len(embed.description or "") <= 4096 for embed in found)
    joined = "".join(embed.description or "" for embed in found)
    assert "a" * 1999 in joined and "b" * 1999 in joined


async def test_ignored_channels_log_channels_and_bots_are_left_out(
    env: simcord.Env, world: World, logs: dict[str, Any]
) -> None:
    assert "left out" in await say(
        world.admin, world.general, f"!logs ignore {world.bot_commands.mention}"
    )
    one = await world.member.send(world.bot_commands, "not logged")
    await world.member.delete(one)
    two = await world.member.send(logs["member"], "in a log channel")
    await world.member.delete(two)
    bot_message = await fish(env).get_channel(world.general.id).send("bot text")  # type: ignore[union-attr]
    await bot_message.delete()
    await env.advance_time(FLUSH)

    assert entries(logs["message"]) == []


# --- members ----------------------------------------------------------------------------------


async def test_joins_and_leaves_with_account_age_and_roles(
    env: simcord.Env, world: World, logs: dict[str, Any]
) -> None:
    newcomer = world.guild.add_member(env.create_user("newcomer"), roles=[world.member_role])
    await env.settle()
    world.guild.remove_member(newcomer)
    await env.settle()
    await env.advance_time(FLUSH)

    joined, left = entries(logs["member"])
    assert joined.title == "📥 Member joined · ⚠️ new account"
    assert f"newcomer ({newcomer.id})" in text_of(joined)
    assert left.title == "📤 Member left"
    assert "Member" in text_of(left) and world.member_role.name in text_of(left)


async def test_nickname_and_role_changes(
    env: simcord.Env, world: World, logs: dict[str, Any]
) -> None:
    env.backend.edit_member(world.guild.id, world.member.id, {"nick": "Fishy"})
    await env.settle()
    roles = [world.member_role.id, world.mod_role.id]
    env.backend.edit_member(world.guild.id, world.member.id, {"role_ids": roles})
    await env.settle()
    await env.advance_time(FLUSH)

    nickname, changed = entries(logs["member"])
    assert nickname.title == "🏷️ Nickname changed" and "Fishy" in text_of(nickname)
    assert changed.title == "🎭 Roles changed" and "Added" in text_of(changed)
    assert world.mod_role.name in text_of(changed)


async def test_a_raid_of_fifty_joins_is_a_few_messages(
    env: simcord.Env, world: World, logs: dict[str, Any]
) -> None:
    changed = await say(world.owner, world.general, "!settings set logging new_account_days 0")
    assert changed.startswith("✅")
    for number in range(50):
        world.guild.add_member(env.create_user(f"raider{number}"))
    await env.settle()
    await env.advance_time(FLUSH)

    messages = [m for m in logs["member"].history() if m.author.bot]
    assert len(messages) == 5
    assert sum(len(m.embeds) for m in messages) == 50
    assert all(embed.title == "📥 Member joined" for m in messages for embed in m.embeds)


async def test_refusals_are_retried_and_nothing_is_lost(
    env: simcord.Env, world: World, logs: dict[str, Any]
) -> None:
    env.inject_error("POST", f"/channels/{logs['member'].id}/messages", status=500, times=3)
    for number in range(3):
        world.guild.add_member(env.create_user(f"late{number}"))
    await env.settle()
    for _ in range(6):
        await env.advance_time(FLUSH * 4)

    assert len(entries(logs["member"])) == 3


# --- the server -------------------------------------------------------------------------------


async def test_channels_and_roles_created_changed_deleted(
    env: simcord.Env, world: World, logs: dict[str, Any]
) -> None:
    channel = world.guild.create_text_channel("announcements")
    await env.settle()
    role = world.guild.create_role("Helpers")
    await env.settle()
    env.backend.delete_channel(channel.id)
    await env.settle()
    await env.advance_time(FLUSH)

    found = titles(logs["server"])
    assert "📁 Channel created" in found
    assert "🎭 Role created" in found
    assert "📁 Channel deleted" in found
    assert role.name in "".join(text_of(e) for e in entries(logs["server"]))


# --- routing ----------------------------------------------------------------------------------


async def test_routes_and_toggles(env: simcord.Env, world: World, logs: dict[str, Any]) -> None:
    assert "goes to: server" in await say(
        world.admin, world.general, "!logs route message_edit server"
    )
    assert "is off" in await say(world.admin, world.general, "!logs toggle message_delete")
    message = await world.member.send(world.general, "first")
    await world.member.edit(message, "second")
    await world.member.delete(message)
    await env.advance_time(FLUSH)

    assert entries(logs["message"]) == []
    server = titles(logs["server"])
    assert server.count("✏️ Message edited") == 1
    assert server.count("📝 Setting changed") == 2  # the route and the toggle, audited
    shown = await say(world.admin, world.general, "!logs")
    assert shown == ""  # an embed answer
    [embed] = [m for m in world.general.history() if m.author.bot][-1].embeds
    assert "`message_delete` → off" in (embed.description or "")


async def test_bad_route_and_member_refused(
    env: simcord.Env, world: World, logs: dict[str, Any]
) -> None:
    reply = await say(world.admin, world.general, "!logs route nonsense server")
    assert_refused(env, reply, "is not an event")
    reply = await say(world.admin, world.general, "!logs route member_join moon")
    assert_refused(env, reply, "is not a log")
    refused = await say(world.member, world.general, "!logs")
    assert_refused(env, refused, "needs")


# --- moderation by hand -----------------------------------------------------------------------


async def test_a_ban_made_in_discord_becomes_a_case_and_a_log_entry(
    env: simcord.Env, world: World, logs: dict[str, Any]
) -> None:
    env.backend.apply_ban(world.guild.id, world.member.id, "raiding")
    env.backend.record_audit_log(
        world.guild.id,
        discord.AuditLogAction.ban.value,
        target_id=world.member.id,
        reason="raiding",
        user_id=world.moderator.id,
    )
    await env.settle()
    await env.advance_time(FLUSH)

    [case] = await cases(env, world)
    assert (case.case_type, case.moderator_id, case.reason) == (
        CaseType.BAN.value,
        world.moderator.id,
        "raiding",
    )
    assert case.extra.get("source") == "discord"
    [posted] = [m for m in world.mod_log.history() if m.author.bot]
    assert posted.embeds[0].title.endswith("Ban")
    banned = [e for e in entries(logs["member"]) if e.title == "🔨 Member banned"]
    assert len(banned) == 1 and f"moderator ({world.moderator.id})" in text_of(banned[0])


async def test_a_timeout_made_in_discord_becomes_a_case(
    env: simcord.Env, world: World, logs: dict[str, Any]
) -> None:
    until = env.now() + timedelta(hours=1)
    env.backend.record_audit_log(
        world.guild.id,
        discord.AuditLogAction.member_update.value,
        target_id=world.member.id,
        changes=[
            {
                "key": "communication_disabled_until",
                "old_value": None,
                "new_value": until.isoformat(),
            }
        ],
        user_id=world.moderator.id,
    )
    await env.settle()
    await env.advance_time(FLUSH)

    [case] = await cases(env, world)
    assert case.case_type == CaseType.TIMEOUT.value and case.expires_at == until
    assert case.reason == "Done in Discord, no reason given"
    assert "🔨 Member timed out" in titles(logs["member"])


async def test_the_bots_own_ban_is_recorded_once(
    env: simcord.Env, world: World, logs: dict[str, Any]
) -> None:
    await say(world.moderator, world.general, f"!ban {world.member.mention} spam")
    await env.advance_time(FLUSH)

    assert len(await cases(env, world)) == 1
    assert "🔨 Member banned" not in titles(logs["member"])
    assert "📤 Member left" in titles(logs["member"])


async def test_channel_and_role_changes_say_what_changed(
    env: simcord.Env, world: World, logs: dict[str, Any]
) -> None:
    env.backend.edit_channel(world.general.id, {"name": "lobby", "topic": "say hi"})
    await env.settle()
    permissions = discord.Permissions(manage_messages=True)
    env.backend.edit_role(
        world.guild.id, world.member_role.id, {"name": "Regular", "permissions": permissions.value}
    )
    await env.settle()
    await env.advance_time(FLUSH)

    changed = {e.title: text_of(e) for e in entries(logs["server"])}
    assert "Name: general → lobby" in changed["📁 Channel changed"]
    assert "Topic: None → say hi" in changed["📁 Channel changed"]
    assert "Name: Member → Regular" in changed["🎭 Role changed"]
    assert "Permissions granted: manage_messages" in changed["🎭 Role changed"]
