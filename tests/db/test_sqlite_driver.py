"""The one-trip SQLite adapter (database/sqlite_driver.py): the same results as SQLAlchemy's
aiosqlite adapter, in one call to aiosqlite's thread per statement."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiosqlite
import pytest
import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError, OperationalError

from fish_bot.database.service import DatabaseService
from fish_bot.database.sqlite_driver import OneTripConnection


@pytest.fixture
async def service(tmp_path: Path) -> AsyncIterator[DatabaseService]:
    service = DatabaseService(f"sqlite+aiosqlite:///{(tmp_path / 'one.db').as_posix()}")
    await service.connect()
    async with service.engine.begin() as connection:
        await connection.exec_driver_sql(
            "CREATE TABLE item (id INTEGER PRIMARY KEY, name TEXT UNIQUE NOT NULL, n INTEGER)"
        )
    try:
        yield service
    finally:
        await service.disconnect()


@pytest.fixture
def calls(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The names of the functions each call to aiosqlite's thread ran."""
    seen: list[str] = []
    original = aiosqlite.Connection._execute

    async def counted(self: aiosqlite.Connection, fn: Any, *args: Any, **kwargs: Any) -> Any:
        seen.append(getattr(fn, "__name__", repr(fn)))
        return await original(self, fn, *args, **kwargs)

    monkeypatch.setattr(aiosqlite.Connection, "_execute", counted)
    return seen


async def test_the_service_uses_the_one_trip_adapter(service: DatabaseService) -> None:
    async with service.engine.connect() as connection:
        raw = await connection.get_raw_connection()
        assert isinstance(raw.dbapi_connection, OneTripConnection)


async def test_a_statement_is_one_call_and_an_idle_commit_none(
    service: DatabaseService, calls: list[str]
) -> None:
    async with service.session(write=True, single=True) as session:
        await session.execute(sa.text("INSERT INTO item (name, n) VALUES ('a', 1)"))
    async with service.session(read_only=True) as session:
        rows = (await session.execute(sa.text("SELECT name, n FROM item"))).all()

    assert [tuple(row) for row in rows] == [("a", 1)]
    # Two statements, no commit or rollback call: autocommit left no transaction open.
    assert calls == ["_run_statement", "_run_statement"]


async def test_a_transaction_still_begins_and_commits(
    service: DatabaseService, calls: list[str]
) -> None:
    async with service.transaction() as session:
        await session.execute(sa.text("INSERT INTO item (name, n) VALUES ('a', 1)"))
        await session.execute(sa.text("INSERT INTO item (name, n) VALUES ('b', 2)"))

    assert calls == ["_run_statement"] * 3 + ["commit"]  # BEGIN IMMEDIATE, 2 INSERTs, COMMIT
    async with service.session(read_only=True) as session:
        count = (await session.execute(sa.text("SELECT count(*) FROM item"))).scalar_one()
    assert count == 2


async def test_a_failed_transaction_rolls_back_everything(service: DatabaseService) -> None:
    with pytest.raises(IntegrityError):
        async with service.transaction() as session:
            await session.execute(sa.text("INSERT INTO item (name, n) VALUES ('a', 1)"))
            await session.execute(sa.text("INSERT INTO item (name, n) VALUES ('a', 2)"))
    async with service.session(read_only=True) as session:
        count = (await session.execute(sa.text("SELECT count(*) FROM item"))).scalar_one()
    assert count == 0


async def test_rowcount_lastrowid_executemany_and_returning(service: DatabaseService) -> None:
    async with service.engine.begin() as connection:
        inserted = await connection.execute(
            sa.text("INSERT INTO item (name, n) VALUES (:name, :n)"),
            [{"name": f"x{i}", "n": i} for i in range(5)],
        )
        assert inserted.rowcount == 5
        one = await connection.execute(sa.text("INSERT INTO item (name, n) VALUES ('y', 9)"))
        assert one.lastrowid == 6
        updated = await connection.execute(sa.text("UPDATE item SET n = n + 1 WHERE n < 3"))
        assert updated.rowcount == 3
        returned = await connection.execute(
            sa.text("UPDATE item SET n = 0 WHERE name = 'y' RETURNING id, n")
        )
        assert [tuple(row) for row in returned] == [(6, 0)]
        many = await connection.execute(sa.text("SELECT id FROM item ORDER BY id"))
        assert many.fetchmany(2) == [(1,), (2,)]
        assert many.fetchall() == [(3,), (4,), (5,), (6,)]


async def test_streamed_results_keep_the_server_side_cursor(service: DatabaseService) -> None:
    async with service.engine.begin() as connection:
        await connection.execute(
            sa.text("INSERT INTO item (name, n) VALUES (:name, :n)"),
            [{"name": f"s{i}", "n": i} for i in range(50)],
        )
    async with service.engine.connect() as connection:
        result = await connection.stream(sa.text("SELECT n FROM item ORDER BY n"))
        seen = [row[0] async for row in result]
    assert seen == list(range(50))


async def test_a_bad_statement_raises_the_drivers_error(service: DatabaseService) -> None:
    with pytest.raises(OperationalError, match="no such table"):
        async with service.session(read_only=True) as session:
            await session.execute(sa.text("SELECT * FROM missing"))
    # The connection is still usable afterwards.
    async with service.session(read_only=True) as session:
        assert (await session.execute(sa.text("SELECT 1"))).scalar_one() == 1
