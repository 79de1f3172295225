"""A cog written exactly as the guide's code blocks (``guide_cog/``), driven through SimCord:
the permission helpers, error recovery and retries, a plain tasks class, the cog's own
``on_interaction`` listener beside routed components, and the guide's ``FeatureView``."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

import discord
import pytest
import simcord

from fish_bot.core.views import RoutedView
from fish_bot.exceptions import ChannelUnauthorized, UserUnauthorized

from .conftest import World, say
from .guide_cog.cog import Feature
from .guide_cog.views import FeatureView

GUIDE_COG = f"{__package__}.guide_cog"
COGS = ["fish_bot.cogs.admin", GUIDE_COG]


@pytest.fixture
def bot_cogs() -> Sequence[str]:
    return COGS


def feature(env: simcord.Env) -> Feature:
    cog = env.bot.get_cog("Feature")
    assert isinstance(cog, Feature)
    return cog


async def context(env: simcord.Env, actor: Any, channel: Any, text: str) -> Any:
    """The bot's Context for ``text`` sent by ``actor`` in ``channel``."""
    sent = await actor.send(channel, text)
    message = discord.utils.get(env.bot.cached_messages, id=sent.id)
    assert message is not None
    return await env.bot.get_context(message)


def bot_channel(env: simcord.Env, channel: Any) -> Any:
    found = env.bot.get_channel(channel.id)
    assert found is not None
    return found


def bot_member(env: simcord.Env, world: World, actor: Any) -> discord.Member:
    guild = env.bot.get_guild(world.guild.id)
    assert guild is not None
    member = guild.get_member(actor.id)
    assert member is not None
    return member


# --- permissions: views on the one model --------------------------------------------------


async def test_channel_helpers_agree_with_the_commands(env: simcord.Env, world: World) -> None:
    cog = feature(env)
    await cog.set_setting("restricted_channels", [world.bot_commands.id], world.guild.id)
    assert not await cog.is_channel_authorized(bot_channel(env, world.bot_commands))
    assert await cog.is_channel_authorized(bot_channel(env, world.general))
    refused = await say(world.member, world.bot_commands, "!feature list")
    assert refused.content == "⛔ Feature commands are not allowed in this channel."
    assert (await say(world.member, world.general, "!feature list")).content == "No items yet."

    ctx = await context(env, world.member, world.bot_commands, "!feature list")
    with pytest.raises(ChannelUnauthorized, match="not allowed in this channel"):
        await cog.check_permissions(ctx)
    assert not await cog.check_command_permissions(ctx, "feature list")

    await cog.set_setting("allowed_channels", [world.general.id], world.guild.id)
    assert not await cog.is_channel_authorized(bot_channel(env, world.mod_log))
    refused = await say(world.member, world.mod_log, "!feature list")
    assert refused.content.startswith("⛔ Feature commands only work in <#")
    reply = await say(world.member, world.general, "!may feature list")
    assert reply.content == "feature list: True; channel: True; role: True"
    env.errors  # noqa: B018 - acknowledge the refusals the bot reported


async def test_role_helpers_agree_with_the_commands(env: simcord.Env, world: World) -> None:
    cog = feature(env)
    await cog.set_setting("required_roles", [world.mod_role.id], world.guild.id)
    assert not await cog.has_required_role(bot_member(env, world, world.member))
    assert await cog.has_required_role(bot_member(env, world, world.moderator))
    refused = await say(world.member, world.general, "!feature list")
    assert refused.content.startswith("⛔ Feature commands need one of the roles <@&")

    ctx = await context(env, world.member, world.general, "!feature list")
    with pytest.raises(UserUnauthorized, match="need one of the roles"):
        await cog.check_permissions(ctx)
    assert not await cog.check_command_permissions(ctx, "feature list")
    # Another cog's command is judged by that cog's rules: `ping` is still allowed.
    assert await cog.check_command_permissions(ctx, "ping")

    ctx = await context(env, world.moderator, world.general, "!feature list")
    assert await cog.check_permissions(ctx)
    reply = await say(world.moderator, world.general, "!may feature list")
    assert reply.content == "feature list: True; channel: True; role: True"
    result = await world.member.slash(world.general, "may", command="feature list")
    assert result.response is not None
    assert result.response.content.startswith("⛔ Feature commands need one of the roles")
    env.errors  # noqa: B018


async def test_command_rules_are_seen_by_check_command_permissions(
    env: simcord.Env, world: World
) -> None:
    await say(world.admin, world.general, f"!perm deny ping {world.member_role.mention}")
    denied = await say(world.member, world.general, "!ping")
    assert denied.content == "⛔ One of your roles may not use `ping`."
    reply = await say(world.member, world.general, "!may ping")
    assert reply.content == "ping: False; channel: True; role: True"
    result = await world.moderator.slash(world.general, "may", command="ping")
    assert result.response is not None
    assert result.response.content == "ping: True; channel: True; role: True"
    assert (await say(world.moderator, world.general, "!ping")).content == "Pong!"
    # A name that is no command is judged by this cog's rules and the rules stored for it.
    reply = await say(world.member, world.general, "!may feature:press")
    assert reply.content == "feature:press: True; channel: True; role: True"
    env.errors  # noqa: B018


# --- errors: handle_error, recovery, cleanup, retries --------------------------------------


async def test_handle_error_recovers_or_cleans_up_and_logs_the_traceback(
    env: simcord.Env, world: World, caplog: pytest.LogCaptureFixture
) -> None:
    cog = feature(env)
    with caplog.at_level(logging.ERROR, logger="fish_bot.cogs.feature"):
        reply = await say(world.member, world.general, "!feature fail recoverable")
    assert reply.content == "handled: recoveries 1, cleanups 0"
    logged = [r for r in caplog.records if r.name == "fish_bot.cogs.feature"]
    assert logged and logged[-1].exc_info is not None
    assert "the feed is late" in logged[-1].getMessage()
    assert cog.state_text() == "Ready"  # the guide's recovery reset the error state

    reply = await say(world.member, world.general, "!feature fail other")
    assert reply.content == "handled: recoveries 1, cleanups 1"
    status = await say(world.owner, world.general, "!status feature")
    fields = {f.name: f.value for f in status.embeds[0].fields}
    assert "RuntimeError: the feed is gone" in fields["Errors"]
    assert "Cleanup" in fields["Tasks"]


async def test_the_default_hooks_keep_the_error_state(env: simcord.Env, world: World) -> None:
    core = env.bot.get_cog("Core")
    assert core is not None
    await core.handle_error(RuntimeError("disk full"))
    assert core.state_text() == "Error"
    status = await say(world.owner, world.general, "!status core")
    fields = {f.name: f.value for f in status.embeds[0].fields}
    assert fields["State"] == "Error"
    assert "RuntimeError: disk full" in fields["Errors"]


async def test_a_failing_cleanup_is_logged_not_raised(
    env: simcord.Env, world: World, caplog: pytest.LogCaptureFixture
) -> None:
    cog = feature(env)

    async def broken() -> None:
        raise OSError("cannot close the feed")

    cog.cleanup_resources = broken  # type: ignore[method-assign]
    with caplog.at_level(logging.ERROR, logger="fish_bot.cogs.feature"):
        await cog.handle_error(RuntimeError("the feed is gone"))
    assert cog.state_text() == "Error"
    assert "OSError: cannot close the feed" in (cog.status_summary()["last_error"] or "")
    assert any("cleanup_resources" in r.getMessage() for r in caplog.records)


async def test_retry_delays_come_from_the_settings(
    env: simcord.Env, world: World, owner: Any
) -> None:
    cog = feature(env)
    assert (cog.error_retry_delay, cog.retry_delay) == (30, 2)
    await say(world.owner, world.general, "!settings set feature retry_delay 0 --global")
    await say(world.owner, world.general, "!settings set feature error_retry_delay 45 --global")
    assert (cog.error_retry_delay, cog.retry_delay) == (45, 0)
    assert (await say(world.member, world.general, "!feature retry 2")).content == (
        "done (retry delay 0 s)"
    )
    assert (await say(world.member, world.general, "!feature retry 3")).content == (
        "gave up (retry delay 0 s)"
    )
    assert cog.recoveries == 1  # RetryableError is recoverable: handle_error tried to recover
    core = env.bot.get_cog("Core")
    assert core is not None  # a cog that declares neither gets the defaults
    assert (core.error_retry_delay, core.retry_delay) == (60, 5)


# --- status: last operation, version footer, loops -----------------------------------------


async def test_status_shows_the_last_operation_the_version_and_the_loops(
    env: simcord.Env, world: World, owner: Any
) -> None:
    cog = feature(env)
    status = await say(world.owner, world.general, "!status feature")
    embed = status.embeds[0]
    assert embed.footer.text == "v2.4"
    fields = {f.name: f.value for f in embed.fields}
    assert f"<t:{int(cog._last_operation_time.timestamp())}:R>" in fields["Last operation"]
    assert "weekly_cleanup: running" in fields["Loops"]
    assert "check_deletions: running" in fields["Loops"]
    await say(world.owner, world.general, "!settings set feature version 3.1 --global")
    status = await say(world.owner, world.general, "!status feature")
    assert status.embeds[0].footer.text == "v3.1"
    core_status = await say(world.owner, world.general, "!status core")
    assert core_status.embeds[0].footer.text == "v1.0"


# --- the plain tasks class -----------------------------------------------------------------


async def test_the_plain_tasks_class_runs_after_ready_and_respects_pause(
    env: simcord.Env, world: World, owner: Any
) -> None:
    cog = feature(env)
    assert cog.cooldowns_cleaned == 1  # weekly_cleanup's first run, once the cog was ready
    before = cog.deletion_checks
    await env.advance_time(180)
    assert cog.deletion_checks >= before + 3
    await say(world.owner, world.general, "!cog pause feature --global")
    paused = cog.deletion_checks
    await env.advance_time(180)
    assert cog.deletion_checks == paused
    stats = cog.task_tracker.all_stats()
    assert stats["Weekly Cleanup"].runs == 1


async def test_unload_stops_the_loops(env: simcord.Env, world: World) -> None:
    cog = feature(env)
    assert cog.tasks is not None
    tasks_object = cog.tasks
    assert tasks_object.weekly_cleanup.is_running()
    await env.bot.remove_cog("Feature")
    checks = cog.deletion_checks
    await env.advance_time(180)
    assert cog.deletion_checks == checks
    assert not tasks_object.weekly_cleanup.is_running()
    assert not tasks_object.check_deletions.is_running()


class Forgetful(Feature):
    """Keeps its tasks under another name and forgets to stop them or call super()."""

    async def cog_initialize(self) -> None:
        await super().cog_initialize()
        self.jobs, self.tasks = self.tasks, None

    async def cog_unload(self) -> None:
        pass


async def test_loops_stop_on_unload_even_if_the_cog_forgets(env: simcord.Env, world: World) -> None:
    await env.bot.remove_cog("Feature")
    cog = Forgetful(env.bot)
    await env.bot.add_cog(cog)
    jobs = cog.jobs
    assert jobs.weekly_cleanup.is_running() and jobs.check_deletions.is_running()
    status = await say(world.owner, world.general, "!status forgetful")
    assert "check_deletions: running" in {f.name: f.value for f in status.embeds[0].fields}["Loops"]
    await env.bot.remove_cog("Forgetful")
    checks = cog.deletion_checks
    await env.advance_time(180)
    assert cog.deletion_checks == checks
    assert not jobs.weekly_cleanup.is_running()
    assert not jobs.check_deletions.is_running()


# --- components: the cog's own listener, routed buttons, the guide's FeatureView ------------


def answered_twice(caplog: pytest.LogCaptureFixture) -> list[str]:
    """Log lines of a second answer to one click (the guide's listener logs its failure)."""
    return [r.getMessage() for r in caplog.records if "already been responded" in r.getMessage()]


async def test_the_cogs_own_listener_answers_its_ids_once(
    env: simcord.Env, world: World, caplog: pytest.LogCaptureFixture
) -> None:
    posted = await say(world.member, world.general, "!feature buttons")
    for label, text in [
        ("Action 1", "Action 1 done"),
        ("Action 2", "Error: action 2 is broken"),
        ("Other", "Unknown action"),
        ("Press", "Pressed"),  # the framework's routed button: the listener leaves it alone
    ]:
        result = await world.member.click(posted, label=label)
        assert result.response is not None, label
        assert result.response.content == text
        assert result.followups == [], label
    assert answered_twice(caplog) == []


async def test_the_guides_feature_view_refreshes_once(
    env: simcord.Env, world: World, caplog: pytest.LogCaptureFixture
) -> None:
    panel = await say(world.member, world.general, "!feature panel")
    assert panel.embeds[0].footer.text == "v2.4"
    result = await world.member.click(panel, label="Refresh")
    assert result.response is not None
    assert result.followups == []
    assert answered_twice(caplog) == []
    embed = result.response.embeds[0]
    assert embed.title == "Feature status"
    assert embed.footer.text == "v2.4"
    assert {f.name: f.value for f in embed.fields}["State"] == "Ready"
    # The refresh was tracked: the next status names it as the last operation.
    status = await feature(env).create_status_embed()
    assert {f.name: f.value for f in status.fields}["Last operation"].startswith("Refresh (ok)")


async def test_a_persistent_feature_view_added_with_add_view_answers_once(
    env: simcord.Env, world: World, caplog: pytest.LogCaptureFixture
) -> None:
    """The same View made persistent (no timeout) and registered with ``bot.add_view``
    handles its fixed custom_id on any message, e.g. one posted before a restart."""
    cog = feature(env)
    persistent = FeatureView(cog)
    persistent.timeout = None
    env.bot.add_view(persistent)
    channel = bot_channel(env, world.general)
    button: discord.ui.Button[Any] = discord.ui.Button(label="Refresh", custom_id="feature:refresh")
    message = await channel.send("panel", view=RoutedView(button))
    result = await world.member.click(message, label="Refresh")
    assert result.response is not None
    assert result.response.embeds[0].footer.text == "v2.4"
    assert result.followups == []
    assert answered_twice(caplog) == []


async def test_a_plain_loop_that_fails_shows_so_in_status(
    env: simcord.Env, world: World, owner: Any
) -> None:
    """A plain ``@tasks.loop`` stops at its first uncaught error (discord.py's rule; a
    ``cog_loop`` keeps running): status says so, and names the failed operation."""
    cog = feature(env)
    cog.deletion_checks = None  # type: ignore[assignment]  # the next check raises TypeError
    await env.advance_time(60)
    status = await say(world.owner, world.general, "!status feature")
    fields = {f.name: f.value for f in status.embeds[0].fields}
    assert "check_deletions: stopped after an error" in fields["Loops"]
    assert "weekly_cleanup: running" in fields["Loops"]
    assert "Ad Deletion Check: TypeError" in fields["Errors"]
    assert any(isinstance(error, TypeError) for error in env.errors)  # discord.py logged it
