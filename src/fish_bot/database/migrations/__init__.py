"""Alembic migrations shipped inside the package, run through a DatabaseService.

The functions here are what the bot (at start-up) and ``fish-bot db ...`` call. They run
Alembic on a connection of the service's engine, so the same code serves SQLite and
PostgreSQL and honours the service's connection options.

Alembic (and Mako, and Pygments through it: about a hundred modules) is imported only when a
function needs it: :func:`is_at_head`, which a start-up calls first, reads the database's
revision with one query and the shipped head from the revision files' text, so a bot whose
database is already at the newest revision never loads Alembic.
"""

from __future__ import annotations

import io
import re
from collections.abc import Callable
from contextlib import redirect_stdout
from pathlib import Path
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from fish_bot.database.service import DatabaseService

if TYPE_CHECKING:
    from alembic.config import Config
    from alembic.script import ScriptDirectory

MIGRATIONS_DIR = Path(__file__).resolve().parent
VERSION_TABLE = "alembic_version"


#: ``revision = "..."`` and ``down_revision = ...`` at the start of a line of a revision file.
_ASSIGNMENT = re.compile(r"^(revision|down_revision)\s*(?::[^=]*)?=\s*(.*?)\s*$", re.MULTILINE)
#: What this reader understands on the right of those: None, one string or a tuple of them.
_VALUE = re.compile(r"""None|(?:\(\s*)?(?:["'][\w.-]+["']\s*,?\s*)+\)?""")
_QUOTED = re.compile(r"""["']([\w.-]+)["']""")


def shipped_head() -> str | None:
    """The newest shipped revision, read from the revision files without importing Alembic.

    The files' text is read with regular expressions, not ``ast.parse``: on Python 3.11 before
    3.11.8 a traceback formatted by a garbage-collected task during ``ast.parse`` (the traceback
    module parses source lines too) ends the outer parse with "SystemError: AST constructor
    recursion depth mismatch". None when it cannot be told this way (no single head, a file it
    cannot read, a value that is not None or quoted names): then ask :func:`head_revision`.
    """
    revisions: set[str] = set()
    parents: set[str] = set()
    try:
        for path in sorted((MIGRATIONS_DIR / "versions").glob("*.py")):
            values: dict[str, list[str]] = {}
            for name, value in _ASSIGNMENT.findall(path.read_text(encoding="utf-8")):
                if name in values or not _VALUE.fullmatch(value):
                    return None
                values[name] = _QUOTED.findall(value)
            if "revision" not in values:
                continue
            if len(values["revision"]) != 1:
                return None
            revisions.update(values["revision"])
            parents.update(values.get("down_revision", []))
    except (OSError, ValueError):
        return None
    heads = revisions - parents
    return heads.pop() if len(heads) == 1 else None


async def is_at_head(service: DatabaseService) -> bool:
    """Whether the database is at the newest shipped revision (one query, no Alembic)."""
    head = shipped_head()
    if head is None:
        return False

    def read(connection: Any) -> list[str]:
        if not sa.inspect(connection).has_table(VERSION_TABLE):
            return []
        rows = connection.execute(sa.text(f"SELECT version_num FROM {VERSION_TABLE}"))
        return [str(row[0]) for row in rows]

    async with service.engine.connect() as connection:
        return await connection.run_sync(read) == [head]


def alembic_config() -> Config:
    """An Alembic Config pointing at the packaged migrations."""
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", MIGRATIONS_DIR.as_posix())
    config.set_main_option("version_locations", (MIGRATIONS_DIR / "versions").as_posix())
    config.set_main_option("path_separator", "os")
    return config


def script_directory() -> ScriptDirectory:
    from alembic.script import ScriptDirectory

    return ScriptDirectory.from_config(alembic_config())


def head_revision() -> str | None:
    """The newest revision shipped with this version of Fish Bot."""
    return script_directory().get_current_head()


async def _run(service: DatabaseService, action: Callable[[Config], Any]) -> str:
    """Run an Alembic command on a connection of ``service``; returns what it printed."""
    output = io.StringIO()
    config = alembic_config()
    config.stdout = output

    def run_sync(connection: Any) -> None:
        config.attributes["connection"] = connection
        with redirect_stdout(output):
            action(config)

    if not service.is_sqlite:
        async with service.engine.begin() as connection:
            await connection.run_sync(run_sync)
        return output.getvalue()

    def run_sqlite(connection: Any) -> None:
        # Batch migrations rebuild a table by copy, DROP and rename. With foreign keys on,
        # SQLite's DROP TABLE deletes the rows first and so fires ON DELETE CASCADE: every
        # referencing row (guild_config of a rebuilt guild table...) would be lost. The
        # pragma is ignored inside a transaction, so it is switched before BEGIN. The rename
        # back to the table's name would also fail on a trigger that names the table (0014's
        # on "case" names guild) while it is dropped: the legacy rename leaves triggers be.
        def pragma(sql: str) -> None:
            cursor = connection.connection.dbapi_connection.cursor()
            try:
                cursor.execute(sql)
            finally:
                cursor.close()

        pragma("PRAGMA foreign_keys=OFF")
        pragma("PRAGMA legacy_alter_table=ON")
        try:
            with connection.begin():
                run_sync(connection)
                broken = connection.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
                if broken:
                    raise RuntimeError(f"migration left rows with broken foreign keys: {broken}")
        finally:
            pragma("PRAGMA legacy_alter_table=OFF")
            pragma("PRAGMA foreign_keys=ON")

    async with service.engine.connect() as connection:
        await connection.run_sync(run_sqlite)
    return output.getvalue()


async def upgrade(service: DatabaseService, revision: str = "head") -> str:
    """Upgrade the database to ``revision`` (default: the newest)."""
    from alembic import command

    return await _run(service, lambda config: command.upgrade(config, revision))


async def downgrade(service: DatabaseService, revision: str) -> str:
    """Downgrade the database to ``revision`` (``base`` removes every table)."""
    from alembic import command

    return await _run(service, lambda config: command.downgrade(config, revision))


async def current_revision(service: DatabaseService) -> str | None:
    """The revision the database is at, or None for an empty database."""
    from alembic.runtime.migration import MigrationContext

    def read(connection: Any) -> str | None:
        return MigrationContext.configure(connection).get_current_revision()

    async with service.engine.connect() as connection:
        return await connection.run_sync(read)


async def revision(service: DatabaseService, message: str, *, autogenerate: bool = True) -> str:
    """Write a new migration file (comparing the models with the database when autogenerate)."""
    from alembic import command

    return await _run(
        service, lambda config: command.revision(config, message=message, autogenerate=autogenerate)
    )


async def pending_changes(service: DatabaseService) -> list[Any]:
    """Differences between the models and the database (empty when they agree)."""
    from alembic.autogenerate import compare_metadata
    from alembic.runtime.migration import MigrationContext

    from fish_bot.database.migrations.env_support import compare_options, target_metadata

    def compare(connection: Any) -> list[Any]:
        context = MigrationContext.configure(connection, opts=compare_options())
        return list(compare_metadata(context, target_metadata()))

    async with service.engine.connect() as connection:
        return await connection.run_sync(compare)


def history() -> list[tuple[str, str | None, str]]:
    """Every shipped revision, newest first: (revision, down_revision, message)."""
    rows = []
    for script in script_directory().walk_revisions():
        down = script.down_revision
        rows.append(
            (
                script.revision,
                down if isinstance(down, str) or down is None else ",".join(down),
                script.doc or "",
            )
        )
    return rows
