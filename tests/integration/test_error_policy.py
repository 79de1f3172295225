"""The one error policy through the real bot: outages, failing checks, bad input, long replies."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import discord
import pytest
import simcord
from discord import app_commands
from discord.ext import commands
from sqlalchemy.exc import OperationalError

from fish_bot.bot import BUILTIN_COGS, FishBot
from fish_bot.core.base_cog import BaseCog
from fish_bot.core.error_policy import DATABASE_UNAVAILABLE, MESSAGE_LIMIT
from fish_bot.core.modals import FishModal
from fish_bot.exceptions import DatabaseUnavailable, UserFacingError

from .conftest import World, replies

COGS = [*BUILTIN_COGS, "fish_bot.cogs.example"]


@pytest.fixture
def bot_cogs() -> Sequence[str]:
    return COGS


async def say(actor: Any, channel: Any, text: str) -> str:
    """Send ``text``; the bot's only reply (exactly one is expected)."""
    sent = await actor.send(channel, text)
    answers = replies(channel, sent)
    assert len(answers) == 1, f"{len(answers)} replies to {text[:80]!r}"
    return answers[0].content


def metrics(env: simcord.Env) -> Any:
    return env.bot.monitor.metrics


async def restart(env: simcord.Env, make_bot: Callable[..., FishBot], owner_id: int) -> FishBot:
    await env.bot.close()
    bot = make_bot(COGS, owner_ids=[owner_id])
    await env.restart_bot(bot)
    return bot


# --- the database is down ----------------------------------------------------------------------


async def test_commands_answer_after_a_restart_with_the_database_down(
    env: simcord.Env, world: World, owner: Any, make_bot: Callable[..., FishBot], db_backend: str
) -> None:
    assert env.bot.database.dialect == db_backend
    assert await say(world.member, world.general, "!ping") == "Pong!"
    bot = await restart(env, make_bot, owner.id)
    # The permission rules of the guild are not cached yet: the first check needs the database.
    await bot.database.disconnect()

    assert await say(world.member, world.general, "!ping") == DATABASE_UNAVAILABLE
    result = await world.member.slash(world.general, "ping")
    assert result.response is not None
    assert result.response.content == DATABASE_UNAVAILABLE
    assert result.response.ephemeral
    # A command whose body needs the database (the check passes: the rules are cached now).
    assert await say(world.moderator, world.general, "!cases") == DATABASE_UNAVAILABLE
    env.errors  # noqa: B018 - the outage is on purpose

    # Counted under its own category, and not as an unexpected error (no error id, no Sentry).
    assert metrics(env).command_error_count("ping", "database") == 2
    assert metrics(env).command_error_count("cases", "database") == 1
    assert metrics(env).unexpected_counts() == {}

    await bot.database.connect()
    assert await say(world.member, world.general, "!ping") == "Pong!"


async def test_a_driver_error_meaning_the_same_gets_the_same_answer(
    env: simcord.Env, world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    posted = replies(world.general, await world.member.send(world.general, "!example button"))[-1]
    cog = env.bot.get_cog("Example")
    assert isinstance(cog, BaseCog)

    async def refused(*_args: Any, **_kwargs: Any) -> bool:
        raise OperationalError("SELECT 1", {}, ConnectionRefusedError("connection refused"))

    monkeypatch.setattr(cog, "check_permissions", refused)

    # A button: the check fails inside the component path.
    result = await world.member.click(posted, label="Press me")
    assert result.response is not None
    assert result.response.content == DATABASE_UNAVAILABLE
    assert result.response.ephemeral
    # A prefix command of the same cog: the check fails inside cog_check.
    assert await say(world.member, world.general, "!example count") == DATABASE_UNAVAILABLE
    env.errors  # noqa: B018
    assert metrics(env).unexpected_counts() == {}


# --- failures inside checks and pure slash commands --------------------------------------------


class Probe(BaseCog):
    """A cog with pure slash commands, as a third-party cog would have."""

    @app_commands.command(name="probe")
    async def probe(self, interaction: discord.Interaction, code: str) -> None:
        """Answers with its argument as a number."""
        await interaction.response.send_message(str(int(code)))

    @app_commands.command(name="probe-boom")
    async def probe_boom(self, interaction: discord.Interaction) -> None:
        """Always fails with a message for the user."""
        raise UserFacingError("No probes today. " * 300)


class Digits(app_commands.Transformer):
    async def transform(self, interaction: discord.Interaction, value: Any, /) -> int:
        return int(str(value))


async def add_probe(env: simcord.Env) -> Probe:
    cog = Probe(env.bot)
    await env.bot.add_cog(cog)

    @app_commands.command(name="digits")
    async def digits(
        interaction: discord.Interaction, number: app_commands.Transform[int, Digits]
    ) -> None:
        await interaction.response.send_message(f"{number + 1}")

    env.bot.tree.add_command(digits)
    await env.bot.tree.sync()
    return cog


async def test_a_pure_slash_command_during_an_outage(env: simcord.Env, world: World) -> None:
    await add_probe(env)
    await env.bot.database.disconnect()
    result = await world.member.slash(world.general, "probe", code="1")
    assert result.response is not None
    assert result.response.content == DATABASE_UNAVAILABLE
    env.errors  # noqa: B018
    assert metrics(env).command_error_count("probe", "database") == 1


async def test_a_slash_option_that_does_not_convert_is_a_usage_message(
    env: simcord.Env, world: World
) -> None:
    await add_probe(env)
    result = await world.member.slash(world.general, "digits", number="②")
    assert result.response is not None
    text = result.response.content
    # Not a Python repr ('②'), not an apology: what was wrong, then the usage.
    assert text == "That value is not valid: `②`.\nUsage: `/digits <number>`"
    env.errors  # noqa: B018
    assert metrics(env).command_error_count("digits", "user") == 1

    result = await world.member.slash(world.general, "digits", number="41")
    assert result.response is not None and result.response.content == "42"


async def test_a_long_message_is_clipped_to_one_discord_message(
    env: simcord.Env, world: World
) -> None:
    await add_probe(env)
    result = await world.member.slash(world.general, "probe-boom")
    assert result.response is not None
    text = result.response.content
    assert text.startswith("No probes today.") and len(text) == MESSAGE_LIMIT
    env.errors  # noqa: B018


async def test_a_check_that_raises_gets_the_apology_not_silence(
    env: simcord.Env, world: World
) -> None:
    def broken_check(ctx: commands.Context[Any]) -> bool:
        raise RuntimeError("check internals")

    @commands.command(name="guarded")
    @commands.check(broken_check)
    async def guarded(ctx: commands.Context[Any]) -> None:
        await ctx.send("ran")

    env.bot.add_command(guarded)
    text = await say(world.member, world.general, "!guarded")
    assert text.startswith("Sorry, something went wrong on our side (error id `")
    assert "internals" not in text
    assert [type(e).__name__ for e in env.errors] == ["CommandInvokeError"]
    assert metrics(env).command_error_count("guarded", "unexpected") == 1
    assert metrics(env).unexpected_counts() == {"RuntimeError": 1}


# --- argument conversion errors are usage messages ---------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("!sync ②", "I am not in a server `②`."),
        ("!sync 99999999999999999999999999", "I am not in a server `99999999999999999999999999`."),
        (
            "!cases view ²",
            "`²` is not a case number, e.g. `12`.\nUsage: `!cases view <number>`",
        ),
        (
            "!cases modify ① reason",
            "`①` is not a case number, e.g. `12`.\nUsage: `!cases modify <number> <flags>`",
        ),
        ('!warn "" spam', "`member` can't be empty.\nUsage: `!warn <member> <reason>`"),
        (
            '!timeout "" 1h',
            "`member` can't be empty.\nUsage: `!timeout <member> <duration> [reason]`",
        ),
        (
            '!cog load "a b.c"',
            "`a b.c` is not a module name: use a short name (`example`) or a package path "
            "(`fish_bot.cogs.example`).\nUsage: `!cog load <name>`",
        ),
        (
            '!cog reload "a b.c"',
            "`a b.c` is not a module name: use a short name (`example`) or a package path "
            "(`fish_bot.cogs.example`).\nUsage: `!cog reload <name>`",
        ),
        (
            "!cog load fish_bot.cogs.admin.commands.x",
            "❓ Not found: there is no cog package `fish_bot.cogs.admin.commands.x`.",
        ),
    ],
)
async def test_bad_arguments_get_a_usage_message(
    env: simcord.Env, world: World, owner: Any, text: str, expected: str
) -> None:
    assert await say(owner, world.general, text) == expected
    env.errors  # noqa: B018
    assert metrics(env).unexpected_counts() == {}
    assert await say(owner, world.general, "!ping") == "Pong!"


async def test_a_member_that_does_not_convert_names_the_parameter(
    env: simcord.Env, world: World, owner: Any
) -> None:
    reply = await say(owner, world.general, f"!warn {'x' * 1900} spam")
    assert reply == "That argument is not valid.\nUsage: `!warn <member> <reason>`"
    env.errors  # noqa: B018


@pytest.mark.parametrize(
    "text",
    [
        f"!cog load {'y' * 1900}",
        f"!cog reload {'y' * 1900}",
        f"!cases view {'9' * 1900}",
        f"!cases view {'²' * 1900}",
        f"!sync {'7' * 1950}",
        f'!warn "{" " * 10}" spam',
    ],
)
async def test_error_replies_that_echo_input_fit_in_one_message(
    env: simcord.Env, world: World, owner: Any, text: str
) -> None:
    reply = await say(owner, world.general, text)
    assert len(reply) <= MESSAGE_LIMIT
    assert "error id" not in reply
    env.errors  # noqa: B018


async def test_slash_sync_with_unicode_digits(env: simcord.Env, world: World, owner: Any) -> None:
    result = await owner.slash(world.general, "sync", guild="②")
    assert result.response is not None
    assert result.response.content == "I am not in a server `②`."
    env.errors  # noqa: B018


# --- modals ------------------------------------------------------------------------------------


class Feedback(FishModal):
    comment: discord.ui.TextInput[Any] = discord.ui.TextInput(label="Comment", custom_id="comment")

    def __init__(self, cog: BaseCog, failure: BaseException) -> None:
        super().__init__(cog, title="Feedback")
        self.failure = failure

    async def on_submit(self, interaction: discord.Interaction, /) -> None:
        raise self.failure


@pytest.mark.parametrize(
    ("failure", "expected"),
    [
        (DatabaseUnavailable("down"), DATABASE_UNAVAILABLE),
        (UserFacingError("Comments are closed."), "Comments are closed."),
        (RuntimeError("modal internals"), "Sorry, something went wrong on our side (error id `"),
    ],
)
async def test_a_modal_that_fails_is_answered(
    env: simcord.Env, world: World, failure: BaseException, expected: str
) -> None:
    cog = await add_probe(env)

    @app_commands.command(name="feedback")
    async def feedback(interaction: discord.Interaction) -> None:
        await interaction.response.send_modal(Feedback(cog, failure))

    env.bot.tree.add_command(feedback)
    await env.bot.tree.sync()
    shown = await world.member.slash(world.general, "feedback")
    assert shown.modal is not None
    result = await world.member.submit_modal(shown, {"comment": "hi"})
    assert result.response is not None
    assert result.response.content.startswith(expected)
    assert "internals" not in result.response.content
    assert result.response.ephemeral
    env.errors  # noqa: B018
