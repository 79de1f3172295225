"""``fish-bot db copy --to URL``: every table of the models, into another database.

The rows are made from the models' metadata (``SQLModel.metadata.sorted_tables``), three per
table, so a table another change adds is filled, copied and compared here without a change to
this file. SQLite -> SQLite always runs; SQLite -> PostgreSQL and PostgreSQL -> SQLite run when
``FISHBOT_TEST_DATABASE_URL`` is set (each test creates its own databases and drops them).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import make_url
from sqlmodel import SQLModel

from fish_bot.database import migrations
from fish_bot.database.service import DatabaseService
from fish_bot.operations import db_copy

from .conftest import PG_URL, Instance, run

ROWS_PER_TABLE = 3
PAIRS = [("sqlite", "sqlite")]
if PG_URL:
    PAIRS += [("sqlite", "postgresql"), ("postgresql", "sqlite")]


# --- rows made from the metadata ----------------------------------------------------------------


def _allowed_values(table: sa.Table) -> dict[str, list[str]]:
    """Column -> the values a CHECK (column IN ('a', 'b')) constraint allows."""
    allowed: dict[str, list[str]] = {}
    for constraint in table.constraints:
        if isinstance(constraint, sa.CheckConstraint):
            found = re.search(r"(\w+) IN \(([^)]*)\)", str(constraint.sqltext))
            if found:
                allowed[found.group(1)] = re.findall(r"'([^']*)'", found.group(2))
    return allowed


def sample_value(table: sa.Table, column: sa.Column[Any], index: int, parents: Any) -> Any:
    for key in column.foreign_keys:
        if key.column.table is table:  # a row pointing at another of its table (an alias)
            assert column.nullable, f"{table.name}.{column.name} refers to its own table"
            return None
        return parents[key.column.table.name][index][key.column.key]
    allowed = _allowed_values(table).get(column.name)
    if allowed:
        return allowed[index % len(allowed)]
    kind = column.type
    if isinstance(kind, sa.Boolean):
        return index % 2 == 0
    if isinstance(kind, sa.BigInteger):
        return 300_000_000_000_000_000 + index
    if isinstance(kind, sa.Integer):
        return index + 1  # within every rank range (0..10)
    if isinstance(kind, sa.DateTime) or getattr(kind, "impl", None).__class__ is sa.DateTime:
        return datetime(2026, 1, 2, 3, 4, 5, 123456, tzinfo=UTC) + timedelta(days=index)
    if isinstance(kind, sa.JSON):
        return {"n": index, "text": "café ✓", "list": [1, None, "two"]}
    if isinstance(kind, sa.Float):
        return index + 0.5
    if isinstance(kind, sa.String):
        text = f"{column.name}-{index}-é"
        return text[: kind.length] if kind.length else text
    raise AssertionError(f"no sample value for {table.name}.{column.name} ({kind!r})")


def sample_rows() -> dict[str, list[dict[str, Any]]]:
    rows: dict[str, list[dict[str, Any]]] = {}
    for table in SQLModel.metadata.sorted_tables:
        rows[table.name] = [
            {column.key: sample_value(table, column, index, rows) for column in table.columns}
            for index in range(ROWS_PER_TABLE)
        ]
    return rows


async def _service(url: str) -> DatabaseService:
    service = DatabaseService(url)
    await service.connect()
    return service


async def fill(url: str) -> None:
    """Migrate the database and put ROWS_PER_TABLE rows in every table of the models."""
    service = await _service(url)
    try:
        await migrations.upgrade(service)
        async with service.engine.begin() as connection:
            for table in SQLModel.metadata.sorted_tables:
                await connection.execute(table.insert(), sample_rows()[table.name])
    finally:
        await service.disconnect()


async def read_all(url: str) -> dict[str, list[dict[str, Any]]]:
    service = await _service(url)
    try:
        async with service.engine.connect() as connection:
            found = {}
            for table in SQLModel.metadata.sorted_tables:
                order = list(table.primary_key.columns)
                result = await connection.execute(sa.select(table).order_by(*order))
                found[table.name] = [dict(row._mapping) for row in result]
            return found
    finally:
        await service.disconnect()


def source_instance(make_instance: Callable[[str], Instance], url: str) -> Instance:
    instance = make_instance("source")
    instance.database_url = url
    return instance


# --- the copy ----------------------------------------------------------------------------------


@pytest.mark.parametrize(("source", "target"), PAIRS)
def test_every_table_is_copied_and_compares_equal(
    make_instance: Callable[[str], Instance],
    new_database: Callable[[str], str],
    monkeypatch: pytest.MonkeyPatch,
    source: str,
    target: str,
) -> None:
    monkeypatch.setattr(db_copy, "BATCH_ROWS", 2)  # three rows a table: two batches each
    source_url, target_url = new_database(source), new_database(target)
    run(lambda: fill(source_url))
    instance = source_instance(make_instance, source_url)

    result = instance.cli("db", "copy", "--to", target_url)

    assert result.exit_code == 0, result.output
    tables = SQLModel.metadata.sorted_tables
    rows = len(tables) * ROWS_PER_TABLE
    assert f"Copied {len(tables)} tables ({rows} rows)" in " ".join(result.output.split())
    assert "the row counts match" in result.output
    copied, original = run(lambda: read_all(target_url)), run(lambda: read_all(source_url))
    for table in tables:  # every model's table, cases and scheduled jobs included
        assert len(copied[table.name]) == ROWS_PER_TABLE, table.name
        assert copied[table.name] == original[table.name], table.name
    assert {"case", "scheduled_job", "guild_config", "cog_setting"} <= set(copied)
    with_password = make_url(target_url).password
    assert not with_password or str(with_password) not in result.output


@pytest.mark.postgres
def test_new_rows_in_the_postgresql_copy_get_fresh_ids(
    make_instance: Callable[[str], Instance], new_database: Callable[[str], str], db_backend: str
) -> None:
    source_url, target_url = new_database("sqlite"), new_database("postgresql")
    run(lambda: fill(source_url))
    assert (
        source_instance(make_instance, source_url).cli("db", "copy", "--to", target_url).exit_code
        == 0
    )

    async def add_case_and_job() -> tuple[int, int]:
        from fish_bot.database.coordinator import DatabaseCoordinator

        service = await _service(target_url)
        try:
            db = DatabaseCoordinator(service)
            guild = sample_rows()["guild"][0]["id"]
            case = await db.case.create(
                guild_id=guild, case_number=99, case_type="WARN", user_id=1, moderator_id=2
            )
            job = await db.scheduled_job.create(
                job_type="test", run_at=datetime(2030, 1, 1, tzinfo=UTC)
            )
            assert case.id is not None and job.id is not None
            return case.id, job.id
        finally:
            await service.disconnect()

    case_id, job_id = run(add_case_and_job)
    copied_ids = [row["id"] for row in sample_rows()["case"]]
    assert case_id == max(copied_ids) + 1
    assert job_id == max(row["id"] for row in sample_rows()["scheduled_job"]) + 1


def test_a_target_with_rows_is_refused_unless_force(
    make_instance: Callable[[str], Instance], new_database: Callable[[str], str]
) -> None:
    source_url, target_url = new_database("sqlite"), new_database("sqlite")
    run(lambda: fill(source_url))
    instance = source_instance(make_instance, source_url)
    assert instance.cli("db", "copy", "--to", target_url).exit_code == 0

    async def forget_a_case() -> None:
        service = await _service(source_url)
        try:
            async with service.engine.begin() as connection:
                case = SQLModel.metadata.tables["case"]
                await connection.execute(sa.delete(case).where(case.c.case_number == 1))
        finally:
            await service.disconnect()

    run(forget_a_case)
    refused = instance.cli("db", "copy", "--to", target_url)
    assert refused.exit_code == 1
    output = " ".join(refused.output.split())
    assert output.startswith("error: the target database")
    assert "is not empty:" in output and " guild (3)" in output and "case (3)" in output
    assert "Pass --force" in output
    assert len(run(lambda: read_all(target_url))["case"]) == 3  # untouched

    forced = instance.cli("db", "copy", "--to", target_url, "--force")
    assert forced.exit_code == 0, forced.output
    assert run(lambda: read_all(target_url)) == run(lambda: read_all(source_url))


def test_a_failed_copy_leaves_the_target_without_rows(
    make_instance: Callable[[str], Instance],
    new_database: Callable[[str], str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    source_url, target_url = new_database("sqlite"), new_database("sqlite")
    run(lambda: fill(source_url))
    real = db_copy._copy_table

    async def broken(source: Any, target: Any, table: sa.Table, *args: Any) -> None:
        await real(source, target, table, *args)
        if table.name == "case":
            raise db_copy.CopyError("the disk is full")

    monkeypatch.setattr(db_copy, "_copy_table", broken)
    result = source_instance(make_instance, source_url).cli("db", "copy", "--to", target_url)
    assert result.exit_code == 1
    assert "error: the disk is full" in result.output
    assert all(not rows for rows in run(lambda: read_all(target_url)).values())


def test_copy_refuses_what_it_cannot_copy(
    make_instance: Callable[[str], Instance], new_database: Callable[[str], str]
) -> None:
    fresh = make_instance("fresh")
    target_url = new_database("sqlite")
    nothing = fresh.cli("db", "copy", "--to", target_url)
    assert nothing.exit_code == 1
    assert "there is no database at" in nothing.output and "nothing to copy" in nothing.output
    assert not fresh.data_dir.exists()  # a refused copy creates no database

    bad = fresh.cli("db", "copy", "--to", "postgresql://user@host/db")
    assert bad.exit_code == 2
    assert "error: --to needs a database URL with an async driver" in bad.output

    source_url = new_database("sqlite")
    run(lambda: fill(source_url))
    instance = source_instance(make_instance, source_url)
    itself = instance.cli("db", "copy", "--to", source_url)
    assert itself.exit_code == 1 and "the target is the configured database itself" in itself.output

    assert instance.cli("db", "downgrade", "0004_cases").exit_code == 0
    behind = instance.cli("db", "copy", "--to", new_database("sqlite"))
    assert behind.exit_code == 1
    assert "the source database is at revision 0004_cases" in behind.output
    assert "fish-bot db upgrade" in behind.output


@pytest.mark.postgres
def test_a_missing_target_database_is_one_line_with_the_fix(
    make_instance: Callable[[str], Instance], new_database: Callable[[str], str], db_backend: str
) -> None:
    source_url = new_database("sqlite")
    run(lambda: fill(source_url))
    url = make_url(PG_URL).set(database="fb_no_such_database")
    result = source_instance(make_instance, source_url).cli(
        "db", "copy", "--to", url.render_as_string(hide_password=False)
    )
    assert result.exit_code == 1
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1, result.output
    host, port = url.host or "localhost", url.port or 5432
    assert lines[0].startswith(
        f"error: the target database: database `fb_no_such_database` does not exist on "
        f"{host}:{port}: create it with `createdb -h {host} -p {port}"
    )
    assert 'CREATE DATABASE "fb_no_such_database"' in lines[0]


def test_copy_refuses_while_the_bot_runs(
    make_instance: Callable[[str], Instance], new_database: Callable[[str], str]
) -> None:
    from fish_bot.operations.lock import RunLock

    source_url, target_url = new_database("sqlite"), new_database("sqlite")
    run(lambda: fill(source_url))
    instance = source_instance(make_instance, source_url)
    with RunLock(instance.data_dir):
        result = instance.cli("db", "copy", "--to", target_url)
    assert result.exit_code == 1
    assert "stop it before you copy the database" in " ".join(result.output.split())
    assert not Path(make_url(target_url).database or "").exists()


def test_a_model_without_a_migration_is_named(
    make_instance: Callable[[str], Instance], new_database: Callable[[str], str]
) -> None:
    source_url, target_url = new_database("sqlite"), new_database("sqlite")
    run(lambda: fill(source_url))
    extra = sa.Table(
        "fb_unmigrated", SQLModel.metadata, sa.Column("id", sa.Integer, primary_key=True)
    )
    try:
        result = source_instance(make_instance, source_url).cli("db", "copy", "--to", target_url)
    finally:
        SQLModel.metadata.remove(extra)
    assert result.exit_code == 1
    assert "the source database has no table fb_unmigrated" in " ".join(result.output.split())
