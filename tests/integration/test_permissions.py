"""The permission model end to end: the real FishBot and its core cog under SimCord.

Each layer of DESIGN.md "Permissions" is shown allowing and denying, with the denial text a user
sees naming the rule. A small test-only cog (``Probe``) gives commands to guard: ``probe`` (no
rank), ``ranked`` (rank 5), ``dmprobe`` (usable in DMs) and ``panel`` (a message with a button
whose callback applies the same permission model).
"""

from __future__ import annotations

from collections.abc import Callable
from types import SimpleNamespace
from typing import Any

import discord
import pytest
import simcord
from discord.ext import commands

from fish_bot.bot import FishBot
from fish_bot.core.base_cog import BaseCog, PermissionCheckFailure
from fish_bot.core.error_replies import send_interaction
from fish_bot.core.permissions import Subject, dm_allowed, requires_rank
from fish_bot.exceptions import PermissionDenied

from .conftest import World

# --- a test-only cog ----------------------------------------------------------------------


class ProbeView(discord.ui.View):
    """One button; its callback runs the cog's permission check for the clicking member."""

    def __init__(self, cog: BaseCog) -> None:
        super().__init__(timeout=None)
        self.cog = cog

    @discord.ui.button(label="Press", custom_id="probe:press")
    async def press(
        self, interaction: discord.Interaction, _button: discord.ui.Button[Any]
    ) -> None:
        try:
            await self.cog.check_permissions(interaction)
        except PermissionDenied as denial:
            await send_interaction(interaction, f"⛔ {denial.message}")
            return
        await interaction.response.send_message("pressed", ephemeral=True)


class Probe(BaseCog):
    """Commands that exist only to be guarded by the permission model."""

    @commands.hybrid_command(name="probe")
    async def probe(self, ctx: commands.Context[Any]) -> None:
        """Answer 'probe ok'."""
        await ctx.send("probe ok")

    @commands.hybrid_command(name="ranked")
    @requires_rank(5)
    async def ranked(self, ctx: commands.Context[Any]) -> None:
        """Answer 'ranked ok' (needs rank 5)."""
        await ctx.send("ranked ok")

    @commands.hybrid_command(name="dmprobe")
    @dm_allowed()
    async def dmprobe(self, ctx: commands.Context[Any]) -> None:
        """Answer 'dm ok', also in direct messages."""
        await ctx.send("dm ok")

    @commands.hybrid_command(name="panel")
    async def panel(self, ctx: commands.Context[Any]) -> None:
        """Post a message with a button."""
        await ctx.send("panel", view=ProbeView(self))


@pytest.fixture
async def probe(env: simcord.Env, world: World) -> Probe:
    """The Probe cog, loaded into the running bot and synced as slash commands."""
    bot = env.bot
    assert isinstance(bot, FishBot)
    cog = Probe(bot)
    await bot.add_cog(cog)
    await bot.tree.sync()
    return cog


# --- helpers ------------------------------------------------------------------------------


async def say(actor: Any, channel: Any, text: str) -> str:
    """Send a message as ``actor`` and return the bot's answer (the channel's last message)."""
    await actor.send(channel, text)
    last = channel.last_message
    assert last is not None
    return str(last.content)


async def assert_denied(env: simcord.Env, actor: Any, channel: Any, text: str, reason: str) -> None:
    """The command is refused, the user is told why, and the bot recorded the check failure."""
    reply = await say(actor, channel, text)
    assert reply.startswith("⛔"), reply
    assert reason in reply, reply
    simcord.assert_error(env, PermissionCheckFailure, contains=reason)


def role_mention(role: Any) -> str:
    return f"<@&{role.id}>"


def store_of(env: simcord.Env) -> Any:
    bot = env.bot
    assert isinstance(bot, FishBot)
    assert bot.permission_store is not None
    return bot.permission_store


# --- layer 1: bot owners --------------------------------------------------------------------


async def test_bot_owner_bypasses_rules_and_the_bypass_can_be_switched_off(
    env: simcord.Env, world: World, make_bot: Callable[..., FishBot]
) -> None:
    await say(world.admin, world.general, f"!perm deny ping {role_mention(world.member_role)}")
    await assert_denied(
        env, world.member, world.general, "!ping", "One of your roles may not use `ping`."
    )

    # SimCord gives users their own ids, so make the member a bot owner through the settings.
    await env.restart_bot(make_bot(owner_ids=[world.member.id]))
    assert await say(world.member, world.general, "!ping") == "Pong!"
    result = await world.member.slash(world.general, "ping")
    assert result.response is not None and result.response.content == "Pong!"

    await env.restart_bot(make_bot(owner_ids=[world.member.id], owners_bypass_permissions=False))
    await assert_denied(
        env, world.member, world.general, "!ping", "One of your roles may not use `ping`."
    )


# --- layer 2: direct messages ---------------------------------------------------------------


async def test_direct_messages_run_only_dm_commands(
    env: simcord.Env, world: World, probe: Probe
) -> None:
    user = world.member.user
    await user.send_dm("!probe")
    reply = user.dm_channel.last_message.content
    assert reply == "⛔ `probe` can only be used in a server, not in direct messages."
    simcord.assert_error(env, PermissionCheckFailure, contains="not in direct messages")

    await user.send_dm("!perm show")
    assert "only be used in a server" in user.dm_channel.last_message.content
    simcord.assert_error(env, PermissionCheckFailure, contains="not in direct messages")

    await user.send_dm("!dmprobe")
    assert user.dm_channel.last_message.content == "dm ok"


# --- layer 3: the server owner and Administrators on the perm commands -----------------------


async def test_owner_and_admins_always_run_perm_commands(
    env: simcord.Env, world: World, probe: Probe
) -> None:
    core = env.bot.get_cog("Core")
    assert isinstance(core, BaseCog)
    guild_id = world.guild.id
    store = store_of(env)
    # Rules that would lock everybody out of `perm show` in #general...
    await store.deny(guild_id, "perm show", "role", world.admin_role.id)
    await store.deny(guild_id, "perm show", "channel", world.general.id)
    await core.set_setting("restricted_channels", [world.general.id], guild_id)
    # ...and a member who has the rank the perm commands need.
    await store.set_role_rank(guild_id, world.member_role.id, 8)

    for actor in (world.owner, world.admin):
        await actor.send(world.general, "!perm show")
        last = world.general.last_message
        assert last is not None and last.embeds, last.content
        assert last.embeds[0].title == "Permissions in Fish Tank"
    result = await world.admin.slash(world.general, "perm show")
    assert result.response is not None and result.response.embeds

    # Everybody else is bound by the rules (the module's channel setting decides first).
    await assert_denied(
        env,
        world.member,
        world.general,
        "!perm show",
        "Core commands are not allowed in this channel.",
    )
    await core.reset_setting("restricted_channels", guild_id)
    await assert_denied(
        env, world.member, world.general, "!perm show", "`perm show` is disabled in this channel."
    )
    # Without the rank, a member cannot manage permissions at all.
    await assert_denied(
        env,
        world.moderator,
        world.bot_commands,
        "!perm rank set @Moderator 10",
        "`perm rank set` needs permission rank 8; your rank is 0.",
    )


# --- layer 4: the cog's channel and role settings ------------------------------------------


async def test_cog_channel_and_role_settings(env: simcord.Env, world: World, probe: Probe) -> None:
    guild_id = world.guild.id

    await probe.set_setting("restricted_channels", [world.mod_log.id], guild_id)
    await assert_denied(
        env,
        world.member,
        world.mod_log,
        "!probe",
        "Probe commands are not allowed in this channel.",
    )
    assert await say(world.member, world.general, "!probe") == "probe ok"
    await probe.reset_setting("restricted_channels", guild_id)

    await probe.set_setting("allowed_channels", [world.bot_commands.id], guild_id)
    await assert_denied(
        env,
        world.member,
        world.general,
        "!probe",
        f"Probe commands only work in <#{world.bot_commands.id}>.",
    )
    assert await say(world.member, world.bot_commands, "!probe") == "probe ok"
    await probe.reset_setting("allowed_channels", guild_id)

    await probe.set_setting("required_roles", [world.mod_role.id], guild_id)
    await assert_denied(
        env,
        world.member,
        world.general,
        "!probe",
        f"Probe commands need one of the roles <@&{world.mod_role.id}>.",
    )
    assert await say(world.moderator, world.general, "!probe") == "probe ok"


async def test_button_click_gets_the_same_decision(
    env: simcord.Env, world: World, probe: Probe
) -> None:
    await probe.set_setting("required_roles", [world.mod_role.id], world.guild.id)
    await world.moderator.send(world.general, "!panel")
    message = world.general.last_message
    assert message is not None and message.content == "panel"

    denied = await world.member.click(message, label="Press")
    assert denied.response is not None
    assert denied.response.ephemeral
    assert denied.response.content == (
        f"⛔ Probe commands need one of the roles <@&{world.mod_role.id}>."
    )

    allowed = await world.moderator.click(message, label="Press")
    assert allowed.response is not None and allowed.response.content == "pressed"


# --- layer 5: per-command rules ------------------------------------------------------------


async def test_command_rules_deny_and_allow_roles_and_channels(
    env: simcord.Env, world: World, probe: Probe
) -> None:
    admin, member, moderator = world.admin, world.member, world.moderator
    general, bot_commands = world.general, world.bot_commands

    # Deny a channel.
    reply = await say(admin, bot_commands, f"!perm deny probe {general.mention}")
    assert reply == f"⛔ `probe` is now denied for channel {general.mention}."
    await assert_denied(env, member, general, "!probe", "`probe` is disabled in this channel.")
    assert await say(member, bot_commands, "!probe") == "probe ok"
    reply = await say(admin, bot_commands, f"!perm remove probe {general.mention}")
    assert reply.startswith("🗑️ Removed the rule of `probe`")
    assert await say(member, general, "!probe") == "probe ok"

    # Deny a role (by name here: mention, id or name all work).
    await say(admin, bot_commands, "!perm deny probe Member")
    await assert_denied(env, member, general, "!probe", "One of your roles may not use `probe`.")
    assert await say(moderator, general, "!probe") == "probe ok"
    assert await say(admin, bot_commands, "!perm clear probe") == "🗑️ Removed 1 rule(s) of `probe`."

    # Allow only a channel.
    await say(admin, bot_commands, f"!perm allow probe {bot_commands.mention}")
    await assert_denied(
        env, member, general, "!probe", f"`probe` only works in <#{bot_commands.id}>."
    )
    assert await say(member, bot_commands, "!probe") == "probe ok"
    await say(admin, bot_commands, "!perm clear probe")

    # Allow only a role.
    reply = await say(admin, bot_commands, f"!perm allow probe {role_mention(world.mod_role)}")
    assert reply.startswith(f"✅ `probe` is now allowed for role {role_mention(world.mod_role)}.")
    await assert_denied(
        env,
        member,
        general,
        "!probe",
        f"`probe` needs one of the roles {role_mention(world.mod_role)}.",
    )
    assert await say(moderator, general, "!probe") == "probe ok"

    # A denied role wins over an allowed one.
    await say(admin, bot_commands, f"!perm deny probe {role_mention(world.mod_role)}")
    await assert_denied(env, moderator, general, "!probe", "One of your roles may not use `probe`.")


async def test_channel_rules_cover_the_channels_threads(
    env: simcord.Env, world: World, probe: Probe
) -> None:
    bot = env.bot
    assert isinstance(bot, FishBot)
    guild = bot.get_guild(world.guild.id)
    assert guild is not None
    member = guild.get_member(world.member.id)
    command = bot.get_command("probe")
    thread = SimpleNamespace(id=world.general.id + 1000, parent_id=world.general.id)

    async def decide() -> Any:
        subject = Subject(
            user=member, guild=guild, channel=thread, command=command, command_name="probe"
        )
        return await bot.permissions.evaluate(subject, cog=probe)

    await store_of(env).deny(guild.id, "probe", "channel", world.general.id)
    decision = await decide()
    assert (decision.allowed, decision.rule) == (False, "command_denied_channel")
    await store_of(env).clear_command(guild.id, "probe")
    await store_of(env).allow(guild.id, "probe", "channel", world.general.id)
    decision = await decide()
    assert (decision.allowed, decision.rule) == (True, "default")


async def test_perm_alone_lists_its_subcommands(env: simcord.Env, world: World) -> None:
    reply = await say(world.admin, world.general, "!perm")
    assert reply.startswith("**perm**: Decide who may use which command")
    assert "`!perm explain <command> [member] [channel]`" in reply
    assert "`!perm rank`" in reply
    reply = await say(world.admin, world.general, "!perm rank")
    assert "`!perm rank set <role> <rank>`" in reply


async def test_command_rules_apply_to_slash_commands(
    env: simcord.Env, world: World, probe: Probe
) -> None:
    # Set through the slash side of the hybrid group; the target is a mention string.
    result = await world.admin.slash(
        world.bot_commands, "perm deny", command="probe", target=role_mention(world.member_role)
    )
    assert result.response is not None
    assert result.response.content.startswith("⛔ `probe` is now denied for role")

    denied = await world.member.slash(world.general, "probe")
    assert denied.response is not None
    assert denied.response.ephemeral
    assert denied.response.content == "⛔ One of your roles may not use `probe`."
    simcord.assert_error(env, contains="One of your roles may not use `probe`.")

    allowed = await world.moderator.slash(world.general, "probe")
    assert allowed.response is not None and allowed.response.content == "probe ok"


# --- layer 6: permission ranks -------------------------------------------------------------


async def test_ranks(env: simcord.Env, world: World, probe: Probe) -> None:
    admin, member = world.admin, world.member
    general, bot_commands = world.general, world.bot_commands
    member_role = role_mention(world.member_role)
    # The server uses ranks (one role has one), so ranks decide, not Discord permissions.
    staff = world.guild.create_role("Staff")
    await store_of(env).set_role_rank(world.guild.id, staff.id, 1)

    await assert_denied(
        env, member, general, "!ranked", "`ranked` needs permission rank 5; your rank is 0."
    )

    reply = await say(admin, bot_commands, f"!perm rank set {member_role} 5")
    assert reply == f"✅ {member_role} now has permission rank 5."
    assert await say(member, general, "!ranked") == "ranked ok"

    await say(admin, bot_commands, f"!perm rank set {member_role} 4")
    await assert_denied(
        env, member, general, "!ranked", "`ranked` needs permission rank 5; your rank is 4."
    )

    # The guild lowers what the command needs.
    reply = await say(admin, bot_commands, "!perm rank command ranked 0")
    assert reply == "✅ `ranked` now needs permission rank 0 here (declared: 5)."
    assert await say(member, general, "!ranked") == "ranked ok"
    reply = await say(admin, bot_commands, "!perm rank command ranked default")
    assert reply == "✅ `ranked` needs its declared rank again (5)."
    await assert_denied(
        env, member, general, "!ranked", "`ranked` needs permission rank 5; your rank is 4."
    )

    # The guild raises a command that needs no rank by default.
    await say(admin, bot_commands, "!perm rank command probe 3")
    await assert_denied(
        env, world.moderator, general, "!probe", "`probe` needs permission rank 3; your rank is 0."
    )
    assert await say(member, general, "!probe") == "probe ok"

    reply = await say(admin, bot_commands, f"!perm rank remove {member_role}")
    assert reply == f"🗑️ {member_role} no longer has a permission rank."
    await assert_denied(
        env, member, general, "!ranked", "`ranked` needs permission rank 5; your rank is 0."
    )

    # The server owner has the top rank without any role.
    assert await say(world.owner, general, "!ranked") == "ranked ok"

    # Out-of-range ranks are refused with a message, and nothing is stored.
    reply = await say(admin, bot_commands, f"!perm rank set {member_role} 11")
    assert "between 0 and 10" in reply and "Usage: `!perm rank set <role> <rank>`" in reply
    simcord.assert_error(env, commands.BadArgument)
    reply = await say(admin, bot_commands, "!perm rank command ranked 11")
    assert reply == "A permission rank is a whole number from 0 to 10; 11 is not."
    simcord.assert_error(env, contains="from 0 to 10")
    assert await store_of(env).role_ranks(world.guild.id) == {staff.id: 1}

    reply = await say(admin, bot_commands, "!perm rank list")
    last = bot_commands.last_message
    assert last is not None and last.embeds
    fields = {field.name: field.value for field in last.embeds[0].fields}
    assert role_mention(staff) in fields["Role ranks"]
    assert fields["Command rank overrides"] == "`probe`: 3"
    assert reply == ""


async def test_rank_set_by_slash_subcommand_group(
    env: simcord.Env, world: World, probe: Probe
) -> None:
    result = await world.admin.slash(
        world.bot_commands, "perm rank set", role=world.member_role, rank=5
    )
    assert result.response is not None
    assert (
        result.response.content
        == f"✅ {role_mention(world.member_role)} now has permission rank 5."
    )
    ok = await world.member.slash(world.general, "ranked")
    assert ok.response is not None and ok.response.content == "ranked ok"
    denied = await world.moderator.slash(world.general, "ranked")
    assert denied.response is not None and denied.response.ephemeral
    assert denied.response.content == "⛔ `ranked` needs permission rank 5; your rank is 0."
    simcord.assert_error(env, contains="needs permission rank 5")


async def test_perm_rank_cannot_grant_above_the_invokers_own_rank(
    env: simcord.Env, world: World, probe: Probe
) -> None:
    """A moderator allowed to manage ranks cannot raise a role above their own rank."""
    mod_role, member_role = role_mention(world.mod_role), role_mention(world.member_role)
    store = store_of(env)
    await store.set_role_rank(world.guild.id, world.mod_role.id, 8)

    reply = await say(world.moderator, world.bot_commands, f"!perm rank set {mod_role} 10")
    assert reply.startswith("⛔ Your permission rank is 8: you can't set or change rank 10.")
    simcord.assert_error(env, contains="Your permission rank is 8")
    reply = await say(world.moderator, world.bot_commands, "!perm rank command perm 10")
    assert reply.startswith("⛔ Your permission rank is 8")
    simcord.assert_error(env, contains="Your permission rank is 8")
    assert await store.role_ranks(world.guild.id) == {world.mod_role.id: 8}
    assert await store.command_rank(world.guild.id, "perm") is None

    # Within their own rank it works; Administrators are not limited.
    reply = await say(world.moderator, world.bot_commands, f"!perm rank set {member_role} 8")
    assert reply == f"✅ {member_role} now has permission rank 8."
    reply = await say(world.admin, world.bot_commands, f"!perm rank set {mod_role} 10")
    assert reply == f"✅ {mod_role} now has permission rank 10."


# --- perm explain ---------------------------------------------------------------------------


async def test_perm_explain_names_the_deciding_rule(
    env: simcord.Env, world: World, probe: Probe
) -> None:
    admin, general = world.admin, world.general
    # The server uses ranks (one role has one), so layer 6 compares ranks.
    staff = world.guild.create_role("Staff")
    await store_of(env).set_role_rank(world.guild.id, staff.id, 1)
    await say(admin, general, f"!perm deny probe {role_mention(world.member_role)}")

    reply = await say(
        admin, general, f"!perm explain probe {world.member.mention} {general.mention}"
    )
    assert reply.startswith(
        f"⛔ **Denied**: {world.member.mention} using `probe` in {general.mention}"
    )
    assert "5 · command rule: denied role (`command_denied_role`)" in reply
    assert "One of your roles may not use `probe`." in reply
    # Every layer's verdict, in the model's order; the first verdict decides.
    layers = reply.split("**Layers** (in order; the first verdict decides):\n", 1)[1]
    assert layers.startswith(
        "· 1 · bot owner: no opinion\n"
        "· 2 · direct messages: no opinion\n"
        "· 3 · server owner / Administrator override: no opinion\n"
        "· module paused: no opinion\n"
        "· 4 · module channels: no opinion\n"
        "· 4 · module required roles: no opinion\n"
        "· 5 · command rules: channels: no opinion\n"
        "⛔ 5 · command rules: roles: One of your roles may not use `probe`. ← decides\n"
        "· 6 · permission rank: no opinion\n"
    ), layers

    reply = await say(admin, general, f"!perm explain probe {world.moderator.mention}")
    assert reply.startswith("✅ **Allowed**")
    assert "no rule restricts it (`default`)" in reply

    # Defaults to the invoker: the admin is not covered by an override on `probe`.
    reply = await say(admin, general, "!perm explain ranked")
    assert "⛔ **Denied**" in reply and "(`rank`)" in reply
    assert "needs 5 (declared)" in reply

    reply = await say(admin, general, '!perm explain "perm show"')
    assert "3 · Administrator override (`administrator`)" in reply
    # Later layers are still shown: the admin has no rank, which would not be enough.
    assert "✅ 3 · server owner / Administrator override: Administrators may always" in reply
    assert "⛔ 6 · permission rank: `perm show` needs permission rank 8; your rank is 0." in reply

    # Through the slash command: a subcommand of the hybrid group.
    result = await admin.slash(general, "perm explain", command="probe", member=world.member)
    assert result.response is not None
    assert "(`command_denied_role`)" in result.response.content

    # An unknown command names close matches.
    reply = await say(admin, general, "!perm explain prbe")
    assert reply.startswith("There is no command `prbe`. Did you mean `probe`")
    simcord.assert_error(env, commands.BadArgument, contains="There is no command")


async def test_perm_show_lists_rules_and_ranks(
    env: simcord.Env, world: World, probe: Probe
) -> None:
    admin, chan = world.admin, world.bot_commands
    await say(admin, chan, f"!perm allow probe {role_mention(world.mod_role)}")
    await say(admin, chan, f"!perm deny probe {world.general.mention}")
    await say(admin, chan, f"!perm rank set {role_mention(world.mod_role)} 6")
    await say(admin, chan, "!perm rank command ranked 2")

    await admin.send(chan, "!perm show probe")
    embed = chan.last_message.embeds[0]
    fields = {field.name: field.value for field in embed.fields}
    assert embed.title == "Permissions of probe"
    assert fields["Allowed roles"] == role_mention(world.mod_role)
    assert fields["Denied channels"] == world.general.mention
    assert fields["Rank needed"] == "0 (declared)"

    await admin.send(chan, "!perm show")
    fields = {f.name: f.value for f in chan.last_message.embeds[0].fields}
    assert "`probe`: allow" in fields["Command rules"]
    assert fields["Role ranks"] == f"6 · {role_mention(world.mod_role)}"
    assert fields["Command rank overrides"] == "`ranked`: 2"


# --- persistence ------------------------------------------------------------------------------


async def test_rules_and_ranks_survive_a_restart(
    env: simcord.Env, world: World, make_bot: Callable[..., FishBot]
) -> None:
    admin, general = world.admin, world.general
    await say(admin, general, f"!perm deny ping {role_mention(world.member_role)}")
    await say(admin, general, f"!perm rank set {role_mention(world.mod_role)} 7")
    await say(admin, general, "!perm rank command ping 6")

    await env.restart_bot(make_bot())

    await assert_denied(
        env, world.member, general, "!ping", "One of your roles may not use `ping`."
    )
    assert await say(world.moderator, general, "!ping") == "Pong!"  # rank 7 >= 6
    await admin.send(general, "!perm show ping")
    fields = {f.name: f.value for f in general.last_message.embeds[0].fields}
    assert fields["Denied roles"] == role_mention(world.member_role)
    assert fields["Rank needed"] == "6 (server override; declared 0)"


async def test_slash_command_names_are_offered_while_typing(
    env: simcord.Env, world: World, probe: Probe
) -> None:
    """The `command` option of the perm commands offers the bot's commands (an auto-sharded bot
    is a ``BotBase``, not a ``commands.Bot``: the completion used to offer nothing)."""
    choices = await world.admin.autocomplete(world.general, "perm explain", "command", "perm ra")
    names = [choice["value"] for choice in choices]
    assert names[:5] == [
        "perm rank",
        "perm rank command",
        "perm rank init",
        "perm rank list",
        "perm rank remove",
    ]
    choices = await world.admin.autocomplete(
        world.general, "config ranks command", "command", "probe"
    )
    assert [choice["value"] for choice in choices] == ["probe", "dmprobe"]
