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
    """The table row of check ``name``, its wrapped cell lines joined: "✓ name result fix"."""
    rows: list[list[str]] = []
    for line in output.splitlines():
        cells = [cell.strip() for cell in line.split("│")[1:-1]]
        if len(cells) != 4:
            continue
        if cells[1] or not rows:
            rows.append(cells)
        else:  # a wrapped continuation of the row above
            rows[-1] = [f"{a} {b}".strip() for a, b in zip(rows[-1], cells, strict=True)]
    found = [" ".join(" ".join(cells).split()) for cells in rows if cells[1] == name]
    assert found, f"no row {name!r} in:\n{output}"
    return found[0]


def test_all_fine(make_instance: Callable[[str], Instance]) -> None:
    instance = make_instance("one")
    instance.extra_env["DISCORD_TOKEN"] = FAKE_TOKEN
    result = instance.cli("doctor")
    assert result.exit_code == 0, result.output
    assert "✗" not in result.output
    assert "✓" in row(result.output, "Configuration")
    token = row(result.output, "Discord token")
    assert "✓" in token and "token format ok; not checked against Discord" in token
    assert "✓" in row(result.output, "Database")
    assert "no file yet, created at start-up" in row(result.output, "Database")
    assert "empty database: created at start-up" in row(result.output, "Migrations")
    assert "does not exist yet, created at start-up" in row(result.output, "Data folder")
    assert "off" in row(result.output, "Health endpoint")
    assert "Everything that could be checked offline looks fine." in result.output
    assert not instance.data_dir.exists()  # doctor created nothing


def test_missing_token_is_a_failure(make_instance: Callable[[str], Instance]) -> None:
    result = make_instance("one").cli("doctor")
    assert result.exit_code == 1
    token = row(result.output, "Discord token")
    assert "✗" in token and "No Discord token" in token
    assert "error: 1 check(s) failed: see the table above." in result.stderr
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
    assert "the database server at 127.0.0.1:1 is unreachable (connection refused)" in database
    assert "Check FISHBOT_DATABASE_URL and that the server runs." in database
    assert "secret" not in result.output
    assert "Traceback" not in result.output and "sqlalche.me" not in result.output


@pytest.mark.postgres
def test_a_missing_postgresql_database_is_named_with_the_fix(
    make_instance: Callable[[str], Instance], db_backend: str
) -> None:
    from sqlalchemy.engine import make_url

    instance = make_instance("one")
    url = make_url(instance.database_url).set(database="fb_doctor_missing")
    instance.database_url = url.render_as_string(hide_password=False)
    instance.extra_env["DISCORD_TOKEN"] = FAKE_TOKEN
    result = instance.cli("doctor")
    assert result.exit_code == 1
    host, port = url.host or "localhost", url.port or 5432
    database = row(result.output, "Database")
    assert "✗" in database
    assert f"database `fb_doctor_missing` does not exist on {host}:{port}" in database
    assert f"createdb -h {host} -p {port}" in database
    assert 'CREATE DATABASE "fb_doctor_missing"' in database
    assert "Traceback" not in result.output and "sqlalche.me" not in result.output


def snapshot(folder: Path) -> dict[str, tuple[int, int]]:
    return {
        str(path.relative_to(folder)): (path.stat().st_size, path.stat().st_mtime_ns)
        for path in sorted(folder.rglob("*"))
    }


def test_doctor_creates_no_file_or_folder(make_instance: Callable[[str], Instance]) -> None:
    instance = make_instance("one")
    instance.extra_env["DISCORD_TOKEN"] = FAKE_TOKEN
    instance.extra_env["FISHBOT_LOG_FILE"] = str(instance.data_dir / "logs" / "fish.log")
    fresh = instance.cli("doctor")
    assert fresh.exit_code == 0, fresh.output
    assert "created at start-up" in row(fresh.output, "Log file")
    assert not instance.data_dir.exists()

    assert instance.cli("db", "upgrade").exit_code == 0
    before = snapshot(instance.data_dir)
    assert list(before) == ["fish_bot.db"]
    existing = instance.cli("doctor")
    assert existing.exit_code == 0, existing.output
    assert "read-only check" in row(existing.output, "Database")
    assert "at the newest revision" in row(existing.output, "Migrations")
    assert "(writable)" in row(existing.output, "Data folder")
    assert snapshot(instance.data_dir) == before  # no -wal, -shm, probe or log folder


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
