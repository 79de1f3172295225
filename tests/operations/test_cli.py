"""The command line: `fish-bot run` refuses bad configuration clearly; `fish-bot db ...` works."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from fish_bot.database import migrations

from .conftest import FAKE_TOKEN, Instance


def commands_listed(output: str) -> dict[str, str]:
    """The Commands panel of a Rich help page: name -> description (wrapped lines joined)."""
    listed: dict[str, str] = {}
    panel = output.split("Commands", 1)[1]
    last = ""
    for line in panel.splitlines()[1:]:
        if not line.startswith("│"):
            break
        body = line.strip("│").strip()
        name, _, text = body.partition(" ")
        if line.startswith("│ ") and not line.startswith("│  ") and name:
            last = name
            listed[name] = " ".join(text.split())
        elif last:
            listed[last] += " " + " ".join(body.split())
    return listed


def test_help_lists_every_command_with_its_full_description(
    make_instance: Callable[[str], Instance],
) -> None:
    from typer.main import get_command

    from fish_bot.cli import app

    instance = make_instance("bot")
    group: Any = get_command(app)
    for args, names in (
        ((), ("run", "sandbox", "doctor", "db", "settings", "cluster")),
        (("cluster",), ("status",)),
        (
            ("db",),
            ("upgrade", "downgrade", "current", "history", "revision", "backup", "restore", "copy"),
        ),
        (("settings",), ("export", "import")),
    ):
        result = instance.cli(*args, "--help")
        assert result.exit_code == 0, result.output
        assert "╭─ Commands" in result.output  # Rich-formatted
        listed = commands_listed(result.output)
        assert sorted(listed) == sorted(names)
        command = group
        for name in args:
            command = command.commands[name]
        for name in names:
            help_text = command.commands[name].help or ""
            first = " ".join(help_text.split("\n\n")[0].split())
            assert listed[name] == first, name  # the whole first paragraph, not cut off
            assert "..." not in listed[name] and first.endswith("."), name


def test_dash_h_is_help_everywhere(make_instance: Callable[[str], Instance]) -> None:
    instance = make_instance("bot")
    for args in ((), ("db",), ("db", "copy"), ("settings", "import"), ("doctor",), ("run",)):
        short, long = instance.cli(*args, "-h"), instance.cli(*args, "--help")
        assert short.exit_code == 0, short.output
        assert short.output == long.output
        assert "Usage: fish-bot" in short.output


def test_version(make_instance: Callable[[str], Instance]) -> None:
    from fish_bot import __version__

    result = make_instance("bot").cli("--version")
    assert result.exit_code == 0
    assert result.output.strip() == f"fish-bot {__version__}"


@pytest.mark.parametrize(
    ("args", "code", "expected"),
    [
        (("nope",), 2, "error: No such command 'nope'. (see `fish-bot --help`)"),
        (
            ("settings", "export"),
            2,
            "error: Missing argument 'file'. (see `fish-bot settings export --help`)",
        ),
        (("db", "copy", "--to"), 2, "error: Option '--to' requires an argument."),
        (("db", "upgrade", "--loud"), 2, "error: No such option: --loud"),
        (("settings", "export", "x.txt"), 2, "error: x.txt: use a .yaml, .yml or .json file name"),
        (("db", "copy", "--to", "mysql://x"), 2, "error: --to needs a database URL"),
    ],
)
def test_every_error_is_one_line_on_stderr(
    make_instance: Callable[[str], Instance], args: tuple[str, ...], code: int, expected: str
) -> None:
    result = make_instance("bot").cli(*args)
    assert result.exit_code == code
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith(expected), lines[0]
    assert "Traceback" not in result.output and "╭" not in result.output


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
    from fish_bot.cli import bot

    monkeypatch.setattr(bot, "find_module_spec", lambda name: None)
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


def test_the_readme_lists_every_command() -> None:
    from pathlib import Path

    from typer.main import get_command

    from fish_bot.cli import app

    readme = (Path(__file__).parents[2] / "README.md").read_text(encoding="utf-8")
    group: Any = get_command(app)
    for name, command in group.commands.items():
        for sub in getattr(command, "commands", {None: None}):
            line = f"fish-bot {name}" + (f" {sub}" if sub else "")
            assert line in readme, f"README's command list misses `{line}`"


@pytest.mark.postgres
def test_an_unknown_database_user_is_one_line(
    make_instance: Callable[[str], Instance], db_backend: str
) -> None:
    from sqlalchemy.engine import make_url

    instance = make_instance("bot")
    url = make_url(instance.database_url).set(username="fb_nobody", password="hunter2")
    instance.database_url = url.render_as_string(hide_password=False)
    result = instance.cli("db", "current")
    assert result.exit_code == 1
    assert result.stderr.splitlines() == [
        f"error: the database user `fb_nobody` does not exist on {url.host}:{url.port or 5432}: "
        "check the user name in FISHBOT_DATABASE_URL"
    ]
    assert "hunter2" not in result.output
