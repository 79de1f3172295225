"""A new server (issue 9): Discord permissions decide until ranks are configured, the slash menu
shows members only the commands they may use, and the bot welcomes the server once on joining.

World: no role has a permission rank. The moderator's role has Kick, Ban, Timeout, Manage
Messages, Manage Roles and Manage Channels; the member's role has no permission at all.
"""

from __future__ import annotations

from typing import Any

import discord
import simcord
from simcord.backend import serializers

from fish_bot.bot import FishBot

from .conftest import World, say
from .moderation_helpers import assert_refused


def fish(env: simcord.Env) -> FishBot:
    bot = env.bot
    assert isinstance(bot, FishBot)
    return bot


KICK_REFUSED = (
    "⛔ `kick` needs the **Kick Members** permission: no permission ranks are configured here, "
    "so Discord permissions decide (`config ranks init` sets ranks up)."
)


# --- before ranks: the Discord permission decides ------------------------------------------


async def test_a_moderator_with_kick_members_kicks_on_a_server_without_ranks(
    env: simcord.Env, world: World
) -> None:
    reply = await say(world.moderator, world.general, f"!kick {world.member.mention} spamming")
    assert reply.content.startswith(f"👢 Kicked {world.member.mention} (Case #1)."), reply.content
    assert world.member.id not in world.guild.member_ids()


async def test_a_member_without_the_permission_is_told_which_one(
    env: simcord.Env, world: World
) -> None:
    reply = await say(world.member, world.general, f"!kick {world.member2.mention} spamming")
    assert reply.content == KICK_REFUSED
    assert_refused(env, reply.content, KICK_REFUSED[2:])
    assert world.member2.id in world.guild.member_ids()
    ban = await say(world.member, world.general, f"!ban {world.member2.mention}")
    assert_refused(env, ban.content, "`ban` needs the **Ban Members** permission")
    warn = await say(world.member, world.general, f"!warn {world.member2.mention} rude")
    assert_refused(env, warn.content, "`warn` needs the **Moderate Members** permission")
    purge = await say(world.member, world.general, "!purge 5")
    assert_refused(env, purge.content, "`purge` needs the **Manage Messages** permission")
    config = await say(world.member, world.general, "!config show")
    assert_refused(env, config.content, "`config show` needs the **Manage Server** permission")


async def test_settings_commands_follow_manage_server(env: simcord.Env, world: World) -> None:
    manager_role = world.guild.create_role(
        "Manager", permissions=discord.Permissions(manage_guild=True)
    )
    manager = world.guild.add_member(env.create_user("manager"), roles=[manager_role])
    shown = await say(manager, world.general, "!config show")
    assert shown.embeds, shown.content
    # Without ranks, a Manage Server member still can't hand out ranks (their rank is 0).
    refused = await say(manager, world.general, f"!perm rank set {world.member_role.mention} 3")
    assert_refused(env, refused.content, "you can't set or change rank 3")
    assert not await fish(env).permission_store.has_role_ranks(world.guild.id)


async def test_once_ranks_are_configured_ranks_decide(env: simcord.Env, world: World) -> None:
    helper_role = world.guild.create_role("Helper")
    helper = world.guild.add_member(env.create_user("helper"), roles=[helper_role])
    # The server owner gives the Helper role rank 2: the server now uses ranks.
    ranked = await say(world.owner, world.general, f"!perm rank set {helper_role.mention} 2")
    assert ranked.content.startswith("✅"), ranked.content
    # The moderator has Kick Members but no rank: refused by rank now.
    refused = await say(world.moderator, world.general, f"!kick {world.member.mention} x")
    assert refused.content == "⛔ `kick` needs permission rank 3; your rank is 0."
    assert_refused(env, refused.content, "`kick` needs permission rank 3; your rank is 0.")
    # The helper has rank 2 and no Discord permission: warn (rank 2) works.
    newcomer = world.guild.add_member(env.create_user("newcomer"))
    warned = await say(helper, world.general, f"!warn {newcomer.mention} rude")
    assert warned.content.startswith(f"⚠️ Warned {newcomer.mention}"), warned.content
    # Taking the only rank away goes back to Discord permissions.
    await say(world.owner, world.general, f"!perm rank remove {helper_role.mention}")
    kicked = await say(world.moderator, world.general, f"!kick {world.member.mention} x")
    assert kicked.content.startswith("👢 Kicked"), kicked.content


async def test_config_ranks_init_switches_to_ranks(env: simcord.Env, world: World) -> None:
    init = await say(world.owner, world.general, "!config ranks init")
    assert init.content.startswith("✅ Gave"), init.content
    # Moderator: Ban Members -> rank 5, enough for kick (3).
    kicked = await say(world.moderator, world.general, f"!kick {world.member.mention} x")
    assert kicked.content.startswith("👢 Kicked"), kicked.content
    refused = await say(world.member2, world.general, f"!warn {world.moderator.mention} x")
    assert refused.content == "⛔ `warn` needs permission rank 2; your rank is 0."
    assert_refused(env, refused.content, "`warn` needs permission rank 2; your rank is 0.")


async def test_perm_explain_says_which_applied(env: simcord.Env, world: World) -> None:
    before = await say(world.owner, world.general, f"!perm explain kick {world.moderator.mention}")
    text = before.content
    assert "✅ **Allowed**" in text
    assert "**Rule:** 6 · Discord permission (no ranks configured) (`discord_permission`)" in text
    assert (
        "no permission ranks are configured here, so the Discord permission **Kick Members** "
        f"decides: {world.moderator.mention} has it." in text
    )
    denied = await say(world.owner, world.general, f"!perm explain kick {world.member.mention}")
    assert "⛔ **Denied**" in denied.content
    assert f"**Kick Members** decides: {world.member.mention} lacks it." in denied.content

    await say(world.owner, world.general, f"!perm rank set {world.member_role.mention} 1")
    after = await say(world.owner, world.general, f"!perm explain kick {world.moderator.mention}")
    assert "⛔ **Denied**" in after.content
    assert "**Rule:** 6 · permission rank (`rank`)" in after.content
    assert (
        "this server has configured permission ranks, so ranks decide (without ranks, "
        "**Kick Members** would)." in after.content
    )


async def test_slash_kick_without_ranks(env: simcord.Env, world: World) -> None:
    result = await world.moderator.slash(
        world.general, "kick", member=world.member, reason="spamming"
    )
    assert result.response is not None and "Kicked" in result.response.content


# --- the slash menu ---------------------------------------------------------------------------


def synced(env: simcord.Env) -> dict[str, dict[str, Any]]:
    """The global commands of the last sync, by name."""
    puts = [
        entry
        for entry in env.http_requests
        if entry.method == "PUT" and entry.path.rstrip("/").endswith("/commands")
    ]
    assert puts, "the bot never synced its commands"
    return {command["name"]: command for command in puts[-1].json}


def permissions_of(command: dict[str, Any]) -> discord.Permissions | None:
    value = command.get("default_member_permissions")
    return None if value is None else discord.Permissions(int(value))


async def test_synced_commands_declare_their_discord_permission(
    env: simcord.Env, world: World
) -> None:
    commands = synced(env)
    expected = {
        "kick": discord.Permissions(kick_members=True),
        "ban": discord.Permissions(ban_members=True),
        "tempban": discord.Permissions(ban_members=True),
        "unban": discord.Permissions(ban_members=True),
        "timeout": discord.Permissions(moderate_members=True),
        "warn": discord.Permissions(moderate_members=True),
        "cases": discord.Permissions(moderate_members=True),
        "purge": discord.Permissions(manage_messages=True),
        "slowmode": discord.Permissions(manage_channels=True),
        "jail": discord.Permissions(manage_roles=True),
        "config": discord.Permissions(manage_guild=True),
        "settings": discord.Permissions(manage_guild=True),
        "perm": discord.Permissions(manage_guild=True),
        "cog": discord.Permissions(manage_guild=True),
        # Bot owners only: no bits, so only Administrators see it.
        "sync": discord.Permissions.none(),
    }
    for name, permissions in expected.items():
        assert permissions_of(commands[name]) == permissions, name
        assert commands[name]["dm_permission"] is False, name
    for name in ("ping", "status"):
        assert commands[name]["default_member_permissions"] is None


async def test_the_menu_shows_members_only_what_they_may_use(
    env: simcord.Env, world: World
) -> None:
    member_menu = set(world.member.available_commands(world.general))
    assert {"ping", "status"} <= member_menu
    assert not {"kick", "ban", "warn", "cases list", "config show", "perm explain", "sync"} & {
        name for name in member_menu
    }
    moderator_menu = set(world.moderator.available_commands(world.general))
    assert {"kick", "ban", "timeout", "warn", "purge", "cases list"} <= moderator_menu
    assert not {"config show", "settings show", "sync"} & moderator_menu
    admin_menu = set(world.admin.available_commands(world.general))
    assert {"sync", "config show", "cog load", "kick"} <= admin_menu


# --- the welcome ------------------------------------------------------------------------------


async def bot_joins(env: simcord.Env, guild: Any) -> None:
    """Deliver the GUILD_CREATE of a join: SimCord marks every GUILD_CREATE ``unavailable:
    false`` (discord.py reads that as a guild becoming available); a real join has no such key,
    which discord.py dispatches as ``on_guild_join``."""
    payload = dict(serializers.guild_create_payload(env.backend, env.backend.get_guild(guild.id)))
    payload.pop("unavailable", None)
    env.backend.emit("GUILD_CREATE", payload)
    await env.settle()


def bot_messages(channel: Any) -> list[discord.Message]:
    return [message for message in channel.history() if message.author.bot]


def new_guild(env: simcord.Env) -> tuple[Any, Any, Any]:
    """A server with #rules (the bot can't post there) and #lobby."""
    guild = env.create_guild(name="Fresh Pond")
    rules = guild.create_text_channel(
        "rules",
        overwrites={guild.default_role: discord.PermissionOverwrite(send_messages=False)},
    )
    lobby = guild.create_text_channel("lobby")
    return guild, rules, lobby


async def test_the_welcome_goes_to_the_system_channel_once(env: simcord.Env) -> None:
    guild, _rules, lobby = new_guild(env)
    announcements = guild.create_text_channel("announcements")
    env.backend.get_guild(guild.id).system_channel_id = announcements.id
    await bot_joins(env, guild)
    posted = bot_messages(announcements)
    assert len(posted) == 1
    embed = posted[0].embeds[0]
    assert embed.title and embed.title.startswith("👋 Thanks for adding")
    text = " ".join(f"{field.name} {field.value}" for field in embed.fields)
    assert "`!help`" in text and "`!config ranks init`" in text
    assert "`!config log mod #channel`" in text and "Kick Members" in text
    assert not posted[0].mentions and not posted[0].role_mentions
    assert not bot_messages(lobby)
    # A second join (a re-invite, a replayed event): no second welcome.
    await bot_joins(env, guild)
    assert len(bot_messages(announcements)) == 1


async def test_without_a_system_channel_the_first_writable_channel(env: simcord.Env) -> None:
    guild, rules, lobby = new_guild(env)
    await bot_joins(env, guild)
    assert not bot_messages(rules)
    assert len(bot_messages(lobby)) == 1


async def test_the_welcome_is_skipped_when_turned_off(env: simcord.Env) -> None:
    fish(env).config_manager.set("server_config", "welcome_message", False)
    guild, _rules, lobby = new_guild(env)
    await bot_joins(env, guild)
    assert not bot_messages(lobby)


async def test_a_server_turns_the_welcome_off_with_settings(env: simcord.Env, world: World) -> None:
    reply = await say(world.owner, world.general, "!settings set ServerConfig welcome_message off")
    assert "welcome_message" in reply.content, reply.content
    assert fish(env).config_manager.get("server_config", "welcome_message", world.guild.id) is False
    await bot_joins(env, world.guild)
    assert not [m for m in bot_messages(world.general) if m.embeds]
