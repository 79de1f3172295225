"""``fish-bot doctor``'s Django row: off, or the settings import and the database answers with
every migration of the project applied; it creates no file doing so."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Callable
from contextlib import closing
from pathlib import Path

from django_project import testing

from .conftest import FAKE_TOKEN, Instance
from .test_doctor import row


def files(folder: Path) -> set[Path]:
    return set(folder.rglob("*"))


def with_django(instance: Instance, database: Path) -> Instance:
    asyncio.run(testing.use_database(database))
    instance.extra_env["DISCORD_TOKEN"] = FAKE_TOKEN
    instance.extra_env["FISHBOT_DJANGO_SETTINGS_MODULE"] = testing.SETTINGS_MODULE
    return instance


def test_off_when_not_configured(make_instance: Callable[[str], Instance]) -> None:
    instance = make_instance("one")
    instance.extra_env["DISCORD_TOKEN"] = FAKE_TOKEN
    result = instance.cli("doctor")
    assert result.exit_code == 0, result.output
    assert "✓ Django off (FISHBOT_DJANGO_SETTINGS_MODULE not set)" in row(result.output, "Django")


def test_a_migrated_database_passes_and_nothing_is_created(
    make_instance: Callable[[str], Instance], tmp_path: Path
) -> None:
    database = tmp_path / "django" / "notes.sqlite3"
    database.parent.mkdir()
    instance = with_django(make_instance("one"), database)
    asyncio.run(testing.migrate())
    before = files(tmp_path)
    result = instance.cli("doctor")
    assert result.exit_code == 0, result.output
    django = row(result.output, "Django")
    assert django.startswith("✓ Django django_project.settings: SQLite")
    assert "every migration applied" in django
    assert files(tmp_path) == before


def test_a_missing_database_fails_and_is_not_created(
    make_instance: Callable[[str], Instance], tmp_path: Path
) -> None:
    database = tmp_path / "missing.sqlite3"
    instance = with_django(make_instance("one"), database)
    result = instance.cli("doctor")
    assert result.exit_code == 1
    django = row(result.output, "Django")
    assert django.startswith("✗ Django") and "does not exist" in django
    assert "python manage.py migrate" in django
    assert not database.exists()


def test_unapplied_migrations_fail(
    make_instance: Callable[[str], Instance], tmp_path: Path
) -> None:
    database = tmp_path / "empty.sqlite3"
    with closing(sqlite3.connect(database)) as connection:
        connection.execute("CREATE TABLE unrelated (id INTEGER)")
    instance = with_django(make_instance("one"), database)
    result = instance.cli("doctor")
    assert result.exit_code == 1
    django = row(result.output, "Django")
    assert "1 Django migration(s) not applied (notes.0001_initial)" in django


def test_a_settings_module_that_does_not_import_fails(
    make_instance: Callable[[str], Instance],
) -> None:
    instance = make_instance("one")
    instance.extra_env["DISCORD_TOKEN"] = FAKE_TOKEN
    instance.extra_env["FISHBOT_DJANGO_SETTINGS_MODULE"] = "no_such_project.settings"
    result = instance.cli("doctor")
    assert result.exit_code == 1
    django = row(result.output, "Django")
    assert django.startswith("✗ Django") and "no_such_project.settings" in django
    assert "FISHBOT_DJANGO_SETTINGS_MODULE" in django
