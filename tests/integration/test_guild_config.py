"""The `config` commands end to end: the real FishBot and its ServerConfig cog under SimCord.

Prefix, log channels, jail, reason-required and permission ranks are set through the commands
(prefix and slash) and checked in the database, in the bot's caches and after a restart.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import discord
import simcord
from discord.ext import commands

from fish_bot.bot import FishBot
from fish_bot.core.base_cog import PermissionCheckFailure

from .conftest import World, show_slash_commands


def fish(env: simcord.Env) -> FishBot:
    bot = env.bot
    assert isinstance(bot, FishBot)
    return bot


async def say(actor: Any, channel: Any, text: str) -> str:
    """Send a message as ``actor`` and return the bot's answer (the channel's last message)."""
    await actor.send(channel, text)
    last = channel.last_message
    assert last is not None
    return str(last.content)


async def last_embed(actor: Any, channel: Any, text: str) -> discord.Embed:
    await actor.send(channel, text)
    last = channel.last_message
    assert last is not None and last.embeds, last.content if last else None
    return last.embeds[0]


def fields_of(embed: discord.Embed) -> dict[str, str]:
    return {str(f.name): str(f.value) for f in embed.fields}


async def config_row(env: simcord.Env, guild_id: int) -> Any:
    return await fish(env).db.guild_config.get_config(guild_id)


# --- the cog is built in ------------------------------------------------------------------


async def test_config_cog_loads_by_default(env: simcord.Env, world: World) -> None:
    assert env.bot.get_cog("ServerConfig") is not None
    reply = await say(world.admin, world.general, "!config")
    assert reply.startswith("**config**: Server configuration")
    assert "`!config prefix [new]`" in reply
    assert "`!config ranks`" in reply
    names = world.admin.available_commands(world.general)
    assert "config prefix" in names and "config ranks init" in names


# --- prefix -------------------------------------------------------------------------------


async def test_prefix_change_applies_to_the_next_message_and_survives_restart(
    env: simcord.Env, world: World, make_bot: Callable[..., FishBot]
) -> None:
    admin, general = world.admin, world.general
    assert await say(admin, general, "!config prefix") == (
        "The prefix here is `!`. Change it with `!config prefix <new>`."
    )
    reply = await say(admin, general, "!config prefix ?")
    assert reply == "✅ The prefix is now `?`: try `?ping`. Mentioning me works too."
    assert await fish(env).prefixes.get(world.guild.id) == "?"
    assert (await config_row(env, world.guild.id)).prefix == "?"

    # The very next message uses the new prefix; the old one no longer works.
    assert await say(world.member, general, "?ping") == "Pong!"
    await world.member.send(general, "!ping")
    assert general.last_message.content == "!ping"

    await env.restart_bot(make_bot())
    assert await fish(env).prefixes.get(world.guild.id) == "?"
    assert await say(world.member, general, "?ping") == "Pong!"

    # Through the slash command, with a longer prefix.
    result = await admin.slash(general, "config prefix", new="fish!")
    assert result.response is not None
    assert result.response.content.startswith("✅ The prefix is now `fish!`")
    assert await say(world.member, general, "fish!ping") == "Pong!"


async def test_bad_prefixes_are_refused(env: simcord.Env, world: World) -> None:
    admin, general = world.admin, world.general
    reply = await say(admin, general, "!config prefix abcdefghijklmnopq")
    assert reply == "That prefix is 17 characters long; a prefix is at most 16 characters."
    simcord.assert_error(env, contains="at most 16 characters")
    reply = await say(admin, general, "!config prefix a b")
    assert reply.startswith("A prefix cannot contain spaces")
    simcord.assert_error(env, contains="cannot contain spaces")
    assert await fish(env).prefixes.get(world.guild.id) is None
    assert await config_row(env, world.guild.id) is None
    assert await say(world.member, general, "!ping") == "Pong!"


# --- log channels, jail, reasons ------------------------------------------------------------


async def test_log_channels_persist(env: simcord.Env, world: World) -> None:
    admin, chan, mod_log = world.admin, world.bot_commands, world.mod_log
    reply = await say(admin, chan, f"!config log mod {mod_log.mention}")
    assert reply == f"✅ The moderation log goes to {mod_log.mention}."
    reply = await say(admin, chan, "!config log message #general")
    assert reply == f"✅ The message log goes to {world.general.mention}."
    result = await admin.slash(chan, "config log", kind="member", channel=mod_log)
    assert result.response is not None
    assert result.response.content == f"✅ The member log goes to {mod_log.mention}."

    db = fish(env).db.guild_config
    assert await db.get_log_channel(world.guild.id, "mod") == mod_log.id
    assert await db.get_log_channel(world.guild.id, "message") == world.general.id
    assert await db.get_log_channel(world.guild.id, "member") == mod_log.id
    assert await db.get_log_channel(world.guild.id, "server") is None

    # Without a channel the prefix command shows the current one and changes nothing.
    reply = await say(admin, chan, "!config log mod")
    assert reply.startswith(f"The moderation log: {mod_log.mention}.")
    assert await db.get_log_channel(world.guild.id, "mod") == mod_log.id

    # `none` turns a log off; an empty slash option too.
    assert await say(admin, chan, "!config log mod none") == "✅ The moderation log is off."
    assert await db.get_log_channel(world.guild.id, "mod") is None
    result = await admin.slash(chan, "config log", kind="member")
    assert result.response is not None
    assert result.response.content == "✅ The member log is off."
    assert await db.get_log_channel(world.guild.id, "member") is None


async def test_log_command_bad_inputs(env: simcord.Env, world: World) -> None:
    admin, chan = world.admin, world.bot_commands
    reply = await say(admin, chan, f"!config log audit {world.mod_log.mention}")
    assert reply.startswith(
        "Unknown log kind `audit`: use one of `mod`, `message`, `member`, `server`."
    )
    assert "Usage: `!config log <kind> [channel]`" in reply
    simcord.assert_error(env, commands.BadArgument, contains="Unknown log kind")

    reply = await say(admin, chan, "!config log mod #nowhere")
    assert reply.startswith("`#nowhere` is not a text channel of this server")
    simcord.assert_error(env, commands.BadArgument, contains="not a text channel")
    assert await fish(env).db.guild_config.get_log_channel(world.guild.id, "mod") is None


async def test_jail_and_reason_required_persist(env: simcord.Env, world: World) -> None:
    admin, chan = world.admin, world.bot_commands
    jailed = world.guild.create_role("Jailed")
    jail = world.guild.create_text_channel("jail")

    reply = await say(admin, chan, f"!config jail role {jailed.mention}")
    assert reply.startswith(f"✅ Jailed members get {jailed.mention}.")
    reply = await say(admin, chan, f"!config jail channel {jail.mention}")
    assert reply == f"✅ The jail channel is {jail.mention}."
    assert await say(admin, chan, "!config reason-required on") == (
        "✅ Moderation actions now need a reason."
    )

    row = await config_row(env, world.guild.id)
    assert (row.jail_role_id, row.jail_channel_id, row.reason_required) == (
        jailed.id,
        jail.id,
        True,
    )

    result = await admin.slash(chan, "config reason-required", enabled=False)
    assert result.response is not None
    assert result.response.content == "✅ A reason for moderation actions is now optional."
    assert await say(admin, chan, "!config jail role none") == "✅ The jail role is unset."
    result = await admin.slash(chan, "config jail channel")
    assert result.response is not None
    assert result.response.content == "✅ The jail channel is unset."
    row = await config_row(env, world.guild.id)
    assert (row.jail_role_id, row.jail_channel_id, row.reason_required) == (None, None, False)

    reply = await say(admin, chan, "!config jail role @everyone")
    assert reply == "@everyone can't be the jail role: every member has it."
    simcord.assert_error(env, contains="can't be the jail role")


async def test_config_show_gives_an_overview(env: simcord.Env, world: World) -> None:
    admin, chan = world.admin, world.bot_commands
    embed = await last_embed(admin, chan, "!config show")
    fields = fields_of(embed)
    assert embed.title == "Configuration of Fish Tank"
    assert fields["Prefix"] == "`!` (default)"
    assert "Moderation log: not set" in fields["Log channels"]
    assert fields["Moderation reasons"] == "optional"

    await say(admin, chan, "!config prefix $")
    await say(admin, chan, f"$config log mod {world.mod_log.mention}")
    await say(admin, chan, "$config reason-required on")
    await say(admin, chan, f"$config ranks set {world.mod_role.mention} 5")
    await say(admin, chan, "$config ranks command ping 2")
    result = await admin.slash(chan, "config show")
    assert result.response is not None and result.response.embeds
    fields = fields_of(result.response.embeds[0])
    assert fields["Prefix"] == "`$`"
    assert f"Moderation log: {world.mod_log.mention}" in fields["Log channels"]
    assert fields["Moderation reasons"] == "required"
    assert fields["Role ranks"] == f"5 · {world.mod_role.mention}"
    assert fields["Command rank overrides"] == "`ping`: 2"
    assert fields["Jail"] == "Role: not set\nChannel: not set"


# --- ranks -----------------------------------------------------------------------------------


async def test_ranks_init_is_idempotent(env: simcord.Env, world: World) -> None:
    admin, chan = world.admin, world.bot_commands
    helper = world.guild.create_role(
        "Helper", permissions=discord.Permissions(manage_messages=True)
    )
    managers = world.guild.create_role(
        "Managers", permissions=discord.Permissions(manage_guild=True, kick_members=True)
    )
    store = fish(env).permission_store
    # A rank set by hand is kept.
    await store.set_role_rank(world.guild.id, world.mod_role.id, 4)

    reply = await say(admin, chan, "!config ranks init")
    assert reply.startswith("✅ Gave 3 role(s) a rank:")
    assert f"8 · {world.admin_role.mention}" in reply
    assert f"7 · {managers.mention}" in reply
    assert f"2 · {helper.mention}" in reply
    assert "Kept the 1 rank(s) already set." in reply
    expected = {
        world.admin_role.id: 8,
        managers.id: 7,
        helper.id: 2,
        world.mod_role.id: 4,
    }
    assert await store.role_ranks(world.guild.id) == expected
    # Stored, not only cached.
    store.invalidate(world.guild.id)
    assert await store.role_ranks(world.guild.id) == expected

    reply = await say(admin, chan, "!config ranks init")
    assert reply.startswith("Nothing to do: every role with moderation permissions already")
    assert await store.role_ranks(world.guild.id) == expected

    # The ranks are in force: the moderator (rank 4) now passes a rank-4 command.
    await say(admin, chan, "!config ranks command ping 4")
    assert await say(world.moderator, chan, "!ping") == "Pong!"
    reply = await say(world.member, chan, "!ping")
    assert reply == "⛔ `ping` needs permission rank 4; your rank is 0."
    simcord.assert_error(env, PermissionCheckFailure)


async def test_ranks_set_command_and_show(env: simcord.Env, world: World) -> None:
    admin, chan = world.admin, world.bot_commands
    member_role = world.member_role.mention
    assert await say(admin, chan, f"!config ranks set {member_role} 3") == (
        f"✅ {member_role} now has permission rank 3."
    )
    result = await admin.slash(chan, "config ranks set", role=world.mod_role, rank=6)
    assert result.response is not None
    assert result.response.content == f"✅ {world.mod_role.mention} now has permission rank 6."

    reply = await say(admin, chan, '!config ranks command "config show" 3')
    assert reply == "✅ `config show` now needs permission rank 3 here (declared: 7)."
    # Members with rank 3 can now see the configuration, but not change it.
    embed = await last_embed(world.member, chan, "!config show")
    assert embed.title == "Configuration of Fish Tank"
    reply = await say(world.member, chan, "!config prefix ?")
    assert reply == "⛔ `config prefix` needs permission rank 7; your rank is 3."
    simcord.assert_error(env, PermissionCheckFailure)

    reply = await say(admin, chan, '!config ranks command "config show" default')
    assert reply == "✅ `config show` needs its declared rank again (7)."
    reply = await say(world.member, chan, "!config show")
    assert reply == "⛔ `config show` needs permission rank 7; your rank is 3."
    simcord.assert_error(env, PermissionCheckFailure)

    embed = await last_embed(admin, chan, "!config ranks show")
    fields = fields_of(embed)
    assert fields["Role ranks"] == f"6 · {world.mod_role.mention}\n3 · {member_role}"
    assert fields["Command rank overrides"] == "None"

    # Bad values: out of range, and an unknown command.
    reply = await say(admin, chan, f"!config ranks set {member_role} 11")
    assert "Usage: `!config ranks set <role> <rank>`" in reply
    simcord.assert_error(env, commands.BadArgument)
    reply = await say(admin, chan, "!config ranks command ping 12")
    assert reply == "A permission rank is a whole number from 0 to 10; 12 is not."
    simcord.assert_error(env, contains="from 0 to 10")
    reply = await say(admin, chan, "!config ranks command pnig 2")
    assert reply.startswith("There is no command `pnig`. Did you mean `ping`")
    simcord.assert_error(env, commands.BadArgument)


async def test_a_rank_8_member_cannot_hand_out_higher_ranks(env: simcord.Env, world: World) -> None:
    admin, chan, moderator = world.admin, world.bot_commands, world.moderator
    await say(admin, chan, f"!config ranks set {world.mod_role.mention} 7")
    # `config ranks` is an alias of `perm rank`: it needs the same rank 8...
    reply = await say(moderator, chan, f"!config ranks set {world.member_role.mention} 5")
    assert reply == "⛔ `config ranks set` needs permission rank 8; your rank is 7."
    simcord.assert_error(env, PermissionCheckFailure)
    await say(admin, chan, f"!config ranks set {world.mod_role.mention} 8")
    reply = await say(moderator, chan, f"!config ranks set {world.member_role.mention} 5")
    assert reply == f"✅ {world.member_role.mention} now has permission rank 5."
    # ...and cannot raise a role (its own included) above 8, nor raise a command above 8.
    reply = await say(moderator, chan, f"!config ranks set {world.mod_role.mention} 10")
    assert reply.startswith("⛔ Your permission rank is 8: you can't set or change rank 10.")
    simcord.assert_error(env, contains="Your permission rank is 8")
    reply = await say(moderator, chan, "!config ranks command note 10")
    assert reply.startswith("⛔ Your permission rank is 8: you can't set or change rank 10.")
    simcord.assert_error(env, contains="Your permission rank is 8")
    ranks = await fish(env).permission_store.role_ranks(world.guild.id)
    assert ranks[world.mod_role.id] == 8


# --- who may use the config commands --------------------------------------------------------


async def test_members_are_refused_and_the_owner_and_admins_override(
    env: simcord.Env, world: World
) -> None:
    chan = world.bot_commands
    # No ranks are configured: Manage Server decides.
    without_ranks = (
        "permission: no permission ranks are configured here, so Discord permissions decide "
        "(`config ranks init` sets ranks up)."
    )
    for text in ("!config show", "!config prefix ?"):
        reply = await say(world.member, chan, text)
        name = text[1:].split(" ?")[0]
        assert reply == f"⛔ `{name}` needs the **Manage Server** {without_ranks}", reply
        simcord.assert_error(env, PermissionCheckFailure)
    # `config ranks` is an alias of `perm rank` and needs its permission.
    reply = await say(world.member, chan, "!config ranks init")
    assert reply == f"⛔ `config ranks init` needs the **Manage Server** {without_ranks}"
    simcord.assert_error(env, PermissionCheckFailure)
    # Their slash menu has no /config.
    assert not [name for name in world.member.available_commands(chan) if name.startswith("config")]

    # Once the server uses ranks, ranks decide.
    store = fish(env).permission_store
    await store.set_role_rank(world.guild.id, world.member_role.id, 0)
    for text in ("!config show", "!config prefix ?"):
        reply = await say(world.member, chan, text)
        name = text[1:].split(" ?")[0]
        assert reply == f"⛔ `{name}` needs permission rank 7; your rank is 0.", reply
        simcord.assert_error(env, PermissionCheckFailure)
    reply = await say(world.member, chan, "!config ranks init")
    assert reply == "⛔ `config ranks init` needs permission rank 8; your rank is 0."
    simcord.assert_error(env, PermissionCheckFailure)
    show_slash_commands(env, world.guild)
    result = await world.member.slash(chan, "config show")
    assert result.response is not None and result.response.ephemeral
    assert result.response.content == "⛔ `config show` needs permission rank 7; your rank is 0."
    simcord.assert_error(env, contains="needs permission rank 7")
    assert await config_row(env, world.guild.id) is None

    # Rules that would lock everybody out: the owner and Administrators still get through.
    await store.deny(world.guild.id, "config prefix", "channel", chan.id)
    await store.set_command_rank(world.guild.id, "config prefix", 10)
    assert (await say(world.owner, chan, "!config prefix %")).startswith("✅")
    assert (await say(world.admin, chan, "%config prefix !")).startswith("✅")
    reply = await say(world.moderator, chan, "!config prefix ?")
    assert reply == "⛔ `config prefix` is disabled in this channel."
    simcord.assert_error(env, PermissionCheckFailure)


async def test_config_commands_are_refused_in_direct_messages(
    env: simcord.Env, world: World
) -> None:
    user = world.admin.user
    await user.send_dm("!config show")
    assert "only be used in a server" in user.dm_channel.last_message.content
    simcord.assert_error(env, PermissionCheckFailure)
