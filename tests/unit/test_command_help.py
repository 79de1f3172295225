"""Every built-in command explains itself (issue 9): each argument has a description on the
prefix side (what `help <command>` shows) and on the slash side (what Discord's `/` menu shows),
and each command has examples."""

from __future__ import annotations

import importlib
from collections.abc import Iterator
from typing import Any

import pytest
from discord import app_commands
from discord.ext import commands

from fish_bot.bot import BUILTIN_COGS, FishBot
from fish_bot.cogs.help.utils import NO_SLASH_DESCRIPTION, arguments, slash_command
from fish_bot.config import Settings
from fish_bot.core.decorators import command_examples, examples
from fish_bot.operations.settings_catalog import _cog_classes

PACKAGES = [*BUILTIN_COGS, "fish_bot.cogs.example"]


@pytest.fixture(scope="module")
def cogs(tmp_path_factory: pytest.TempPathFactory) -> list[commands.Cog]:
    bot = FishBot(Settings(data_dir=tmp_path_factory.mktemp("data")), cogs=[])
    return [
        cls(bot) for package in PACKAGES for cls in _cog_classes(importlib.import_module(package))
    ]


def every_command(cogs: list[commands.Cog]) -> Iterator[commands.Command[Any, ..., Any]]:
    for cog in cogs:
        yield from cog.walk_commands()


def every_slash_command(cogs: list[commands.Cog]) -> Iterator[app_commands.Command[Any, ..., Any]]:
    """The slash side of every hybrid command, and every pure slash command."""
    for command in every_command(cogs):
        app = slash_command(command)
        if app is not None:
            yield app
    for cog in cogs:
        for item in cog.walk_app_commands():
            if isinstance(item, app_commands.Command):
                yield item


def test_every_built_in_module_is_checked(cogs: list[commands.Cog]) -> None:
    names = {cog.qualified_name for cog in cogs}
    assert {"Core", "ServerConfig", "Moderation", "Example", "Help"} <= names
    assert len(list(every_command(cogs))) > 60


def test_every_argument_is_described_for_help(cogs: list[commands.Cog]) -> None:
    missing = [
        f"{command.qualified_name} {argument.name}"
        for command in every_command(cogs)
        for argument in arguments(command)
        if not argument.description.strip()
    ]
    assert not missing, f"arguments without a description: {missing}"


def test_every_slash_option_is_described(cogs: list[commands.Cog]) -> None:
    missing = [
        f"/{command.qualified_name} {parameter.name}"
        for command in every_slash_command(cogs)
        for parameter in command.parameters
        if str(parameter.description) in {"", NO_SLASH_DESCRIPTION}
    ]
    assert not missing, f"slash options without a description: {missing}"


def test_every_command_has_examples(cogs: list[commands.Cog]) -> None:
    missing = [
        command.qualified_name for command in every_command(cogs) if not command_examples(command)
    ]
    assert not missing, f"commands without examples: {missing}"


def test_examples_start_with_the_command(cogs: list[commands.Cog]) -> None:
    wrong = [
        (command.qualified_name, line)
        for command in every_command(cogs)
        for line in command_examples(command)
        if line.split()[: len(command.qualified_name.split())] != command.qualified_name.split()
    ]
    assert not wrong, f"examples that do not run their own command: {wrong}"


def test_an_undescribed_argument_is_found() -> None:
    """The check above would notice a missing description (on either side)."""

    class Careless(commands.Cog):
        @commands.hybrid_command(name="careless")
        @examples("careless 3")
        async def careless(self, ctx: commands.Context[Any], amount: int) -> None:
            """Do something."""

    command = Careless().get_commands()[0]
    assert [argument.description for argument in arguments(command)] == [""]
    app = slash_command(command)
    assert app is not None
    assert [str(p.description) for p in app.parameters] == [NO_SLASH_DESCRIPTION]


def test_examples_need_text() -> None:
    with pytest.raises(ValueError, match="at least one"):
        examples()
    with pytest.raises(ValueError, match="at least one"):
        examples(" ")
