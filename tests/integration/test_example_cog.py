"""The example cog, driven through SimCord: cache data, loops, components, jobs, restarts."""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import discord
import pytest
import simcord

from fish_bot.bot import FishBot
from fish_bot.config import Settings
from fish_bot.core.views import FishView, RoutedView, make_custom_id, routed_button

from .conftest import say

COGS = ["fish_bot.cogs.admin", "fish_bot.cogs.example"]


@pytest.fixture
def bot_cogs() -> Sequence[str]:
    return COGS


def example(env: simcord.Env) -> Any:
    cog = env.bot.get_cog("Example")
    assert cog is not None
    return cog


async def restart(env: simcord.Env, make_bot: Callable[..., FishBot]) -> FishBot:
    """Stop the bot cleanly (cogs save their data) and start a new one on the same data."""
    await env.bot.close()
    bot = make_bot(COGS)
    await env.restart_bot(bot)
    return bot


def unexpected_errors(env: simcord.Env) -> list[BaseException]:
    """The errors the bot reports with an apology and error id from now on (``fishbot_error``)."""
    reported: list[BaseException] = []

    async def on_fishbot_error(error_id: str, error: BaseException) -> None:
        reported.append(error)

    env.bot.add_listener(on_fishbot_error, "on_fishbot_error")
    return reported


def cache_file(settings: Settings) -> Path:
    return Path(settings.data_dir) / "cogs" / "example" / "example_cache.json"


# --- commands and cache data -------------------------------------------------------------


async def test_count_is_per_guild_and_survives_a_restart(
    env: simcord.Env, world: Any, make_bot: Callable[..., FishBot], fish_settings: Settings
) -> None:
    assert (await say(world.member, world.general, "!example count")).content == (
        "🔢 The counter is at 1 (+1)."
    )
    assert (await say(world.member2, world.general, "!example count")).content == (
        "🔢 The counter is at 2 (+1)."
    )
    cog = example(env)
    assert cog.is_data_modified(cog.cache_file)
    await restart(env, make_bot)
    saved = json.loads(cache_file(fish_settings).read_text(encoding="utf-8"))
    assert saved["counters"] == {str(world.guild.id): 2}
    assert example(env).count("counters", world.guild.id) == 2
    assert (await say(world.member, world.general, "!example count")).content == (
        "🔢 The counter is at 3 (+1)."
    )


async def test_modified_cache_data_is_saved_periodically(
    env: simcord.Env, world: Any, fish_settings: Settings
) -> None:
    await say(world.member, world.general, "!example count")
    path = cache_file(fish_settings)
    await env.advance_time(301)  # cache_save_interval: 5 minutes
    saved = json.loads(path.read_text(encoding="utf-8"))
    assert saved["counters"] == {str(world.guild.id): 1}
    assert not example(env).is_data_modified(example(env).cache_file)


async def test_show_and_its_refresh_button(env: simcord.Env, world: Any) -> None:
    await say(world.owner, world.general, "!settings set example greeting Ahoy!")
    shown = await say(world.member, world.general, "!example show")
    embed = shown.embeds[0]
    assert embed.description == "Ahoy!"
    assert {f.name: f.value for f in embed.fields}["Counter"] == "0"
    assert embed.footer.text == "fish · example"
    await say(world.member, world.general, "!example count")
    result = await world.member.click(shown, label="Refresh")
    assert result.response is not None
    assert {f.name: f.value for f in result.response.embeds[0].fields}["Counter"] == "1"


async def test_reset_needs_rank_five(env: simcord.Env, world: Any) -> None:
    await say(world.member, world.general, "!example count")
    refused = await say(world.member, world.general, "!example reset")
    # No ranks are configured here: the Discord permission it names (Manage Server) decides.
    assert refused.content.startswith("⛔ `example reset` needs the **Manage Server** permission")
    env.errors  # noqa: B018 - acknowledge the refusal the bot reported
    # Once the server uses ranks, rank 5 decides.
    await env.bot.permission_store.set_role_rank(world.guild.id, world.member_role.id, 0)
    refused = await say(world.member, world.general, "!example reset")
    assert refused.content == "⛔ `example reset` needs permission rank 5; your rank is 0."
    env.errors  # noqa: B018 - acknowledge the refusal the bot reported
    done = await say(world.admin, world.general, "!example reset")  # admin_override
    assert done.content == "🔢 The counter was 1; it is 0 now."


async def test_about_works_in_direct_messages(env: simcord.Env, world: Any) -> None:
    await world.member.send_dm("!example about")
    answer = world.member.user.dm_channel.last_message
    assert answer.author.bot
    assert "docs/writing-a-cog.md" in answer.content


async def test_the_listener_counts_messages_without_database_io(
    env: simcord.Env, world: Any
) -> None:
    await say(world.owner, world.general, "!settings set example count_messages on")
    counted = example(env).count("messages", world.guild.id)
    stats = env.bot.database.stats
    before = stats.queries
    for text in ("hello", "how are the fish", "blub"):
        await world.member.send(world.general, text)
    assert stats.queries == before
    assert example(env).count("messages", world.guild.id) == counted + 3


# --- the heartbeat loop ------------------------------------------------------------------


async def test_heartbeat_ticks_with_virtual_time(env: simcord.Env, world: Any) -> None:
    cog = example(env)
    start = cog.ticks
    await env.advance_time(60 * 5)
    assert cog.ticks == start + 5


async def test_a_failing_iteration_is_recorded_and_the_loop_goes_on(
    env: simcord.Env, world: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    cog = example(env)
    real = type(cog).record_tick

    def broken(self: Any) -> int:
        raise RuntimeError("the tank is empty")

    monkeypatch.setattr(type(cog), "record_tick", broken)
    await env.advance_time(60)
    monkeypatch.setattr(type(cog), "record_tick", real)
    ticks = cog.ticks
    await env.advance_time(120)
    assert cog.ticks == ticks + 2  # the loop kept running
    status = await say(world.owner, world.general, "!status example")
    fields = {f.name: f.value for f in status.embeds[0].fields}
    assert fields["State"] == "Error"
    assert "RuntimeError: the tank is empty" in fields["Errors"]
    assert "1 failed" in fields["Loops"]


# --- routed components -------------------------------------------------------------------


async def test_the_button_counts_and_survives_a_restart(
    env: simcord.Env, world: Any, make_bot: Callable[..., FishBot]
) -> None:
    posted = await say(world.member, world.general, "!example button")
    assert posted.content == "🐟 This button was pressed 0 times."
    result = await world.member2.click(posted, label="Press me")
    assert result.response is not None
    assert result.response.content == "🐟 This button was pressed 1 time."

    await restart(env, make_bot)
    result = await world.member.click(posted, label="Press me")  # the old message
    assert result.response is not None
    assert result.response.content == "🐟 This button was pressed 2 times."
    assert example(env).count("presses", world.guild.id) == 2


async def test_the_button_works_after_cog_reload_and_not_after_unload(
    env: simcord.Env, world: Any
) -> None:
    env.bot.owner_ids = {world.owner.id}  # cog management is for bot owners
    posted = await say(world.member, world.general, "!example button")
    reloaded = await say(world.owner, world.general, "!cog reload example")
    assert reloaded.content.startswith("✅")
    result = await world.member.click(posted, label="Press me")
    assert result.response is not None
    assert result.response.content == "🐟 This button was pressed 1 time."
    assert example(env).count("presses", world.guild.id) == 1  # the reloaded cog counted it

    unloaded = await say(world.owner, world.general, "!cog unload example")
    assert unloaded.content.startswith("✅")
    result = await world.member.click(posted, label="Press me")
    assert result.response is None  # no cog answers for the prefix any more
    assert env.bot.get_cog("Example") is None


async def test_a_paused_module_refuses_its_buttons(env: simcord.Env, world: Any) -> None:
    posted = await say(world.member, world.general, "!example button")
    await example(env).pause(world.guild.id)
    result = await world.member.click(posted, label="Press me")
    assert result.response is not None
    assert result.response.ephemeral
    assert result.response.content == "⛔ The Example module is paused here."
    assert example(env).count("presses", world.guild.id) == 0


async def test_a_module_that_is_not_ready_asks_to_wait(env: simcord.Env, world: Any) -> None:
    posted = await say(world.member, world.general, "!example button")
    example(env).set_ready(False)
    result = await world.member.click(posted, label="Press me")
    assert result.response is not None
    assert result.response.ephemeral
    assert result.response.content == "This module is starting; try again in a moment."
    example(env).set_ready(True)
    assert example(env).count("presses", world.guild.id) == 0


async def test_a_failing_permission_check_gets_the_error_policy(
    env: simcord.Env, world: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A check that fails (say, the rules cannot be read) is answered, never left silent."""
    reported = unexpected_errors(env)
    posted = await say(world.member, world.general, "!example button")

    async def broken(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("rules unreadable")

    monkeypatch.setattr(env.bot.permissions, "evaluate", broken)
    result = await world.member.click(posted, label="Press me")
    assert result.response is not None
    assert result.response.ephemeral
    assert result.response.content.startswith("Sorry, something went wrong on our side")
    assert "unreadable" not in result.response.content
    assert [str(error) for error in reported] == ["rules unreadable"]
    assert example(env).count("presses", world.guild.id) == 0


async def test_unknown_action_and_failing_handler(
    env: simcord.Env, world: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    channel = env.bot.get_channel(world.general.id)
    assert isinstance(channel, discord.TextChannel)
    retired = await channel.send(
        "old", view=RoutedView(routed_button("example", "retired", label="Old"))
    )
    result = await world.member.click(retired, label="Old")
    assert result.response is not None
    assert result.response.content == "This button is no longer supported."
    assert result.response.ephemeral

    posted = await say(world.member, world.general, "!example button")

    def broken(self: Any, section: str, guild_id: int, amount: int = 1) -> int:
        raise RuntimeError("secret internals")

    monkeypatch.setattr(type(example(env)), "add", broken)
    result = await world.member.click(posted, label="Press me")
    assert result.response is not None
    text = result.response.content
    assert text.startswith("Sorry, something went wrong on our side (error id `")
    assert "secret" not in text


async def test_a_routed_button_in_a_live_view_is_handled_once(env: simcord.Env, world: Any) -> None:
    """A routed custom_id belongs to its @component handler, also inside a live FishView."""
    cog = example(env)
    clicks: list[str] = []

    class LiveView(FishView):
        def __init__(self) -> None:
            super().__init__(cog, timeout=60)
            button: discord.ui.Button[Any] = discord.ui.Button(
                label="Live", custom_id=make_custom_id(cog, "press", world.guild.id)
            )
            button.callback = self.on_click  # type: ignore[method-assign]
            self.add_item(button)

        async def on_click(self, interaction: discord.Interaction) -> None:
            clicks.append("view")
            await interaction.response.send_message("from the view", ephemeral=True)

    channel = env.bot.get_channel(world.general.id)
    assert isinstance(channel, discord.TextChannel)
    message = await channel.send("live", view=LiveView())
    result = await world.member.click(message, label="Live")
    assert result.response is not None
    assert result.response.content == "🐟 This button was pressed 1 time."
    assert result.followups == []
    assert clicks == []  # the view left the click to the handler: answered once
    assert cog.count("presses", world.guild.id) == 1


# --- forged component arguments ----------------------------------------------------------


async def post_button(env: simcord.Env, world: Any, custom_id: str) -> Any:
    """The bot posts a button with ``custom_id`` in #general (what a forged click carries)."""
    channel = env.bot.get_channel(world.general.id)
    assert isinstance(channel, discord.TextChannel)
    button: discord.ui.Button[Any] = discord.ui.Button(label="Forged", custom_id=custom_id)
    return await channel.send("forged", view=RoutedView(button))


async def test_a_button_naming_another_server_changes_nothing(env: simcord.Env, world: Any) -> None:
    other = env.create_guild(name="Other Tank", owner=env.create_user("other-owner"))
    other_channel = other.create_text_channel("lobby")
    other_member = other.add_member(env.create_user("other-member"))
    posted = await say(other_member, other_channel, "!example button")
    pressed = await other_member.click(posted, label="Press me")
    assert pressed.response is not None
    assert example(env).count("presses", other.id) == 1

    forged = await post_button(env, world, make_custom_id("example", "press", other.id))
    result = await world.member.click(forged, label="Forged")
    assert result.response is not None
    assert result.response.ephemeral
    assert result.response.content == "This button is no longer supported."
    assert example(env).count("presses", other.id) == 1  # the other server's counter
    assert example(env).count("presses", world.guild.id) == 0


@pytest.mark.parametrize(
    "args",
    [
        ["9" * 86],  # the longest number a custom_id holds: no apology
        ["②"],  # passes str.isdigit()
        ["١٢٣"],  # Arabic-Indic digits
        ["-1"],
        ["0"],
        ["not-a-number"],
        [],  # an argument missing
        ["{guild}", "extra"],  # one too many
    ],
)
async def test_bad_arguments_never_reach_the_handler(
    env: simcord.Env, world: Any, monkeypatch: pytest.MonkeyPatch, args: list[str]
) -> None:
    reported = unexpected_errors(env)
    called: list[tuple[Any, ...]] = []
    real = type(example(env)).add

    def spy(self: Any, section: str, guild_id: int, amount: int = 1) -> int:
        called.append((section, guild_id))
        return real(self, section, guild_id, amount)

    monkeypatch.setattr(type(example(env)), "add", spy)
    parts = [arg.format(guild=world.guild.id) for arg in args]
    forged = await post_button(env, world, make_custom_id("example", "press", *parts))
    result = await world.member.click(forged, label="Forged")
    assert result.response is not None
    assert result.response.ephemeral
    assert result.response.content == "This button is no longer supported."
    assert called == []
    assert reported == []  # nothing reached the apology path


# --- scheduled jobs ----------------------------------------------------------------------


async def test_a_reminder_is_posted_when_it_is_due(env: simcord.Env, world: Any) -> None:
    reply = await say(world.member, world.general, "!example remind 10 minutes feed the fish")
    assert reply.content.startswith("⏰ I will remind you <t:")
    await env.advance_time(9 * 60)
    assert "feed the fish" not in world.general.last_message.content
    await env.advance_time(61)
    last = world.general.last_message
    assert last.content == f"⏰ {world.member.mention}, you asked me to remind you: feed the fish"


async def test_a_reminder_survives_a_restart(
    env: simcord.Env, world: Any, make_bot: Callable[..., FishBot]
) -> None:
    await say(
        world.owner,
        world.general,
        f"!settings set example reminder_channel {world.mod_log.mention}",
    )
    await say(world.member, world.general, "!example remind 1h clean the filter")
    await restart(env, make_bot)
    status = await say(world.owner, world.general, "!status example")
    assert {f.name: f.value for f in status.embeds[0].fields}["Pending reminders"] == "1"
    await env.advance_time(3600 + 5)
    last = world.mod_log.last_message
    assert last is not None
    assert last.content.endswith("you asked me to remind you: clean the filter")


async def test_reminder_delays_are_checked(env: simcord.Env, world: Any) -> None:
    reply = await say(world.member, world.general, "!example remind soon dinner")
    assert "give a duration first, e.g. `!example remind 2h water the plants`" in reply.content
    reply = await say(world.member, world.general, "!example remind 10 dinner")
    assert "'10' has no unit ('dinner' is not a unit of time" in reply.content
    reply = await say(world.member, world.general, "!example remind 3d dinner")
    assert reply.content == "❌ The delay must be between 1s and 1d."
    # A time.hours setting: a bare number typed in a command needs its unit.
    reply = await say(world.owner, world.general, "!settings set example max_reminder_delay 72")
    assert "needs a unit: write 72s, 72m or 72h" in reply.content
    await say(world.owner, world.general, "!settings set example max_reminder_delay 72h")
    reply = await say(world.member, world.general, "!example remind 3d dinner")
    assert reply.content.startswith("⏰")
    assert env.errors  # the refusals were raised as UserFacingError


# --- a corrupt cache file --------------------------------------------------------------------


@pytest.fixture
def corrupt_cache(fish_settings: Settings) -> Path:
    """Garbage in the example cog's cache file, written before the bot starts."""
    path = cache_file(fish_settings)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text('{"counters": {"1": 5', encoding="utf-8")
    return path


async def test_a_corrupt_cache_file_is_quarantined(
    corrupt_cache: Path, env: simcord.Env, world: Any
) -> None:
    quarantined = list(corrupt_cache.parent.glob("example_cache.json.corrupt-*"))
    assert len(quarantined) == 1
    assert quarantined[0].read_text(encoding="utf-8") == '{"counters": {"1": 5'
    status = await say(world.owner, world.general, "!status example")
    errors = {f.name: f.value for f in status.embeds[0].fields}["Errors"]
    assert "Corrupt data file example_cache.json moved aside" in errors
    counted = await say(world.member, world.general, "!example count")
    assert counted.content == "🔢 The counter is at 1 (+1)."  # started from the default


# --- FishView: the cog's permission check and the bot's error policy -----------------------


async def test_a_fish_view_checks_permissions_and_hides_errors(
    env: simcord.Env, world: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    shown = await say(world.member, world.general, "!example show")
    await example(env).pause(world.guild.id)
    result = await world.member.click(shown, label="Refresh")
    assert result.response is not None
    assert result.response.ephemeral
    assert result.response.content == "⛔ The Example module is paused here."
    await example(env).resume(world.guild.id)

    def broken(self: Any, guild_id: int) -> discord.Embed:
        raise RuntimeError("secret internals")

    monkeypatch.setattr(type(example(env)), "show_embed", broken)
    result = await world.member.click(shown, label="Refresh")
    assert result.response is not None
    assert result.response.content.startswith("Sorry, something went wrong on our side")
    assert "secret" not in result.response.content
    errors = env.errors  # the view reported it: acknowledged here
    assert any("secret internals" in str(error) for error in errors)
