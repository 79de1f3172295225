"""Fixtures for the command-line operations (doctor, settings export/import, backup/restore).

Each test gets its own data folder and database: the SQLite file in that folder, or (when
``FISHBOT_TEST_DATABASE_URL`` is set, for the tests that ask for ``db_backend``) a PostgreSQL
database created for the test and dropped afterwards. The commands run through Typer's
CliRunner with the environment pointing at them; nothing reads the developer's ``.env``.
"""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import create_async_engine
from typer.testing import CliRunner, Result

from fish_bot.cli import app
from fish_bot.config import Settings
from fish_bot.database.coordinator import DatabaseCoordinator
from fish_bot.database.service import DatabaseService

T = TypeVar("T")

PG_URL = os.environ.get("FISHBOT_TEST_DATABASE_URL", "").strip()

#: A token that passes Settings.token_problem() (never valid at Discord).
FAKE_TOKEN = "A" * 24 + "." + "B" * 6 + "." + "C" * 27


def run(coro_factory: Callable[[], Awaitable[T]]) -> T:
    async def main() -> T:
        return await coro_factory()

    return asyncio.run(main())


@dataclass
class Instance:
    """One Fish Bot installation: a data folder and a database URL ('' = SQLite default)."""

    data_dir: Path
    database_url: str = ""
    extra_env: dict[str, str] = field(default_factory=dict)

    @property
    def env(self) -> dict[str, str]:
        return {
            "FISHBOT_DATA_DIR": str(self.data_dir),
            "FISHBOT_DATABASE_URL": self.database_url,
            "DISCORD_TOKEN": "",
            "SENTRY_DSN": "",
            "FISHBOT_HEALTH_PORT": "",
            "FISHBOT_LOG_FILE": "",
            "FISHBOT_DJANGO_SETTINGS_MODULE": "",
            "COLUMNS": "200",
            **self.extra_env,
        }

    @property
    def settings(self) -> Settings:
        return Settings(data_dir=self.data_dir, database_url=self.database_url)

    def cli(self, *args: str, input: str | None = None) -> Result:
        return CliRunner().invoke(app, list(args), env=self.env, input=input)

    async def with_db(self, action: Callable[[DatabaseCoordinator], Awaitable[T]]) -> T:
        """Run ``action`` with a controller hub on this database (upgraded to the newest)."""
        from fish_bot.database import migrations

        service = DatabaseService.from_settings(self.settings)
        await service.connect()
        try:
            await migrations.upgrade(service)
            return await action(DatabaseCoordinator(service))
        finally:
            await service.disconnect()


async def _admin(statement: str) -> None:
    engine = create_async_engine(PG_URL, isolation_level="AUTOCOMMIT")
    try:
        async with engine.connect() as connection:
            await connection.execute(sa.text(statement))
    finally:
        await engine.dispose()


@pytest.fixture
def make_instance(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, request: pytest.FixtureRequest
) -> Iterator[Callable[[str], Instance]]:
    """Build installations; PostgreSQL ones when the test runs with db_backend=postgresql."""
    monkeypatch.chdir(tmp_path)  # no .env from the developer's working directory
    backend = (
        request.getfixturevalue("db_backend") if "db_backend" in request.fixturenames else "sqlite"
    )
    databases: list[str] = []

    def factory(name: str) -> Instance:
        instance = Instance(tmp_path / name / "data")
        if backend == "postgresql":
            database = f"fb_{uuid.uuid4().hex[:12]}"
            run(lambda: _admin(f'CREATE DATABASE "{database}"'))
            databases.append(database)
            instance.database_url = (
                make_url(PG_URL).set(database=database).render_as_string(hide_password=False)
            )
        return instance

    yield factory
    for database in databases:
        run(lambda database=database: _admin(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)'))


@pytest.fixture
def new_database(tmp_path: Path) -> Iterator[Callable[[str], str]]:
    """URLs of new, empty databases: a SQLite file, or a PostgreSQL database of this test."""
    created: list[str] = []

    def factory(backend: str) -> str:
        if backend == "sqlite":
            return f"sqlite+aiosqlite:///{(tmp_path / f'{uuid.uuid4().hex[:8]}.db').as_posix()}"
        name = f"fb_{uuid.uuid4().hex[:12]}"
        run(lambda: _admin(f'CREATE DATABASE "{name}"'))
        created.append(name)
        return make_url(PG_URL).set(database=name).render_as_string(hide_password=False)

    yield factory
    for name in created:
        run(lambda name=name: _admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


def rows(instance: Instance) -> dict[str, Any]:
    """Every stored setting, permission and guild_config row, comparable across databases."""

    async def read(db: DatabaseCoordinator) -> dict[str, Any]:
        settings = {
            (row.cog, row.guild_id, row.key): row.value for row in await db.cog_setting.find_all()
        }
        controller = db.permissions
        rules = {
            (r.guild_id, r.command, r.target_type, r.target_id): r.allow
            for r in await controller.find_all()
        }
        roles = {(r.guild_id, r.role_id): r.rank for r in await controller.role_ranks.find_all()}
        commands = {
            (r.guild_id, r.command): r.rank for r in await controller.command_ranks.find_all()
        }
        configs = {row.guild_id: row.model_dump() for row in await db.guild_config.find_all()}
        return {
            "settings": settings,
            "rules": rules,
            "roles": roles,
            "commands": commands,
            "configs": configs,
        }

    return run(lambda: instance.with_db(read))
