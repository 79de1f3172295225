"""Nobody climbs above their rank (issue 16, "Privilege escalation").

The guild of these tests has the server owner, a rank-10 co-owner role, a rank-8 role ("Lead",
the rank the `perm` and `settings` commands need) and a rank-7 moderator role (the rank the
`config` commands need). Each attack is tried in its prefix and its slash form; each is refused
with the reason, and nothing is stored.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import discord
import pytest
import simcord

from fish_bot.bot import FishBot
from fish_bot.core.base_cog import PermissionCheckFailure

from .conftest import World, show_slash_commands


@dataclass
class Ranked:
    """The ranked members and roles, on top of the shared test world."""

    world: World
    coowner_role: Any
    lead_role: Any
    mod7_role: Any
    helpers_role: Any
    coowner: Any
    lead: Any
    mod7: Any
    helper: Any


def fish(env: simcord.Env) -> FishBot:
    bot = env.bot
    assert isinstance(bot, FishBot)
    return bot


@pytest.fixture
async def ranked(env: simcord.Env, world: World) -> Ranked:
    guild = world.guild
    # New roles go just above @everyone: created in this order, CoOwner > Lead > Mod7 > Helpers.
    coowner_role = guild.create_role("CoOwner")
    lead_role = guild.create_role("Lead")
    mod7_role = guild.create_role("Mod7", permissions=discord.Permissions(manage_roles=True))
    helpers_role = guild.create_role("Helpers")
    store = fish(env).permission_store
    await store.set_role_rank(guild.id, coowner_role.id, 10)
    await store.set_role_rank(guild.id, lead_role.id, 8)
    await store.set_role_rank(guild.id, mod7_role.id, 7)
    # The server uses ranks: it shows the slash commands to every rank (Integrations).
    show_slash_commands(env, guild)
    return Ranked(
        world=world,
        coowner_role=coowner_role,
        lead_role=lead_role,
        mod7_role=mod7_role,
        helpers_role=helpers_role,
        coowner=guild.add_member(env.create_user("coowner"), roles=[coowner_role]),
        lead=guild.add_member(env.create_user("lead"), roles=[lead_role]),
        mod7=guild.add_member(env.create_user("mod7"), roles=[mod7_role]),
        helper=guild.add_member(env.create_user("helper"), roles=[helpers_role]),
    )


async def say(actor: Any, channel: Any, text: str) -> str:
    await actor.send(channel, text)
    last = channel.last_message
    assert last is not None
    return str(last.content)


async def slash(env: simcord.Env, actor: Any, channel: Any, name: str, **options: Any) -> str:
    result = await actor.slash(channel, name, **options)
    assert result.response is not None, name
    return str(result.response.content)


def mention(role: Any) -> str:
    return f"<@&{role.id}>"


def refused(env: simcord.Env, reply: str, reason: str) -> None:
    assert reply.startswith("⛔"), reply
    assert reason in reply, reply
    simcord.assert_error(env, contains=reason)


# --- 1. allow rules need the command and a role below one's own ------------------------------


async def test_nobody_allows_a_command_they_cannot_run_or_a_role_not_below_theirs(
    env: simcord.Env, ranked: Ranked
) -> None:
    chan, lead = ranked.world.bot_commands, ranked.lead
    store = fish(env).permission_store
    guild_id = ranked.world.guild.id
    await store.set_command_rank(guild_id, "note", 10)

    # `note` needs rank 10: the rank-8 Lead may not allow it for anyone (their own role least).
    reason = "you could not run `note` yourself (`note` needs permission rank 10; your rank is 8)"
    refused(env, await say(lead, chan, f"!perm allow note {mention(ranked.lead_role)}"), reason)
    reply = await slash(
        env, lead, chan, "perm allow", command="note", target=mention(ranked.helpers_role)
    )
    refused(env, reply, reason)
    assert not any((await store.command_rules(guild_id, "note")).values())
    reply = await say(lead, chan, f"!note {ranked.helper.mention} hello")
    refused(env, reply, "`note` needs permission rank 10; your rank is 8.")

    # A command they can run, for their own top role (or anything above it): refused too.
    reason = "is not below your highest role"
    refused(env, await say(lead, chan, f"!perm allow ping {mention(ranked.lead_role)}"), reason)
    reply = await slash(
        env, lead, chan, "perm allow", command="ping", target=mention(ranked.coowner_role)
    )
    refused(env, reply, "has permission rank 10, above yours (8)")
    assert not any((await store.command_rules(guild_id, "ping")).values())

    # Within their authority it works: a role below theirs, for a command they can run.
    reply = await say(lead, chan, f"!perm allow ping {mention(ranked.helpers_role)}")
    assert reply.startswith(f"✅ `ping` is now allowed for role {mention(ranked.helpers_role)}.")
    assert await say(ranked.helper, chan, "!ping") == "Pong!"


# --- 2. nothing is changed, removed or denied for a higher rank -----------------------------


async def test_nobody_changes_removes_or_denies_anything_for_a_higher_rank(
    env: simcord.Env, ranked: Ranked
) -> None:
    chan, lead, coowner = ranked.world.bot_commands, ranked.lead, ranked.coowner
    store = fish(env).permission_store
    guild_id = ranked.world.guild.id
    co = mention(ranked.coowner_role)
    rank_reason = "Your permission rank is 8: you can't set or change rank 10."
    refused(env, await say(lead, chan, f"!perm rank remove {co}"), rank_reason)
    reply = await slash(env, lead, chan, "perm rank remove", role=ranked.coowner_role)
    refused(env, reply, rank_reason)
    refused(env, await say(lead, chan, f"!config ranks remove {co}"), rank_reason)
    refused(env, await say(lead, chan, f"!perm rank set {co} 8"), rank_reason)

    reason = f"{co} has permission rank 10, above yours (8)"
    refused(env, await say(lead, chan, f"!perm deny perm {co}"), reason)
    refused(env, await slash(env, lead, chan, "perm deny", command="perm", target=co), reason)
    refused(env, await say(lead, chan, f'!perm deny "perm rank set" {co}'), reason)
    reply = await slash(env, lead, chan, "perm deny", command="perm rank set", target=co)
    refused(env, reply, reason)

    # Nothing changed: the co-owner keeps rank 10 and the perm commands.
    assert (await store.role_ranks(guild_id))[ranked.coowner_role.id] == 10
    assert not any((await store.command_rules(guild_id, "perm")).values())
    assert not any((await store.command_rules(guild_id, "perm rank set")).values())
    reply = await say(coowner, chan, f"!perm rank set {mention(ranked.mod7_role)} 6")
    assert reply == f"✅ {mention(ranked.mod7_role)} now has permission rank 6."

    # A rule the co-owner set about their own role can't be removed or cleared by Lead either.
    await store.deny(guild_id, "ping", "role", ranked.coowner_role.id)
    refused(env, await say(lead, chan, f"!perm remove ping {co}"), reason)
    refused(env, await slash(env, lead, chan, "perm clear", command="ping"), reason)
    assert (await store.command_rules(guild_id, "ping"))["deny_roles"] == {ranked.coowner_role.id}

    # The server owner and Administrators are not limited.
    reply = await say(ranked.world.admin, chan, f"!perm remove ping {co}")
    assert reply.startswith("🗑️ Removed the rule of `ping`")


async def test_channel_rules_cannot_lock_a_higher_rank_out_of_a_command(
    env: simcord.Env, ranked: Ranked
) -> None:
    bot = fish(env)
    guild = bot.get_guild(ranked.world.guild.id)
    assert guild is not None
    chan, lead = ranked.world.bot_commands, ranked.lead
    channels = [c for c in guild.channels if not isinstance(c, discord.CategoryChannel)]
    store = bot.permission_store
    # Every channel but one is denied for `perm`; the last one would leave nowhere to use it.
    for channel in channels[:-1]:
        await store.deny(guild.id, "perm", "channel", channel.id)
    reply = await say(lead, chan, f"!perm deny perm {channels[-1].mention}")
    refused(env, reply, f"would lock {mention(ranked.coowner_role)} (permission rank 10")
    assert channels[-1].id not in (await store.command_rules(guild.id, "perm"))["deny_channels"]


# --- 3. access settings never lock out a higher rank ---------------------------------------


async def test_access_settings_cannot_lock_out_a_higher_rank(
    env: simcord.Env, ranked: Ranked
) -> None:
    chan, lead, coowner = ranked.world.bot_commands, ranked.lead, ranked.coowner
    bot = fish(env)
    guild_id = ranked.world.guild.id
    reason = f"would lock {mention(ranked.coowner_role)} (permission rank 10, above yours: 8)"

    reply = await say(lead, chan, f"!settings set Core required_roles {mention(ranked.lead_role)}")
    refused(env, reply, reason)
    reply = await slash(
        env,
        lead,
        chan,
        "settings set",
        cog="Core",
        key="required_roles",
        value=mention(ranked.lead_role),
    )
    refused(env, reply, reason)
    guild = bot.get_guild(guild_id)
    assert guild is not None
    every_channel = ", ".join(
        c.mention for c in guild.channels if not isinstance(c, discord.CategoryChannel)
    )
    reply = await say(lead, chan, f"!settings set Core restricted_channels {every_channel}")
    refused(env, reply, reason)
    assert bot.config_manager.get("Core", "required_roles", guild_id) == []
    assert bot.config_manager.get("Core", "restricted_channels", guild_id) == []
    assert await say(coowner, chan, "!ping") == "Pong!"

    # Including the higher role is fine: nobody above is locked out.
    both = f"{mention(ranked.lead_role)}, {mention(ranked.coowner_role)}"
    reply = await say(lead, chan, f"!settings set Core required_roles {both}")
    assert reply.startswith("✅ Core `required_roles` is now"), reply
    assert await say(coowner, chan, "!ping") == "Pong!"
    reply = await say(ranked.helper, chan, "!ping")
    assert reply.startswith("⛔ Core commands need one of the roles")
    simcord.assert_error(env, PermissionCheckFailure)


async def test_no_access_setting_of_any_module_locks_out_a_higher_rank(
    env: simcord.Env, ranked: Ranked
) -> None:
    """allowed_channels, another module than Core, and a reset to a locking global value."""
    world, lead = ranked.world, ranked.lead
    chan = world.bot_commands
    bot = fish(env)
    guild_id = world.guild.id
    coowner = mention(ranked.coowner_role)
    hidden = discord.PermissionOverwrite(view_channel=False)
    secret = world.guild.create_text_channel(
        "lead-only",
        overwrites={
            world.guild.default_role: hidden,
            ranked.lead_role: discord.PermissionOverwrite(view_channel=True),
        },
    )
    # Only a channel the co-owner cannot see: every Core command closed to them.
    reply = await say(lead, chan, f"!settings set Core allowed_channels {secret.mention}")
    refused(
        env, reply, f"would lock {coowner} (permission rank 10, above yours: 8) out of the Core"
    )
    assert bot.config_manager.get("Core", "allowed_channels", guild_id) == []

    # Another module's access settings follow the same rule.
    reply = await say(
        lead, chan, f"!settings set Moderation required_roles {mention(ranked.lead_role)}"
    )
    refused(
        env,
        reply,
        f"would lock {coowner} (permission rank 10, above yours: 8) out of the Moderation",
    )
    assert bot.config_manager.get("Moderation", "required_roles", guild_id) == []

    # A reset that falls back to a global value locking the co-owner out is refused too.
    await bot.config_manager.set("Core", "required_roles", [ranked.lead_role.id], None)
    both = f"{mention(ranked.lead_role)}, {coowner}"
    reply = await say(world.admin, chan, f"!settings set Core required_roles {both}")
    assert reply.startswith("✅"), reply
    reply = await say(lead, chan, "!settings reset Core required_roles")
    refused(
        env, reply, f"would lock {coowner} (permission rank 10, above yours: 8) out of the Core"
    )
    assert set(bot.config_manager.get("Core", "required_roles", guild_id)) == {
        ranked.lead_role.id,
        ranked.coowner_role.id,
    }
    assert await say(ranked.coowner, chan, "!ping") == "Pong!"


async def test_settings_and_perm_commands_stay_usable_by_owner_and_admins(
    env: simcord.Env, ranked: Ranked
) -> None:
    """DESIGN rule 3: whatever an Administrator sets, the owner and Administrators get back."""
    world = ranked.world
    chan = world.bot_commands
    helpers = mention(ranked.helpers_role)
    reply = await say(world.admin, chan, f"!settings set Core required_roles {helpers}")
    assert reply.startswith("✅"), reply
    reply = await say(
        world.admin, chan, f"!settings set Core allowed_channels {world.mod_log.mention}"
    )
    assert reply.startswith("✅"), reply
    # Every Core command is now closed here, even to the co-owner...
    reply = await say(ranked.coowner, chan, "!perm show")
    assert reply.startswith("⛔ Core commands only work in"), reply
    simcord.assert_error(env, PermissionCheckFailure)
    # ...but the settings and permission commands still answer the owner and Administrators.
    for actor in (world.owner, world.admin):
        await actor.send(chan, "!perm show")
        assert chan.last_message.embeds, chan.last_message.content
    result = await world.owner.slash(chan, "settings show", cog="Core")
    assert result.response is not None and result.response.embeds
    reply = await say(world.owner, chan, "!settings reset Core allowed_channels")
    assert reply.startswith("✅ Reset the value in this server of Core `allowed_channels`")
    reply = await say(world.admin, chan, "!settings reset Core required_roles")
    assert reply.startswith("✅ Reset the value in this server of Core `required_roles`")
    assert await say(ranked.coowner, chan, "!ping") == "Pong!"


# --- 4. the jail role is not a way to hand out power ---------------------------------------


async def test_the_jail_role_cannot_carry_power_or_sit_above_the_invoker(
    env: simcord.Env, ranked: Ranked
) -> None:
    world = ranked.world
    chan, mod7 = world.bot_commands, ranked.mod7
    bot = fish(env)
    guild_id = world.guild.id

    reply = await say(mod7, chan, f"!config jail role {mention(world.admin_role)}")
    assert reply.startswith(f"{mention(world.admin_role)} can't be the jail role: it carries")
    assert "Administrator" in reply
    simcord.assert_error(env, contains="can't be the jail role")
    result = await mod7.slash(chan, "config jail role", role=world.mod_role)
    assert result.response is not None
    assert "can't be the jail role: it carries" in result.response.content
    assert "Ban Members" in result.response.content
    simcord.assert_error(env, contains="can't be the jail role")
    # A harmless role above the invoker's own top role is refused too.
    reply = await say(mod7, chan, f"!config jail role {mention(ranked.lead_role)}")
    assert reply == (
        f"{mention(ranked.lead_role)} is not below your highest role, so you can't make me give it."
    )
    simcord.assert_error(env, contains="not below your highest role")
    assert await bot.db.guild_config.get_jail_role_id(guild_id) is None

    # Above the bot's own top role: the bot could not give it (the server owner is told so).
    top = world.guild.create_role("Top", position=100)
    reply = await say(world.owner, chan, f"!config jail role {mention(top)}")
    assert reply.startswith(f"{mention(top)} is not below my highest role, so I can't give it")
    simcord.assert_error(env, contains="not below my highest role")
    assert await bot.db.guild_config.get_jail_role_id(guild_id) is None

    # A role without power, below both: accepted.
    jailed = world.guild.create_role("Jailed")
    reply = await say(mod7, chan, f"!config jail role {mention(jailed)}")
    assert reply == f"✅ Jailed members get {mention(jailed)}."


async def test_jail_refuses_a_powerful_jail_role_configured_earlier(
    env: simcord.Env, ranked: Ranked
) -> None:
    world = ranked.world
    bot = fish(env)
    # Stored before the check existed (or the role gained Administrator since).
    await bot.db.guild_config.update_jail_role_id(world.guild.id, world.admin_role.id)
    reply = await say(ranked.mod7, world.general, f"!jail {ranked.helper.mention} spam")
    assert reply.startswith(f"{mention(world.admin_role)} can't be the jail role: it carries")
    simcord.assert_error(env, contains="can't be the jail role")
    result = await ranked.mod7.slash(world.general, "jail", member=ranked.helper)
    assert result.response is not None
    assert "can't be the jail role" in result.response.content
    simcord.assert_error(env, contains="can't be the jail role")
    guild = bot.get_guild(world.guild.id)
    assert guild is not None
    member = guild.get_member(ranked.helper.id)
    assert member is not None
    assert [role.id for role in member.roles if not role.is_default()] == [ranked.helpers_role.id]
    jail_case = await bot.db.case.get_active_restriction(world.guild.id, ranked.helper.id, ["JAIL"])
    assert jail_case is None


# --- 5. a rule on a group applies to its subcommands -------------------------------------


async def test_a_rule_on_a_group_applies_to_its_subcommands(
    env: simcord.Env, ranked: Ranked
) -> None:
    world = ranked.world
    chan, admin, mod7 = world.bot_commands, world.admin, ranked.mod7
    m7 = mention(ranked.mod7_role)
    assert (await say(admin, chan, f"!perm deny config {m7}")).startswith("⛔ `config` is now")

    reply = await say(mod7, chan, "!config prefix ?")
    assert reply == "⛔ One of your roles may not use `config prefix`."
    simcord.assert_error(env, PermissionCheckFailure)
    result = await mod7.slash(chan, "config show")
    assert result.response is not None and result.response.ephemeral
    assert result.response.content == "⛔ One of your roles may not use `config show`."
    simcord.assert_error(env, contains="may not use `config show`")
    assert await fish(env).db.guild_config.get_config(world.guild.id) is None

    # A more specific rule on a subcommand wins over the group's.
    await say(admin, chan, f'!perm allow "config show" {m7}')
    result = await mod7.slash(chan, "config show")
    assert result.response is not None and result.response.embeds
    reply = await say(mod7, chan, "!config prefix ?")
    assert reply == "⛔ One of your roles may not use `config prefix`."
    simcord.assert_error(env, PermissionCheckFailure)

    # perm explain says where the rule comes from.
    reply = await say(admin, chan, f'!perm explain "config prefix" {mod7.mention}')
    assert "(`command_denied_role`)" in reply
    assert "**Command rules** (from `config`)" in reply


async def test_an_alias_is_judged_as_the_command_it_stands_for(
    env: simcord.Env, ranked: Ranked
) -> None:
    """`config ranks set` is `perm rank set`: a rule on one is a rule on the other."""
    world = ranked.world
    chan = world.bot_commands
    lead = mention(ranked.lead_role)
    await say(world.admin, chan, f'!perm deny "perm rank set" {lead}')
    for text in (
        f"!perm rank set {mention(ranked.helpers_role)} 2",
        f"!config ranks set {mention(ranked.helpers_role)} 2",
    ):
        reply = await say(ranked.lead, chan, text)
        assert reply.startswith("⛔ One of your roles may not use"), reply
        simcord.assert_error(env, PermissionCheckFailure)
    result = await ranked.lead.slash(chan, "config ranks set", role=ranked.helpers_role, rank=2)
    assert result.response is not None
    assert result.response.content == "⛔ One of your roles may not use `config ranks set`."
    simcord.assert_error(env, contains="may not use `config ranks set`")
    assert ranked.helpers_role.id not in await fish(env).permission_store.role_ranks(world.guild.id)
