"""``fish-bot db copy --to URL``: copy every table into another database (SQLite <-> PostgreSQL).

The tables are those of the models' metadata (``SQLModel.metadata``, every model under
``database/models/``), taken in foreign-key order (``metadata.sorted_tables``): a table a new
model adds is copied with no change here. The steps:

1. the configured database is the source: it must exist and be at the newest revision; it is
   read in one snapshot (one read transaction, REPEATABLE READ on PostgreSQL) and never changed;
2. the target is migrated to the newest revision, then checked: a target that holds rows is
   refused unless ``force`` (its rows are then deleted first, in reverse foreign-key order);
3. every table is copied in batches of :data:`BATCH_ROWS` rows, inside one transaction on the
   target, so a failed copy leaves the target as it was (migrated, without rows);
4. PostgreSQL sequences (``case.id``, ``scheduled_job.id``) are moved past the copied ids, so
   the next case or job gets a fresh id;
5. each table's row count in the target is compared with the source's before the commit.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError

from fish_bot.exceptions import FishBotError

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncConnection

    from fish_bot.config import Settings
    from fish_bot.database.service import DatabaseService

#: Rows read and written per statement.
BATCH_ROWS = 1000
DRIVERS = ("sqlite+aiosqlite", "postgresql+asyncpg")

#: ``progress(table, rows_copied, rows_in_table)``, called before and after every batch.
Progress = Callable[[str, int, int], None]


class CopyError(FishBotError):
    """The copy cannot be made (or did not match); nothing in the target was changed."""


@dataclass(frozen=True)
class CopyReport:
    source: str
    target: str
    counts: dict[str, int] = field(default_factory=dict)

    @property
    def tables(self) -> int:
        return len(self.counts)

    @property
    def rows(self) -> int:
        return sum(self.counts.values())


def check_target_url(url: str) -> str:
    """The ``--to`` URL, stripped; CopyError when it is not an async SQLite/PostgreSQL URL."""
    text = url.strip()
    try:
        parsed = make_url(text)
    except ArgumentError:
        parsed = None
    if parsed is None or parsed.drivername not in DRIVERS:
        raise CopyError(
            "--to needs a database URL with an async driver: "
            "postgresql+asyncpg://user:password@host:5432/name or "
            "sqlite+aiosqlite:///path/to/fish_bot.db"
        )
    return text


def tables() -> list[sa.Table]:
    """Every table of the models, parents before children."""
    from fish_bot.database.migrations.env_support import target_metadata

    return list(target_metadata().sorted_tables)


def _same_database(a: URL, b: URL) -> bool:
    if a.get_backend_name() != b.get_backend_name():
        return False
    if a.get_backend_name() == "sqlite":
        return Path(a.database or "").resolve() == Path(b.database or "").resolve()
    return (a.host or "localhost", a.port or 5432, a.database) == (
        b.host or "localhost",
        b.port or 5432,
        b.database,
    )


def _safe(url: URL) -> str:
    return url.render_as_string(hide_password=True)


async def _count(connection: AsyncConnection, table: sa.Table) -> int:
    return int(await connection.scalar(sa.select(sa.func.count()).select_from(table)) or 0)


async def _missing_tables(service: DatabaseService) -> list[str]:
    """Tables of the models that the database does not have."""
    async with service.engine.connect() as connection:
        present = set(await connection.run_sync(lambda sync: sa.inspect(sync).get_table_names()))
    return [table.name for table in tables() if table.name not in present]


async def _check_source(service: DatabaseService, url: URL) -> None:
    from fish_bot.database import migrations

    current = await migrations.current_revision(service)
    head = migrations.head_revision()
    if current is None:
        raise CopyError(f"the source database {_safe(url)} is empty: there is nothing to copy")
    if current != head:
        raise CopyError(
            f"the source database is at revision {current}, not {head}: run "
            "`fish-bot db upgrade` first"
        )
    missing = await _missing_tables(service)
    if missing:
        raise CopyError(
            f"the source database has no table {', '.join(missing)} although it is at {head}: "
            "a model without a migration?"
        )


async def _prepare_target(service: DatabaseService, url: URL, *, force: bool) -> None:
    """Migrate the target to the newest revision; refuse it when it holds rows (no force)."""
    from fish_bot.database import migrations
    from fish_bot.operations.dumps import known_revision

    current = await migrations.current_revision(service)
    if current is not None and not known_revision(current):
        raise CopyError(
            f"the target database is at revision {current}, which this Fish Bot does not know "
            "(a newer Fish Bot wrote it)"
        )
    await migrations.upgrade(service)
    missing = await _missing_tables(service)
    if missing:
        raise CopyError(
            f"the target database has no table {', '.join(missing)} after the migrations: "
            "a model without a migration?"
        )
    if force:
        return
    async with service.engine.connect() as connection:
        filled = {table.name: await _count(connection, table) for table in tables()}
    filled = {name: count for name, count in filled.items() if count}
    if filled:
        listed = ", ".join(f"{name} ({count})" for name, count in filled.items())
        raise CopyError(
            f"the target database {_safe(url)} is not empty: {listed}. Pass --force to delete "
            "these rows and copy anyway"
        )


async def _reset_sequence(connection: AsyncConnection, table: sa.Table) -> None:
    """Move a PostgreSQL serial/identity sequence past the ids just copied."""
    column = table.autoincrement_column
    if column is None:
        return
    name = connection.dialect.identifier_preparer.format_table(table)
    sequence = await connection.scalar(sa.select(sa.func.pg_get_serial_sequence(name, column.name)))
    if sequence is None:
        return
    following = sa.select(sa.func.coalesce(sa.func.max(column), 0) + 1).scalar_subquery()
    await connection.execute(sa.select(sa.func.setval(sequence, following, False)))


async def _copy_table(
    source: AsyncConnection,
    target: AsyncConnection,
    table: sa.Table,
    total: int,
    batch_rows: int,
    progress: Progress | None,
) -> None:
    if progress is not None:
        progress(table.name, 0, total)
    columns = list(table.columns)
    order = list(table.primary_key.columns) or columns
    result = await source.stream(sa.select(*columns).order_by(*order))
    done = 0
    async for batch in result.partitions(batch_rows):
        rows = [{column.key: row[index] for index, column in enumerate(columns)} for row in batch]
        await target.execute(table.insert(), rows)
        done += len(rows)
        if progress is not None:
            progress(table.name, done, total)


async def _connect(url: str, what: str) -> DatabaseService:
    from fish_bot.database.service import DatabaseService
    from fish_bot.operations.db_errors import describe_database_error

    service = DatabaseService(url, connect_retries=1)
    try:
        await service.connect()
    except Exception as error:
        described = describe_database_error(error, url)
        raise CopyError(f"{what}: {described or error}") from error
    return service


async def copy_database(
    settings: Settings,
    target_url: str,
    *,
    force: bool = False,
    batch_rows: int | None = None,
    progress: Progress | None = None,
) -> CopyReport:
    """Copy every table of the configured database into ``target_url`` (see the module)."""
    from fish_bot.operations.lock import refuse_if_running

    source_url = make_url(settings.effective_database_url)
    target = make_url(check_target_url(target_url))
    if _same_database(source_url, target):
        raise CopyError("the target is the configured database itself: name another database")
    if source_url.get_backend_name() == "sqlite":
        path = Path(source_url.database or "")
        if not await asyncio.to_thread(path.is_file):
            raise CopyError(f"there is no database at {path}: there is nothing to copy")
    refuse_if_running(Path(settings.data_dir), "copy the database")

    source_service = await _connect(settings.effective_database_url, "the source database")
    try:
        await _check_source(source_service, source_url)
        target_service = await _connect(target_url, "the target database")
        try:
            await _prepare_target(target_service, target, force=force)
            counts = await _copy_all(
                source_service,
                target_service,
                batch_rows=batch_rows or BATCH_ROWS,
                progress=progress,
            )
        finally:
            await target_service.disconnect()
    finally:
        await source_service.disconnect()
    return CopyReport(source=_safe(source_url), target=_safe(target), counts=counts)


async def _copy_all(
    source_service: DatabaseService,
    target_service: DatabaseService,
    *,
    batch_rows: int,
    progress: Progress | None,
) -> dict[str, int]:
    """Read one snapshot of the source, write it in one target transaction, compare counts."""
    ordered = tables()
    options: dict[str, Any] = {}
    if not source_service.is_sqlite:
        options["isolation_level"] = "REPEATABLE READ"
    async with source_service.engine.connect() as raw_source:
        source = await raw_source.execution_options(**options)
        async with (
            source.begin(),
            target_service.engine.connect() as target,
            target.begin(),
        ):
            for table in reversed(ordered):  # children first; empty unless --force
                await target.execute(table.delete())
            counts = {table.name: await _count(source, table) for table in ordered}
            for table in ordered:
                await _copy_table(source, target, table, counts[table.name], batch_rows, progress)
                if not target_service.is_sqlite:
                    await _reset_sequence(target, table)
            copied = {table.name: await _count(target, table) for table in ordered}
            wrong = {name: n for name, n in copied.items() if n != counts[name]}
            if wrong:
                listed = ", ".join(f"{name} ({n} of {counts[name]})" for name, n in wrong.items())
                raise CopyError(f"the copy does not match the source: {listed}; rolled back")
    return counts
