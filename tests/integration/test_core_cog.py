"""The core cog's commands, driven through SimCord: status, cog, settings, sync, restarts."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import pytest
import simcord

from fish_bot.bot import FishBot

from .conftest import say

COGS = ["fish_bot.cogs.admin", "fish_bot.cogs.example"]


@pytest.fixture
def bot_cogs() -> Sequence[str]:
    return COGS


def acknowledge(env: simcord.Env) -> list[BaseException]:
    """Mark the errors the bot reported on purpose (refusals) as seen."""
    return env.errors


def example(env: simcord.Env) -> Any:
    cog = env.bot.get_cog("Example")
    assert cog is not None
    return cog


async def restart(env: simcord.Env, make_bot: Callable[..., FishBot], owner_id: int) -> FishBot:
    """Stop the bot cleanly and start a new one on the same data folder and database."""
    await env.bot.close()
    bot = make_bot(COGS, owner_ids=[owner_id])
    await env.restart_bot(bot)
    return bot


def second_guild(env: simcord.Env, world: Any) -> tuple[Any, Any, Any]:
    """Another guild owned by the same person: (guild, channel, owner actor)."""
    guild = env.create_guild(name="Other Tank", owner=world.owner.user)
    channel = guild.create_text_channel("general")
    if world.owner.id in guild.member_ids():
        actor = simcord.MemberActor(env, guild, world.owner.user)
    else:
        actor = guild.add_member(world.owner.user)
    return guild, channel, actor


# --- status ----------------------------------------------------------------------------------


async def test_status_shows_the_bot_and_every_module(env: simcord.Env, world: Any) -> None:
    reply = await say(world.member, world.general, "!status")
    embed = reply.embeds[0]
    fields = {field.name: field.value for field in embed.fields}
    assert {"Uptime", "Gateway latency", "Servers", "Database"} <= set(fields)
    assert fields["Servers"] == "1"
    assert fields["Database"].startswith("✅ sqlite")
    modules = fields["Modules (2)"]
    assert "**Core**: Ready" in modules
    assert "**Example**: Ready" in modules


async def test_status_of_one_module(env: simcord.Env, world: Any) -> None:
    reply = await say(world.member, world.general, "!status EXAMPLE")
    embed = reply.embeds[0]
    assert embed.title == "Example status"
    fields = {field.name: field.value for field in embed.fields}
    assert fields["State"] == "Ready"
    assert "Heartbeat: running" in fields["Loops"]
    missing = await say(world.member, world.general, "!status nothing")
    assert "No loaded module is called `nothing`" in missing.content

    result = await world.member.slash(world.general, "status", cog="example")
    assert result.response is not None
    assert result.response.embeds[0].title == "Example status"
    acknowledge(env)  # refusals are raised (UserFacingError) and answered by the policy


async def test_status_reports_a_paused_module(env: simcord.Env, world: Any) -> None:
    await example(env).pause(world.guild.id)
    reply = await say(world.member, world.general, "!status")
    modules = next(f.value for f in reply.embeds[0].fields if f.name.startswith("Modules"))
    assert "**Example**: Ready (paused here)" in modules


# --- settings --------------------------------------------------------------------------------


async def test_settings_set_per_guild_and_globally(
    env: simcord.Env, world: Any, owner: Any
) -> None:
    cog = example(env)
    reply = await say(owner, world.general, "!settings set example count_step 5")
    assert reply.content == "✅ Example `count_step` is now 5 in this server."
    reply = await say(owner, world.general, "!settings set Example count_step 3 --global")
    assert reply.content == "✅ Example `count_step` is now 3 everywhere (global)."

    other, other_channel, other_owner = second_guild(env, world)
    assert cog.get_setting("count_step", guild_id=world.guild.id) == 5  # guild value wins
    assert cog.get_setting("count_step", guild_id=other.id) == 3  # the other guild: global
    assert cog.get_setting("count_step") == 3

    here = await say(owner, world.general, "!settings show example")
    assert "**count_step** = 5 *(this server)*" in here.embeds[0].description
    there = await say(other_owner, other_channel, "!settings show example")
    assert "**count_step** = 3 *(global)*" in there.embeds[0].description

    # The command uses the value of its guild.
    counted = await say(world.member, world.general, "!example count")
    assert counted.content == "🔢 The counter is at 5 (+5)."


async def test_settings_set_as_slash_command(env: simcord.Env, world: Any, owner: Any) -> None:
    result = await owner.slash(
        world.general, "settings set", cog="example", key="greeting", value="Hi there"
    )
    assert result.response is not None
    assert result.response.content == "✅ Example `greeting` is now Hi there in this server."
    result = await owner.slash(
        world.general,
        "settings set",
        cog="example",
        key="tick_interval",
        value="5m",
        global_=True,
    )
    assert result.response is not None
    assert "`tick_interval` is now 5m everywhere" in result.response.content
    assert example(env).get_setting("tick_interval") == 300  # stored in seconds


async def test_values_typed_in_commands_are_converted(
    env: simcord.Env, world: Any, owner: Any
) -> None:
    cog = example(env)
    await say(owner, world.general, "!settings set example tick_interval 2m")
    assert cog.get_setting("tick_interval", guild_id=world.guild.id) == 120
    reply = await say(
        owner, world.general, f"!settings set example reminder_channel {world.mod_log.mention}"
    )
    assert (
        reply.content
        == f"✅ Example `reminder_channel` is now <#{world.mod_log.id}> in this server."
    )
    assert cog.get_setting("reminder_channel", guild_id=world.guild.id) == world.mod_log.id
    await say(owner, world.general, "!settings set example tags fish, bait, reef")
    assert cog.get_setting("tags", guild_id=world.guild.id) == ["fish", "bait", "reef"]
    await say(owner, world.general, "!settings set example count_messages yes")
    assert cog.get_setting("count_messages", guild_id=world.guild.id) is True


@pytest.mark.parametrize(
    ("command", "rule"),
    [
        ("count_step 500", "range(1,100)"),
        ("count_step many", "type.int"),
        ("tick_interval 5h", "time.minutes(1,60)"),
        ("tags a, a", "collection.list(item_type=str,unique=true,max_length=10)"),
        ("reminder_channel 123", "discord.channel"),
        ("cache_filename ../x", r"pattern([A-Za-z0-9_.-]+\.json)"),
    ],
)
async def test_bad_values_are_refused_naming_setting_and_rule(
    env: simcord.Env, world: Any, owner: Any, command: str, rule: str
) -> None:
    manager = env.bot.config_manager
    before = manager.stored_values("Example")
    reply = await say(owner, world.general, f"!settings set example {command}")
    key = command.split()[0]
    assert reply.content.startswith(f"❌ Setting '{key}': ")
    assert f"(rule: {rule})" in reply.content
    assert reply.content.endswith("Nothing was changed.")
    assert manager.stored_values("Example") == before
    acknowledge(env)  # refusals are raised (UserFacingError) and answered by the policy


async def test_unknown_module_and_setting(env: simcord.Env, world: Any, owner: Any) -> None:
    reply = await say(owner, world.general, "!settings set nothing key 1")
    assert reply.content == "No loaded module is called `nothing`."
    reply = await say(owner, world.general, "!settings set example colour blue")
    assert reply.content.startswith("❌ Example has no setting 'colour'.")
    acknowledge(env)  # refusals are raised (UserFacingError) and answered by the policy


async def test_settings_reset(env: simcord.Env, world: Any, owner: Any) -> None:
    cog = example(env)
    await say(owner, world.general, "!settings set example count_step 7 --global")
    await say(owner, world.general, "!settings set example count_step 9")
    reply = await say(owner, world.general, "!settings reset example count_step")
    assert reply.content == (
        "✅ Reset the value in this server of Example `count_step`; it is now 7 here."
    )
    assert cog.get_setting("count_step", guild_id=world.guild.id) == 7
    reply = await say(owner, world.general, "!settings reset example count_step --global")
    assert "it is now 1 here" in reply.content  # the declared default
    reply = await say(owner, world.general, "!settings reset example count_step")
    assert reply.content == "Example `count_step` has no value in this server to reset."
    assert env.bot.config_manager.stored_values("Example") == {}


async def test_settings_show_lists_every_setting(env: simcord.Env, world: Any) -> None:
    reply = await say(world.owner, world.general, "!settings show example")
    text = reply.embeds[0].description
    for spec in env.bot.config_manager.specs("Example").values():
        assert f"**{spec.name}**" in text
    assert "**tick_interval** = 1m *(default)*" in text
    assert "Rules: duration in minutes, between 1m and 1h" in text
    assert "How much `example count` adds" in text


async def test_who_may_change_settings(env: simcord.Env, world: Any, owner: Any) -> None:
    # Administrators may always run the settings commands (admin_override).
    reply = await say(world.admin, world.general, "!settings set example count_step 4")
    assert reply.content.startswith("✅")
    # ... but global values are for bot owners only.
    reply = await say(world.admin, world.general, "!settings set example count_step 4 --global")
    assert reply.content == "⛔ Only bot owners can change things globally."
    assert not env.bot.config_manager.stored("Example", "count_step")[0]
    # A member without Manage Server (no ranks configured) may not use them at all ...
    reply = await say(world.member, world.general, "!settings show example")
    assert reply.content.startswith("⛔ `settings show` needs the **Manage Server** permission")
    acknowledge(env)
    # ... nor, once the server uses ranks, without rank 8.
    await env.bot.permission_store.set_role_rank(world.guild.id, world.member_role.id, 0)
    reply = await say(world.member, world.general, "!settings show example")
    assert reply.content.startswith("⛔")
    assert "rank 8" in reply.content
    acknowledge(env)


# --- cog pause and resume ----------------------------------------------------------------


async def test_pause_in_a_guild_stops_the_module_there(
    env: simcord.Env, world: Any, owner: Any
) -> None:
    reply = await say(owner, world.general, "!cog pause example")
    assert reply.content == "⏸️ Example is paused in this server."
    refused = await say(world.member, world.general, "!example count")
    assert refused.content == "⛔ The Example module is paused here."
    acknowledge(env)
    _other, other_channel, other_owner = second_guild(env, world)
    works = await say(other_owner, other_channel, "!example count")
    assert works.content.startswith("🔢")
    again = await say(owner, world.general, "!cog pause example")
    assert again.content == "Example is already paused in this server."
    reply = await say(owner, world.general, "!cog resume example")
    assert reply.content == "▶️ Example is resumed in this server."
    counted = await say(world.member, world.general, "!example count")
    assert counted.content.startswith("🔢")


async def test_global_pause_stops_the_loop(env: simcord.Env, world: Any, owner: Any) -> None:
    cog = example(env)
    await env.advance_time(1)
    ticks = cog.ticks
    reply = await say(owner, world.general, "!cog pause example --global")
    assert reply.content == "⏸️ Example is paused everywhere."
    assert cog.is_paused
    await env.advance_time(300)
    assert cog.ticks == ticks  # paused: the heartbeat skips its work
    assert (await say(owner, world.general, "!status")).embeds[0].fields[-1].value.count(
        "Paused"
    ) == 1
    reply = await say(owner, world.general, "!cog resume example --global")
    assert reply.content == "▶️ Example is resumed everywhere."
    await env.advance_time(300)
    assert cog.ticks >= ticks + 4


async def test_pause_rules(env: simcord.Env, world: Any, owner: Any) -> None:
    reply = await say(world.admin, world.general, "!cog pause example --global")
    assert reply.content == "⛔ Only bot owners can change things globally."
    reply = await say(owner, world.general, "!cog pause core")
    assert reply.content == "⛔ Core cannot be paused."
    reply = await say(owner, world.general, "!cog pause nothing")
    assert reply.content == "No loaded module is called `nothing`."
    reply = await say(world.member, world.general, "!cog pause example")
    assert reply.content.startswith("⛔")  # rank 8 needed
    acknowledge(env)
    result = await owner.slash(world.general, "cog pause", name="example", global_=True)
    assert result.response is not None
    assert result.response.content == "⏸️ Example is paused everywhere."


# --- cog list, load, unload, reload --------------------------------------------------------


async def test_cog_list_load_unload_reload(env: simcord.Env, world: Any, owner: Any) -> None:
    listing = await say(owner, world.general, "!cog list")
    fields = {field.name: field.value for field in listing.embeds[0].fields}
    assert "**Example** `fish_bot.cogs.example`" in fields["Loaded"]
    assert "**Core** `fish_bot.cogs.admin`" in fields["Loaded"]

    reply = await say(owner, world.general, "!cog unload example")
    assert reply.content == "✅ Unloaded `fish_bot.cogs.example`."
    assert env.bot.get_cog("Example") is None
    before = len(world.general.history())
    await world.member.send(world.general, "!example count")
    assert len(world.general.history()) == before + 1  # no such command any more: silence
    reply = await say(owner, world.general, "!cog unload example")
    assert reply.content == "`example` is not loaded."
    listing = await say(owner, world.general, "!cog list")
    assert (
        "`fish_bot.cogs.example`"
        in {f.name: f.value for f in listing.embeds[0].fields}["Available"]
    )

    reply = await say(owner, world.general, "!cog load example")
    assert reply.content == "✅ Loaded `fish_bot.cogs.example`. Module: Example."
    reply = await say(owner, world.general, "!cog load fish_bot.cogs.example")
    assert reply.content == "`fish_bot.cogs.example` is already loaded."
    reply = await say(owner, world.general, "!cog load nothing_here")
    assert reply.content == "❓ Not found: there is no cog package `fish_bot.cogs.nothing_here`."
    assert "fish_bot.cogs.nothing_here" not in env.bot.cog_load_errors

    old = example(env)
    reply = await say(owner, world.general, "!cog reload Example")
    assert reply.content == "✅ Reloaded `fish_bot.cogs.example`. Module: Example."
    assert example(env) is not old
    assert example(env).is_ready

    reply = await say(owner, world.general, "!cog unload core")
    assert reply.content.startswith("⛔ The core module cannot be unloaded")
    acknowledge(env)  # refusals are raised (UserFacingError) and answered by the policy


async def test_cog_management_is_for_bot_owners(env: simcord.Env, world: Any) -> None:
    for command in ("!cog list", "!cog load example", "!cog unload example", "!sync"):
        reply = await say(world.owner, world.general, command)  # guild owner, not bot owner
        assert reply.content.startswith("⛔"), command
    errors = acknowledge(env)
    assert errors
    assert env.bot.get_cog("Example") is not None


BROKEN_COG = """
from fish_bot.core.base_cog import BaseCog


class Broken(BaseCog):
    def __init__(self, bot):
        settings_config = {"interval": (5, "How often", ["type.int", "range(1,"])}
        super().__init__(bot, settings_config)


async def setup(bot):
    await bot.add_cog(Broken(bot))
"""


async def test_a_cog_with_a_malformed_rule_reports_why(
    env: simcord.Env,
    world: Any,
    owner: Any,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    package = tmp_path / "plugins" / "fishplugins" / "broken"
    package.mkdir(parents=True)
    (package.parent / "__init__.py").write_text("", encoding="utf-8")
    (package / "__init__.py").write_text(BROKEN_COG, encoding="utf-8")
    monkeypatch.syspath_prepend(str(tmp_path / "plugins"))

    reply = await say(owner, world.general, "!cog load fishplugins.broken")
    assert reply.content.startswith("❌ `fishplugins.broken` failed to load: ")
    assert "cog 'Broken'" in reply.content
    assert "'interval'" in reply.content
    assert "'range(1,'" in reply.content
    assert env.bot.get_cog("Broken") is None
    assert "fishplugins.broken" in env.bot.cog_load_errors

    listing = await say(owner, world.general, "!cog list")
    failed = {f.name: f.value for f in listing.embeds[0].fields}["Failed to load"]
    assert "`fishplugins.broken`: " in failed and "range(1," in failed
    status = await say(owner, world.general, "!status")
    failed = {f.name: f.value for f in status.embeds[0].fields}["Failed to load"]
    assert "range(1," in failed
    # Members see which module failed, not why.
    status = await say(world.member, world.general, "!status")
    failed = {f.name: f.value for f in status.embeds[0].fields}["Failed to load"]
    assert failed == "❌ `fishplugins.broken`"
    acknowledge(env)  # refusals are raised (UserFacingError) and answered by the policy


# --- sync --------------------------------------------------------------------------------------


async def test_sync(env: simcord.Env, world: Any, owner: Any) -> None:
    count = len(env.bot.tree.get_commands())
    reply = await say(owner, world.general, "!sync")
    assert reply.content == f"✅ Synced {count} application commands globally."
    reply = await say(owner, world.general, "!sync here")
    assert reply.content == f"✅ Synced 0 application commands to {world.guild.name}."
    reply = await say(owner, world.general, "!sync 42")
    assert reply.content == "I am not in a server `42`."
    acknowledge(env)  # refusals are raised (UserFacingError) and answered by the policy


# --- restarts and the hot path ---------------------------------------------------------------


async def test_restart_keeps_settings_and_pause_state(
    env: simcord.Env, world: Any, owner: Any, make_bot: Callable[..., FishBot]
) -> None:
    await say(owner, world.general, "!settings set example count_step 6")
    await say(owner, world.general, "!settings set example greeting Welcome back --global")
    await say(owner, world.general, "!cog pause example")
    await restart(env, make_bot, owner.id)
    cog = example(env)
    assert cog.get_setting("count_step", guild_id=world.guild.id) == 6
    assert cog.get_setting("greeting") == "Welcome back"
    assert cog.is_paused_in(world.guild.id)
    assert not cog.is_paused
    refused = await say(world.member, world.general, "!example count")
    assert refused.content == "⛔ The Example module is paused here."
    acknowledge(env)


async def test_a_plain_message_does_no_database_io(env: simcord.Env, world: Any) -> None:
    stats = env.bot.database.stats
    await world.member.send(world.general, "warm up")
    before = stats.queries
    await world.member.send(world.general, "hello")
    await world.member.send(world.general, "just chatting, no command here")
    assert stats.queries == before


async def test_replies_never_ping(env: simcord.Env, world: Any, owner: Any) -> None:
    await say(owner, world.general, "!settings set example greeting @everyone hi")
    posts = [
        entry
        for entry in env.http_requests
        if entry.method == "POST" and entry.path.endswith("/messages") and entry.json
    ]
    assert posts
    mentions = posts[-1].json.get("allowed_mentions")
    assert mentions == {"parse": []}
