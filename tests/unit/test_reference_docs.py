"""Every command, setting and table that exists is documented (DESIGN.md rule 11)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from discord.ext import commands

from fish_bot.bot import BUILTIN_COGS, FishBot
from fish_bot.config import Settings
from fish_bot.database.models.base import metadata
from fish_bot.operations.settings_catalog import declared_settings

DOCS = Path(__file__).resolve().parents[2] / "docs"
PACKAGES = [*BUILTIN_COGS, "fish_bot.cogs.example"]


def all_docs() -> str:
    return "\n".join(doc.read_text(encoding="utf-8") for doc in sorted(DOCS.glob("*.md")))


def walk(items: list[commands.Command]) -> Iterator[commands.Command]:
    for command in items:
        yield command
        if isinstance(command, commands.Group):
            yield from walk(list(command.commands))


@pytest.fixture(scope="module")
def cogs(tmp_path_factory: pytest.TempPathFactory) -> list[commands.Cog]:
    import importlib

    from fish_bot.operations.settings_catalog import _cog_classes

    bot = FishBot(Settings(data_dir=tmp_path_factory.mktemp("data")), cogs=[])
    found: list[commands.Cog] = []
    for package in PACKAGES:
        for cls in _cog_classes(importlib.import_module(package)):
            found.append(cls(bot))
    return found


def test_every_command_has_help_and_is_documented(cogs: list[commands.Cog]) -> None:
    text = all_docs()
    missing_help, undocumented = [], []
    for cog in cogs:
        for command in walk(list(cog.get_commands())):
            if not (command.help or "").strip():
                missing_help.append(command.qualified_name)
            if f"`{command.qualified_name}" not in text:
                undocumented.append(command.qualified_name)
    assert not missing_help, f"commands without help text: {missing_help}"
    assert not undocumented, f"commands missing from docs/: {undocumented}"


def test_every_setting_is_documented(tmp_path: Path) -> None:
    catalog = declared_settings(Settings(data_dir=tmp_path), PACKAGES)
    assert not catalog.problems
    text = all_docs()
    undocumented = [
        f"{cog}.{name}"
        for cog, specs in catalog.specs.items()
        for name in specs
        if f"`{name}`" not in text
    ]
    assert not undocumented, f"settings missing from docs/: {undocumented}"


def test_every_table_is_documented() -> None:
    text = (DOCS / "database.md").read_text(encoding="utf-8")
    undocumented = [name for name in metadata.tables if f"`{name}`" not in text]
    assert not undocumented, f"tables missing from docs/database.md: {undocumented}"
