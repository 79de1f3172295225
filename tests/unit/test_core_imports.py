"""The framework (fish_bot.core) never imports the application (DESIGN rule 13).

``core/`` states what it needs from the bot as :class:`fish_bot.core.host.FishHost`; the
monitoring package types the bot the same way, so no import loop runs between ``bot.py``,
``core/`` and ``monitoring/``.
"""

from __future__ import annotations

import ast
import inspect
import json
import subprocess
import sys
from pathlib import Path

from fish_bot.bot import FishBot
from fish_bot.config import Settings
from fish_bot.core.host import FishHost

SRC = Path(__file__).resolve().parents[2] / "src" / "fish_bot"

PROBE = """
import importlib, json, pkgutil, sys
import fish_bot.core as core
names = sorted(m.name for m in pkgutil.walk_packages(core.__path__, "fish_bot.core."))
for name in names:
    importlib.import_module(name)
loaded = sorted(
    m for m in sys.modules
    if m in ("fish_bot.bot", "fish_bot.cogs", "fish_bot.monitoring")
    or m.startswith(("fish_bot.cogs.", "fish_bot.monitoring."))
)
print(json.dumps({"modules": names, "loaded": loaded}))
"""


def test_every_core_module_imports_without_the_application() -> None:
    """In a fresh interpreter: import every fish_bot.core module, then look at sys.modules."""
    result = subprocess.run(
        [sys.executable, "-c", PROBE], capture_output=True, text=True, check=True, timeout=120
    )
    report = json.loads(result.stdout.strip().splitlines()[-1])
    assert "fish_bot.core.host" in report["modules"]
    assert "fish_bot.core.guild_cache" in report["modules"]
    assert len(report["modules"]) >= 10
    assert report["loaded"] == []


def _imported_modules(path: Path) -> set[str]:
    """Every module a file imports, TYPE_CHECKING blocks and function bodies included."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


def _offenders(folder: str, forbidden: tuple[str, ...]) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for path in sorted((SRC / folder).rglob("*.py")):
        bad = sorted(
            name
            for name in _imported_modules(path)
            if any(name == f or name.startswith(f + ".") for f in forbidden)
        )
        if bad:
            found[str(path.relative_to(SRC))] = bad
    return found


def test_core_and_monitoring_do_not_import_the_bot_even_for_typing() -> None:
    assert _offenders("core", ("fish_bot.bot", "fish_bot.cogs", "fish_bot.monitoring")) == {}
    assert _offenders("monitoring", ("fish_bot.bot", "fish_bot.cogs")) == {}


def _protocol_members() -> set[str]:
    members = set(getattr(FishHost, "__annotations__", {}))
    for name, _value in inspect.getmembers(FishHost):
        if not name.startswith("_"):
            members.add(name)
    return members


def test_a_new_fish_bot_has_every_member_of_the_host_protocol(tmp_path: Path) -> None:
    """Built without I/O in __init__: nothing is None, nothing is missing."""
    bot = FishBot(Settings(data_dir=tmp_path / "data", prefix="!"), cogs=[])
    members = _protocol_members()
    assert {"scheduler", "permission_store", "guild_configs", "prefixes", "db"} <= members
    missing = sorted(name for name in members if not hasattr(bot, name))
    assert missing == []
    assert all(getattr(bot, name) is not None for name in members if name != "user")
    assert not bot.database.connected  # building the bot touched no database
