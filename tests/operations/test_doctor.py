"""``fish-bot doctor``: a table of checks, exit code 0 only when all pass."""

from __future__ import annotations

import socket
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from .conftest import FAKE_TOKEN, Instance


def lines(output: str) -> list[str]:
    return [" ".join(line.split()) for line in output.splitlines()]


def row(output: str, name: str) -> str:
    found = [line for line in lines(output) if name in line]
    assert found, f"no row {name!r} in:\n{output}"
    return found[0]


def test_all_fine(make_instance: Callable[[str], Instance]) -> None:
    instance = make_instance("one")
    instance.extra_env["DISCORD_TOKEN"] = FAKE_TOKEN
    result = instance.cli("doctor")
    assert result.exit_code == 0, result.output
    assert "✗" not in result.output
    assert "✓" in row(result.output, "Configuration")
    assert "✓" in row(result.output, "Discord token")
    assert "✓" in row(result.output, "Database")
    assert "empty database: created at start-up" in row(result.output, "Migrations")
    assert "created, writable" in row(result.output, "Data folder")
    assert "off" in row(result.output, "Health endpoint")
    assert "Everything looks fine." in result.output
    assert not list(instance.data_dir.glob(".fishbot-doctor-*"))  # the probe is gone


def test_missing_token_is_a_failure(make_instance: Callable[[str], Instance]) -> None:
    result = make_instance("one").cli("doctor")
    assert result.exit_code == 1
    token = row(result.output, "Discord token")
    assert "✗" in token and "No Discord token" in token
    assert "1 check(s) failed." in result.output
    assert "✓" in row(result.output, "Database")  # the other checks still ran


def test_bad_configuration(make_instance: Callable[[str], Instance]) -> None:
    instance = make_instance("one")
    instance.extra_env["FISHBOT_LOG_LEVEL"] = "LOUD"
    result = instance.cli("doctor")
    assert result.exit_code == 1
    assert "✗" in row(result.output, "Configuration")
    assert "FISHBOT_LOG_LEVEL" in result.output


def test_database_behind_without_auto_migration(make_instance: Callable[[str], Instance]) -> None:
    instance = make_instance("one")
    instance.extra_env["DISCORD_TOKEN"] = FAKE_TOKEN
    assert instance.cli("db", "upgrade", "0001_core").exit_code == 0
    instance.extra_env["FISHBOT_MIGRATE_ON_START"] = "false"
    result = instance.cli("doctor")
    assert result.exit_code == 1
    migrations = row(result.output, "Migrations")
    assert "✗" in migrations and "at 0001_core" in migrations
    assert "fish-bot db upgrade" in migrations


def test_unreachable_database(make_instance: Callable[[str], Instance]) -> None:
    instance = make_instance("one")
    instance.extra_env["DISCORD_TOKEN"] = FAKE_TOKEN
    instance.extra_env["FISHBOT_DB_CONNECT_RETRIES"] = "0"
    instance.database_url = "postgresql+asyncpg://nobody:secret@127.0.0.1:1/none"
    result = instance.cli("doctor")
    assert result.exit_code == 1
    database = row(result.output, "Database")
    assert "✗" in database
    assert "secret" not in result.output


@pytest.mark.skipif(sys.platform == "win32", reason="a file as the data folder")
def test_data_folder_not_writable(make_instance: Callable[[str], Instance], tmp_path: Path) -> None:
    instance = make_instance("one")
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    instance.data_dir = blocker / "data"
    instance.extra_env["DISCORD_TOKEN"] = FAKE_TOKEN
    result = instance.cli("doctor")
    assert result.exit_code == 1
    assert "✗" in row(result.output, "Data folder")


def test_health_port_in_use(make_instance: Callable[[str], Instance]) -> None:
    instance = make_instance("one")
    instance.extra_env["DISCORD_TOKEN"] = FAKE_TOKEN
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        instance.extra_env["FISHBOT_HEALTH_PORT"] = str(busy.getsockname()[1])
        result = instance.cli("doctor")
    assert result.exit_code == 1
    health = row(result.output, "Health endpoint")
    assert "✗" in health and "not free" in health


def test_sentry_dsn_without_the_sdk(
    make_instance: Callable[[str], Instance], monkeypatch: pytest.MonkeyPatch
) -> None:
    instance = make_instance("one")
    instance.extra_env["DISCORD_TOKEN"] = FAKE_TOKEN
    instance.extra_env["SENTRY_DSN"] = "https://public@sentry.invalid/1"
    monkeypatch.setitem(sys.modules, "sentry_sdk", None)
    result = instance.cli("doctor")
    assert result.exit_code == 1
    sentry = row(result.output, "Sentry")
    assert "✗" in sentry and "uv sync --extra sentry" in sentry
