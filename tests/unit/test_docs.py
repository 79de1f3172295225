"""The guides quote the repository exactly, and every core command is documented."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from discord.ext import commands

from fish_bot.cogs.admin.commands import CommandsMixin

ROOT = Path(__file__).resolve().parents[2]
DOCS = ROOT / "docs"
QUOTE = re.compile(r"<!-- quote: (?P<path>\S+) -->\n```python\n(?P<code>.*?)\n```", re.DOTALL)


def quotes() -> list[tuple[str, str, str]]:
    found = []
    for doc in sorted(DOCS.glob("*.md")):
        for match in QUOTE.finditer(doc.read_text(encoding="utf-8")):
            found.append((doc.name, match["path"], match["code"]))
    return found


def test_the_cog_guide_quotes_code() -> None:
    assert len([q for q in quotes() if q[0] == "writing-a-cog.md"]) >= 15


@pytest.mark.parametrize(("doc", "path", "code"), quotes())
def test_quoted_code_is_the_repository_code(doc: str, path: str, code: str) -> None:
    source = (ROOT / path).read_text(encoding="utf-8")
    assert code in source, f"{doc} quotes {path}, which no longer holds that code"


def _walk(items: list[commands.Command]) -> Iterator[commands.Command]:
    for command in items:
        yield command
        if isinstance(command, commands.Group):
            yield from _walk(list(command.commands))


def test_every_core_command_is_documented_with_help() -> None:
    text = (DOCS / "commands.md").read_text(encoding="utf-8")
    roots = [
        value
        for mixin in CommandsMixin.__mro__
        for value in vars(mixin).values()
        if isinstance(value, commands.Command) and value.parent is None
    ]
    names = [command.qualified_name for command in _walk(roots)]
    assert {"status", "cog pause", "settings set", "sync"} <= set(names)
    for command in _walk(roots):
        assert command.help, f"{command.qualified_name} has no help text"
        assert f"`{command.qualified_name}" in text, f"{command.qualified_name} is not documented"
