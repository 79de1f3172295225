"""The command line: `fish-bot run` refuses bad configuration clearly; `fish-bot db ...` works."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from fish_bot.database import migrations

from .conftest import FAKE_TOKEN, Instance


def test_help_lists_every_command(make_instance: Callable[[str], Instance]) -> None:
    instance = make_instance("bot")
    result = instance.cli("--help")
    assert result.exit_code == 0
    for command in ("run", "sandbox", "doctor", "db", "settings"):
        assert command in result.output
    db_help = instance.cli("db", "--help")
    for command in ("upgrade", "downgrade", "current", "history", "revision", "backup", "restore"):
        assert command in db_help.output


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        ({"DISCORD_TOKEN": ""}, "No Discord token: set DISCORD_TOKEN"),
        ({"DISCORD_TOKEN": "not-a-token"}, "DISCORD_TOKEN does not look like a bot token"),
        (
            {"DISCORD_TOKEN": FAKE_TOKEN, "FISHBOT_LOG_LEVEL": "LOUD"},
            "FISHBOT_LOG_LEVEL: must be one of",
        ),
        (
            {"DISCORD_TOKEN": FAKE_TOKEN, "FISHBOT_OWNER_IDS": "12,abc"},
            "FISHBOT_OWNER_IDS",
        ),
        (
            {"DISCORD_TOKEN": FAKE_TOKEN, "FISHBOT_DATABASE_URL": "postgresql://x@localhost/db"},
            "use the async driver: postgresql+asyncpg://",
        ),
    ],
)
def test_run_refuses_bad_configuration_with_one_line_and_exit_code_2(
    make_instance: Callable[[str], Instance], env: dict[str, str], expected: str
) -> None:
    instance = make_instance("bot")
    instance.extra_env.update(env)
    result = instance.cli("run")
    assert result.exit_code == 2
    assert expected in result.output
    assert "Traceback" not in result.output
    assert len([line for line in result.output.splitlines() if line.strip()]) <= 3


def test_db_commands_upgrade_report_and_downgrade(
    make_instance: Callable[[str], Instance], db_backend: str
) -> None:
    instance = make_instance("bot")
    head = migrations.head_revision()

    current = instance.cli("db", "current")
    assert current.exit_code == 0, current.output
    assert "base (empty)" in current.output

    upgraded = instance.cli("db", "upgrade")
    assert upgraded.exit_code == 0, upgraded.output
    assert f"Database is at revision {head}." in upgraded.output
    assert "up to date" in instance.cli("db", "current").output

    history = instance.cli("db", "history")
    assert history.exit_code == 0
    for revision, _, _ in migrations.history():
        assert revision in history.output

    down = instance.cli("db", "downgrade", "0001_core")
    assert down.exit_code == 0, down.output
    assert "Database is at revision 0001_core." in down.output
    assert f"newest is {head}" in instance.cli("db", "current").output

    base = instance.cli("db", "downgrade", "base")
    assert base.exit_code == 0 and "base (empty)" in base.output


def test_db_commands_report_an_unreachable_database(
    make_instance: Callable[[str], Instance],
) -> None:
    instance = make_instance("bot")
    instance.database_url = "postgresql+asyncpg://postgres@127.0.0.1:1/nowhere"
    instance.extra_env["FISHBOT_DB_CONNECT_RETRIES"] = "0"
    result = instance.cli("db", "current")
    assert result.exit_code == 1
    assert "unreachable" in result.output
    assert "Traceback" not in result.output


def test_sandbox_without_its_extra_says_how_to_get_it(
    make_instance: Callable[[str], Instance], monkeypatch: pytest.MonkeyPatch
) -> None:
    from fish_bot import cli

    monkeypatch.setattr(cli, "find_module_spec", lambda name: None)
    result = make_instance("bot").cli("sandbox", "--no-browser")
    assert result.exit_code == 2
    text = " ".join(result.output.split())
    assert "needs the 'sandbox' extra" in text
    assert "pip install 'fish-bot[sandbox]'" in text


def test_a_production_install_needs_no_simcord() -> None:
    """simcord (FFmpeg bindings, Pillow) is an extra; nothing outside sandbox/ imports it."""
    import subprocess
    import sys
    import tomllib
    from pathlib import Path

    project = tomllib.loads((Path(__file__).parents[2] / "pyproject.toml").read_text())["project"]
    assert not [dep for dep in project["dependencies"] if dep.startswith("simcord")]
    assert project["optional-dependencies"]["sandbox"] == ["simcord[preview]==3.2.1"]
    # Walk the package by hand: pkgutil.walk_packages would import fish_bot.sandbox to recurse.
    code = (
        "import importlib, pkgutil, sys\n"
        "def walk(name):\n"
        "    module = importlib.import_module(name)\n"
        "    for info in pkgutil.iter_modules(getattr(module, '__path__', [])):\n"
        "        if info.name not in ('sandbox', '__main__', 'env', 'versions'):\n"
        "            walk(f'{name}.{info.name}')\n"
        "walk('fish_bot')\n"
        "print(sorted(n for n in ('simcord', 'PIL', 'av') if n in sys.modules))\n"
    )
    command = [sys.executable, "-c", code]
    result = subprocess.run(command, capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "[]"
