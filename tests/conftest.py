"""Shared fixtures.

Database tests run on SQLite always and on PostgreSQL too when ``FISHBOT_TEST_DATABASE_URL`` is
set (CI sets it). Each PostgreSQL test gets a schema of its own, dropped afterwards, so tests can
run in any order and side by side.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import create_async_engine

from fish_bot.database.coordinator import DatabaseCoordinator
from fish_bot.database.service import DatabaseService

# The CLI's consoles take their width from COLUMNS when fish_bot.cli is first imported, by
# whichever test module that is: fixed here, the output of `fish-bot` commands wraps the same
# way in every test, in whatever order (and pytest-xdist worker) the tests run.
os.environ["COLUMNS"] = "200"

PG_URL = os.environ.get("FISHBOT_TEST_DATABASE_URL", "").strip()
BACKENDS = ["sqlite", "postgresql"] if PG_URL else ["sqlite"]


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """Run every test that asks for ``db_backend`` once per available database."""
    if "db_backend" in metafunc.fixturenames:
        # A test marked `postgres` checks PostgreSQL-only behaviour (pg_dump, ...): it runs
        # once, on PostgreSQL (CI always sets the URL).
        only_pg = metafunc.definition.get_closest_marker("postgres") is not None
        backends = [b for b in BACKENDS if b == "postgresql"] if only_pg else BACKENDS
        metafunc.parametrize("db_backend", backends, scope="function")


class DatabaseTarget:
    """Where one test's database lives: a URL and engine options."""

    def __init__(self, url: str, engine_options: dict[str, object], schema: str | None) -> None:
        self.url = url
        self.engine_options = engine_options
        self.schema = schema

    def service(self, **kwargs: object) -> DatabaseService:
        return DatabaseService(self.url, engine_options=self.engine_options, **kwargs)  # type: ignore[arg-type]


@pytest.fixture
async def db_target(db_backend: str, tmp_path: Path) -> AsyncIterator[DatabaseTarget]:
    """An empty database (SQLite file or PostgreSQL schema), removed after the test."""
    if db_backend == "sqlite":
        yield DatabaseTarget(f"sqlite+aiosqlite:///{(tmp_path / 'test.db').as_posix()}", {}, None)
        return
    schema = f"t_{uuid.uuid4().hex[:16]}"
    admin = create_async_engine(PG_URL)
    async with admin.begin() as conn:
        await conn.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
    try:
        options = {"connect_args": {"server_settings": {"search_path": schema}}}
        yield DatabaseTarget(PG_URL, options, schema)
    finally:
        async with admin.begin() as conn:
            await conn.execute(sa.text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        await admin.dispose()


@pytest.fixture
async def db_service(db_target: DatabaseTarget) -> AsyncIterator[DatabaseService]:
    """A connected DatabaseService whose schema is at the newest migration."""
    from fish_bot.database.migrations import upgrade

    service = db_target.service()
    await service.connect()
    await upgrade(service)
    try:
        yield service
    finally:
        await service.disconnect()


@pytest.fixture
def db(db_service: DatabaseService) -> DatabaseCoordinator:
    """The controller hub over a fresh database."""
    return DatabaseCoordinator(db_service)
