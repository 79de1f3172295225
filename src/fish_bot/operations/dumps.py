"""The database half of a backup: SQLite copied with its backup API, PostgreSQL with pg_dump.

The copy, the checks of a restored database member and its installation, for both dialects
(``pg_dump``/``pg_restore`` must be on PATH for PostgreSQL). Used by
:mod:`fish_bot.operations.backup`.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import sqlite3
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy.engine import URL, make_url

from fish_bot.core.files import _fsync_directory, _replace
from fish_bot.operations.archive import BackupError

if TYPE_CHECKING:
    from fish_bot.config import Settings

SQLITE_HEADER = b"SQLite format 3\x00"
PG_DUMP_HEADER = b"PGDMP"


def _url(settings: Settings) -> URL:
    return make_url(settings.effective_database_url)


def sqlite_path(settings: Settings) -> Path:
    database = _url(settings).database or ""
    if not database or database == ":memory:" or database.startswith("file:"):
        raise BackupError("only a SQLite database in a file can be backed up")
    return Path(database)


def known_revision(revision: str) -> bool:
    from fish_bot.database import migrations

    return any(
        script.revision == revision for script in migrations.script_directory().walk_revisions()
    )


# --- SQLite ------------------------------------------------------------------------------------


def _read_revision(connection: sqlite3.Connection) -> str | None:
    try:
        row = connection.execute("SELECT version_num FROM alembic_version").fetchone()
    except sqlite3.OperationalError:  # no alembic_version table: an empty database
        return None
    return str(row[0]) if row else None


def _quick_check(connection: sqlite3.Connection, what: str) -> None:
    result = connection.execute("PRAGMA quick_check").fetchone()
    if not result or result[0] != "ok":
        raise BackupError(f"{what} failed SQLite's integrity check: {result[0] if result else '?'}")


def sqlite_copy(source: Path, destination: Path) -> str | None:
    """Copy a live SQLite database consistently (backup API); returns its revision. Blocking."""
    if not source.is_file():
        raise BackupError(f"there is no SQLite database at {source}")
    src = sqlite3.connect(str(source), timeout=30)
    try:
        dst = sqlite3.connect(str(destination))
        try:
            src.backup(dst)  # one step: a single read transaction, so one consistent snapshot
            dst.execute("PRAGMA journal_mode=DELETE")  # one self-contained file
            _quick_check(dst, "the copy")
            return _read_revision(dst)
        finally:
            dst.close()
    finally:
        src.close()


def check_sqlite_file(path: Path) -> None:
    """Refuse a file that is not a sound SQLite database (header, then quick_check). Blocking."""
    with path.open("rb") as handle:
        header = handle.read(len(SQLITE_HEADER))
    if header != SQLITE_HEADER:
        raise BackupError("the backup's database member is not a SQLite database")
    try:
        check = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
        try:
            _quick_check(check, "the backup's database")
        finally:
            check.close()
    except sqlite3.DatabaseError as error:
        raise BackupError(f"the backup's database cannot be read by SQLite: {error}") from None


def _check_pg_dump(path: Path) -> None:
    with path.open("rb") as handle:
        header = handle.read(len(PG_DUMP_HEADER))
    if header != PG_DUMP_HEADER:
        raise BackupError("the backup's database member is not a pg_dump custom-format dump")


def _sqlite_install(new_file: Path, target: Path) -> None:
    """Put a restored, checked SQLite file in place of ``target`` (no bot runs). Blocking."""
    with new_file.open("rb+") as handle:  # it may have been copied across file systems
        os.fsync(handle.fileno())
    if target.exists():
        # Merge and drop the old write-ahead log so that it can never be applied to the new file.
        old = sqlite3.connect(str(target), timeout=30)
        try:
            old.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        finally:
            old.close()
    for suffix in ("-wal", "-shm", "-journal"):
        with contextlib.suppress(FileNotFoundError):
            target.with_name(target.name + suffix).unlink()
    target.parent.mkdir(parents=True, exist_ok=True)
    _replace(new_file, target)
    _fsync_directory(target.parent)


# --- PostgreSQL --------------------------------------------------------------------------------


def _pg_tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        raise BackupError(
            f"{name} was not found on PATH. PostgreSQL backups use pg_dump and pg_restore: "
            "install the PostgreSQL client tools of the server's major version (e.g. "
            "`apt install postgresql-client`) and try again."
        )
    return path


def _pg_connection(settings: Settings) -> tuple[list[str], dict[str, str]]:
    """Command-line options and environment for pg_dump/pg_restore (password in the env)."""
    url = _url(settings)
    args: list[str] = ["--no-password"]
    if url.host:
        args += ["--host", url.host]
    if url.port:
        args += ["--port", str(url.port)]
    if url.username:
        args += ["--username", url.username]
    if not url.database:
        raise BackupError("FISHBOT_DATABASE_URL names no database")
    args += ["--dbname", url.database]
    env = dict(os.environ)
    if url.password:
        env["PGPASSWORD"] = str(url.password)
    sslmode = url.query.get("sslmode") or url.query.get("ssl")
    if isinstance(sslmode, str):
        env["PGSSLMODE"] = "require" if sslmode.lower() in ("true", "1") else sslmode
    return args, env


async def _run_tool(argv: list[str], env: dict[str, str], what: str) -> None:
    process = await asyncio.create_subprocess_exec(
        *argv,
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env=env,
    )
    _stdout, stderr = await process.communicate()
    if process.returncode != 0:
        text = stderr.decode("utf-8", "replace").strip() or f"exit code {process.returncode}"
        hint = ""
        if "version mismatch" in text:
            hint = " Install client tools of the same major version as the server."
        raise BackupError(f"{what} failed: {text}{hint}")


async def _service_revision(settings: Settings) -> str | None:
    from fish_bot.database import migrations
    from fish_bot.database.service import DatabaseService

    service = DatabaseService.from_settings(settings)
    await service.connect()
    try:
        return await migrations.current_revision(service)
    finally:
        await service.disconnect()


async def _pg_dump(settings: Settings, destination: Path) -> str | None:
    tool = _pg_tool("pg_dump")
    revision = await _service_revision(settings)
    args, env = _pg_connection(settings)
    await _run_tool(
        [
            tool,
            "--format=custom",
            "--no-owner",
            "--no-privileges",
            "--file",
            str(destination),
            *args,
        ],
        env,
        "pg_dump",
    )
    return revision


def _ancestors(revision: str) -> set[str]:
    from fish_bot.database import migrations

    script = migrations.script_directory()
    seen: set[str] = set()
    pending = [revision]
    while pending:
        current = pending.pop()
        if current in seen:
            continue
        seen.add(current)
        found = script.get_revision(current)
        down = found.down_revision if found is not None else None
        if isinstance(down, str):
            pending.append(down)
        elif down:
            pending.extend(down)
    return seen


async def _pg_restore(settings: Settings, dump: Path, revision: str | None) -> None:
    """Bring the schema to the dump's revision, then restore the dump in one transaction."""
    from fish_bot.database import migrations
    from fish_bot.database.service import DatabaseService

    tool = _pg_tool("pg_restore")
    service = DatabaseService.from_settings(settings)
    await service.connect()
    try:
        current = await migrations.current_revision(service)
        if current is not None and current != revision:
            if not known_revision(current):
                raise BackupError(
                    f"the database is at revision {current}, which this Fish Bot does not know"
                )
            # Tables that a later migration added would survive pg_restore --clean and break
            # the next upgrade: move the schema to the backup's revision first.
            if revision is None:
                await migrations.downgrade(service, "base")
            elif revision in _ancestors(current):
                await migrations.downgrade(service, revision)
            else:
                await migrations.upgrade(service, revision)
    finally:
        await service.disconnect()
    args, env = _pg_connection(settings)
    await _run_tool(
        [
            tool,
            "--clean",
            "--if-exists",
            "--single-transaction",
            "--no-owner",
            "--no-privileges",
            *args,
            str(dump),
        ],
        env,
        "pg_restore",
    )
