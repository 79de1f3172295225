"""The cog lifecycle without traps, through the real bot in SimCord.

Ready after ``cog_initialize`` (or a warning and "Not ready" in ``status`` 30 s later for a cog
that opted out), listeners gated by ready and pause, settings declared on the class, the
un-awaited and awaited ``set_setting``, and the slug as the cog's one identity.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import discord
import pytest
import simcord
from discord.ext import commands

from fish_bot.bot import FishBot
from fish_bot.cogs.example.cog import Example
from fish_bot.config import Settings
from fish_bot.core.base_cog import BaseCog
from fish_bot.core.decorators import cog_listener
from fish_bot.core.views import component_prefix, make_custom_id
from fish_bot.exceptions import SettingValidationError
from fish_bot.operations import settings_catalog

from .conftest import say

COGS = ["fish_bot.cogs.admin", "fish_bot.cogs.example"]


@pytest.fixture
def bot_cogs() -> Sequence[str]:
    return COGS


def module_lines(message: discord.Message) -> dict[str, str]:
    """The ``status`` embed's module lines, by module name: ``{"Forgetful": "Ready"}``."""
    field = next(f for f in message.embeds[0].fields if f.name.startswith("Modules"))
    lines: dict[str, str] = {}
    for line in str(field.value).splitlines():
        name, _, state = line.partition("**: ")
        lines[name.split("**")[-1]] = state
    return lines


# --- test cogs ---------------------------------------------------------------------------------


class Forgetful(BaseCog):
    """Overrides cog_initialize and never calls set_ready (the trap of old)."""

    async def cog_initialize(self) -> None:
        await super().cog_initialize()
        self.initialized = True

    @commands.command(name="forgetful")
    async def forgetful(self, ctx: commands.Context[Any]) -> None:
        """Answer 'still here'."""
        await ctx.send("still here")


LATE_COG = """
from fish_bot.core.base_cog import BaseCog


class Late(BaseCog):
    \"\"\"Becomes ready on its own, later (opted out of ready-after-initialize).\"\"\"

    ready_after_initialize = False


async def setup(bot):
    await bot.add_cog(Late(bot))
"""


async def load_late_cog(
    owner: Any, world: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, package: str
) -> None:
    """Load the Late cog from a plugin package with ``cog load``, as an operator would."""
    folder = tmp_path / "plugins" / package / "late"
    folder.mkdir(parents=True)
    (folder.parent / "__init__.py").write_text("", encoding="utf-8")
    (folder / "__init__.py").write_text(LATE_COG, encoding="utf-8")
    monkeypatch.syspath_prepend(str(tmp_path / "plugins"))
    reply = await say(owner, world.general, f"!cog load {package}.late")
    assert reply.content.startswith(f"✅ Loaded `{package}.late`"), reply.content


class Listening(BaseCog):
    """Counts the messages its gated listener sees, per guild."""

    def __init__(self, bot: Any) -> None:
        super().__init__(bot)
        self.seen: list[str] = []

    @cog_listener("on_message")
    async def note_message(self, message: discord.Message) -> None:
        if not message.author.bot and not message.content.startswith("!"):
            self.seen.append(message.content)


class Remembering(BaseCog):
    """Settings handed to ``BaseCog.__init__`` (the guide's form) and set from code."""

    def __init__(self, bot: Any) -> None:
        settings_config = {"word": ("fish", "A word", ["type.str", "length(1,10)"])}
        super().__init__(bot, settings_config)

    @commands.command(name="remember")
    async def remember(self, ctx: commands.Context[Any], word: str) -> None:
        """Set the word without awaiting the write, and read it back at once."""
        assert ctx.guild is not None
        try:
            self.set_setting("word", word, ctx.guild.id)  # the guide's un-awaited form
        except SettingValidationError as error:
            await ctx.send(f"refused: {error.reason}")
            return
        await ctx.send(f"now {self.get_setting('word', guild_id=ctx.guild.id)}")

    @commands.command(name="remembersure")
    async def remember_sure(self, ctx: commands.Context[Any], word: str) -> None:
        """Set the word and wait until it is stored."""
        assert ctx.guild is not None
        await self.set_setting("word", word, ctx.guild.id)
        rows = await self.db.cog_setting.values_for_cog(self.slug)
        stored = {row.key: row.value for row in rows if row.guild_id == ctx.guild.id}
        await ctx.send(f"stored {stored.get('word')}")


class CustomSlug(BaseCog):
    slug = "fancy_fish"


# --- ready after cog_initialize --------------------------------------------------------------


async def test_a_cog_that_forgets_set_ready_is_ready_after_initialize(
    env: simcord.Env, world: Any
) -> None:
    cog = Forgetful(env.bot)
    await env.bot.add_cog(cog)

    assert cog.is_ready
    reply = await say(world.member, world.general, "!status")
    assert module_lines(reply)["Forgetful"] == "Ready"
    assert (await say(world.member, world.general, "!forgetful")).content == "still here"


async def test_a_cog_still_not_ready_after_30_s_is_logged_and_shown_in_status(
    env: simcord.Env,
    world: Any,
    owner: Any,
    caplog: pytest.LogCaptureFixture,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    await load_late_cog(owner, world, tmp_path, monkeypatch, "lateplugin_warned")
    cog = env.bot.get_cog("Late")
    assert isinstance(cog, BaseCog)
    reply = await say(world.member, world.general, "!status")
    assert module_lines(reply)["Late"] == "Starting"

    with caplog.at_level(logging.WARNING, logger="fish_bot.cogs.late"):
        await env.advance_time(29)
        assert not [r for r in caplog.records if r.name == "fish_bot.cogs.late"]
        await env.advance_time(2)
    warnings = [r for r in caplog.records if r.name == "fish_bot.cogs.late"]
    assert len(warnings) == 1
    assert "Late is still not ready 30 s after it loaded" in warnings[0].getMessage()

    reply = await say(world.member, world.general, "!status")
    assert module_lines(reply)["Late"] == "Not ready"
    detail = await say(world.owner, world.general, "!status late")
    errors = {f.name: f.value for f in detail.embeds[0].fields}["Errors"]
    assert "Not ready 30 s after it loaded" in errors

    cog.set_ready(True)
    reply = await say(world.member, world.general, "!status")
    assert module_lines(reply)["Late"] == "Ready"


async def test_a_late_cog_ready_in_time_logs_nothing(
    env: simcord.Env,
    world: Any,
    owner: Any,
    caplog: pytest.LogCaptureFixture,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    await load_late_cog(owner, world, tmp_path, monkeypatch, "lateplugin_in_time")
    cog = env.bot.get_cog("Late")
    assert isinstance(cog, BaseCog)
    await env.advance_time(10)
    cog.set_ready(True)
    with caplog.at_level(logging.WARNING, logger="fish_bot.cogs.late"):
        await env.advance_time(60)
    assert not [r for r in caplog.records if r.name == "fish_bot.cogs.late"]
    reply = await say(world.member, world.general, "!status")
    assert module_lines(reply)["Late"] == "Ready"


# --- listeners skip events while not ready or paused ---------------------------------------------


async def test_cog_listener_skips_events_while_not_ready_or_paused(
    env: simcord.Env, world: Any, owner: Any
) -> None:
    cog = Listening(env.bot)
    await env.bot.add_cog(cog)
    await world.member.send(world.general, "one")
    assert cog.seen == ["one"]

    cog.set_ready(False)
    await world.member.send(world.general, "not ready")
    cog.set_ready(True)
    assert cog.seen == ["one"]

    reply = await say(owner, world.general, "!cog pause listening")
    assert reply.content == "⏸️ Listening is paused in this server."
    await world.member.send(world.general, "paused here")
    assert cog.seen == ["one"]
    # Paused in one guild only: another guild's events still arrive.
    other = env.create_guild(name="Other Tank", owner=env.create_user("other-owner"))
    other_channel = other.create_text_channel("general")
    other_member = other.add_member(env.create_user("visitor"))
    await other_member.send(other_channel, "elsewhere")
    assert cog.seen == ["one", "elsewhere"]

    await say(owner, world.general, "!cog resume listening")
    await world.member.send(world.general, "two")
    assert cog.seen == ["one", "elsewhere", "two"]


async def test_the_example_listener_stops_counting_while_the_cog_is_paused(
    env: simcord.Env, world: Any, owner: Any
) -> None:
    example: Any = env.bot.get_cog("Example")  # (another test may have reloaded its module)
    assert type(example).__name__ == "Example"
    await say(owner, world.general, "!settings set example count_messages true")
    await world.member.send(world.general, "hello")
    assert example.count("messages", world.guild.id) >= 1

    await say(owner, world.general, "!cog pause example")
    # (the pause command's own message may or may not be counted: it races the pause)
    counted = example.count("messages", world.guild.id)
    await world.member.send(world.general, "hello again")
    await world.member.send(world.general, "and once more")
    assert example.count("messages", world.guild.id) == counted

    await say(owner, world.general, "!cog resume example")
    await world.member.send(world.general, "and again")
    assert example.count("messages", world.guild.id) > counted


# --- settings declared on the class, and set from code ------------------------------------------


def test_declared_settings_are_read_from_the_class_without_a_bot(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    specs = Example.declared_settings()
    assert {"count_step", "tick_interval", "allowed_channels", "required_roles"} <= set(specs)
    assert specs["tick_interval"].default == 60  # normalised by time.minutes

    def no_bot(*_args: Any, **_kwargs: Any) -> None:
        raise AssertionError("settings export must not build a bot")

    monkeypatch.setattr(FishBot, "__init__", no_bot)
    catalog = settings_catalog.declared_settings(
        Settings(data_dir=tmp_path), ["fish_bot.cogs.example", "fish_bot.cogs.admin"]
    )
    assert not catalog.problems
    assert set(catalog.specs["example"]) == set(specs)
    assert catalog.spec("Example", "count_step") is catalog.spec("example", "count_step")
    assert "allowed_channels" in catalog.specs["core"]


async def test_settings_handed_to_init_keep_working(
    env: simcord.Env, world: Any, owner: Any
) -> None:
    await env.bot.add_cog(Remembering(env.bot))

    reply = await say(owner, world.general, "!settings show remembering")
    assert "**word** = fish *(default)*" in str(reply.embeds[0].description)
    reply = await say(owner, world.general, "!settings set Remembering word trout")
    assert reply.content == "✅ Remembering `word` is now trout in this server."


async def test_set_setting_unawaited_validates_at_once_and_writes_in_the_background(
    env: simcord.Env, world: Any
) -> None:
    cog = Remembering(env.bot)
    await env.bot.add_cog(cog)

    reply = await say(world.member, world.general, "!remember perch")
    assert reply.content == "now perch"  # read back at once, before the write finished
    reply = await say(world.member, world.general, "!remember averyverylongword")
    assert reply.content == "refused: must be between 1 and 10 characters long, got 17 characters"
    assert cog.get_setting("word", guild_id=world.guild.id) == "perch"

    await env.bot.config_manager.flush()
    rows = await env.bot.db.cog_setting.values_for_cog("remembering")
    assert {(row.guild_id, row.key): row.value for row in rows} == {
        (world.guild.id, "word"): "perch"
    }


async def test_set_setting_awaited_waits_for_the_write(env: simcord.Env, world: Any) -> None:
    await env.bot.add_cog(Remembering(env.bot))

    reply = await say(world.member, world.general, "!remembersure carp")
    assert reply.content == "stored carp"


# --- the slug: one identity -----------------------------------------------------------------------


def test_the_slug_is_derived_from_the_class_unless_set() -> None:
    assert Example.slug == "example"
    assert Forgetful.slug == "forgetful"
    assert CustomSlug.slug == "fancy_fish"
    from fish_bot.cogs.admin.cog import Core
    from fish_bot.cogs.server_config.cog import ServerConfig

    assert (Core.slug, ServerConfig.slug) == ("core", "server_config")
    with pytest.raises(TypeError, match="slug"):
        type("Bad", (BaseCog,), {"slug": "Not A Slug"})


async def test_the_slug_names_data_folder_logger_components_and_settings(
    env: simcord.Env, world: Any, owner: Any
) -> None:
    cog = CustomSlug(env.bot)
    await env.bot.add_cog(cog)
    assert cog.data_directory == Path(env.bot.settings.data_dir) / "cogs" / "fancy_fish"
    assert cog.logger.name == "fish_bot.cogs.fancy_fish"
    assert component_prefix(cog) == "fancy_fish"
    assert make_custom_id(cog, "press", 1).startswith("fancy_fish:press:")
    # The example cog's buttons keep their custom_id prefix.
    assert component_prefix(env.bot.get_cog("Example")) == "example"

    # Users may type the slug or the display name, in any case; values land under the slug.
    for name in ("fancy_fish", "CustomSlug", "customslug", "FANCY_FISH"):
        reply = await say(owner, world.general, f"!settings show {name}")
        assert reply.embeds and reply.embeds[0].title == "CustomSlug settings", name
    reply = await say(
        owner, world.general, f"!settings set customslug allowed_channels {world.general.id}"
    )
    assert reply.content.startswith("✅ CustomSlug `allowed_channels` is now")
    await env.bot.config_manager.flush()
    rows = await env.bot.db.cog_setting.values_for_cog("fancy_fish")
    assert [(row.guild_id, row.key) for row in rows] == [(world.guild.id, "allowed_channels")]
    assert await env.bot.db.cog_setting.values_for_cog("CustomSlug") == []
    # Module commands find a cog by its slug too.
    reply = await say(owner, world.general, "!cog pause fancy_fish")
    assert reply.content == "⏸️ CustomSlug is paused in this server."


async def test_pause_state_is_kept_under_the_slug(env: simcord.Env, world: Any, owner: Any) -> None:
    await say(owner, world.general, "!cog pause Example")
    await env.bot.config_manager.flush()
    rows = await env.bot.db.cog_setting.values_for_cog("example")
    assert [(row.guild_id, row.key, row.value) for row in rows] == [
        (world.guild.id, "__paused__", True)
    ]
    reply = await say(owner, world.general, "!cog pause example")
    assert reply.content == "Example is already paused in this server."
