"""``fish-bot doctor``: check that this installation can run, and say what to fix.

Each check gives a :class:`Check` (ok or not, what was found, what to do). The command prints
them as a table and exits 0 only when every check passed.

Doctor works offline and changes nothing: it does not ask Discord (the token's format is
checked, not the token itself, and each row says what was not verified), and it creates no
file or folder: a data folder, log folder or SQLite database that does not exist yet is
reported as "created at start-up", writability is read from the permissions, and an existing
SQLite file is opened read-only (``immutable`` when no write-ahead log is present, so that not
even ``-wal``/``-shm`` files appear). Database errors are one line naming the database and the
host, with the fix (:mod:`fish_bot.operations.db_errors`).
"""

from __future__ import annotations

import asyncio
import os
import socket
import sqlite3
import time
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.engine import make_url

from fish_bot.config import Settings, load_settings
from fish_bot.exceptions import ConfigurationError


@dataclass(frozen=True)
class Check:
    name: str
    ok: bool
    detail: str
    fix: str = ""


def check_settings() -> tuple[Check, Settings | None]:
    try:
        settings = load_settings()
    except ConfigurationError as error:
        return Check("Configuration", False, str(error), "Correct the variable named above."), None
    return Check("Configuration", True, "settings load (environment and .env)"), settings


def check_token(settings: Settings) -> Check:
    problem = settings.token_problem()
    if problem is None:
        return Check(
            "Discord token",
            True,
            "token format ok; not checked against Discord (doctor works offline)",
        )
    separator = ": " if ": " in problem else ". "
    detail, _, fix = problem.partition(separator)
    fix = fix[:1].upper() + fix[1:]
    return Check("Discord token", False, detail, fix or problem)


def _migration_state(settings: Settings, current: str | None) -> Check:
    from fish_bot.database import migrations

    head = migrations.head_revision()
    auto = settings.migrate_on_start
    if current == head:
        return Check("Migrations", True, f"at the newest revision ({head})")
    if current is None:
        if auto:
            return Check("Migrations", True, "empty database: created at start-up")
        return Check(
            "Migrations", False, f"empty database (newest is {head})", "Run `fish-bot db upgrade`."
        )
    if not _known(current):
        return Check(
            "Migrations",
            False,
            f"at {current}, which this Fish Bot does not know (a newer version wrote it)",
            "Upgrade Fish Bot, or restore a backup made by this version.",
        )
    if auto:
        return Check("Migrations", True, f"at {current}; upgraded to {head} at start-up")
    return Check(
        "Migrations",
        False,
        f"at {current}, newest is {head} (FISHBOT_MIGRATE_ON_START is off)",
        "Run `fish-bot db upgrade`.",
    )


def read_sqlite_revision(path: Path) -> str | None:
    """The revision of a SQLite file, read without writing anything. Blocking.

    Without a write-ahead log beside it (no bot has it open) the file is opened ``immutable``:
    SQLite then creates no ``-wal``/``-shm`` file. With one, read-only (they exist already).
    """
    wal = path.with_name(path.name + "-wal")
    mode = "mode=ro" if wal.exists() else "immutable=1"
    connection = sqlite3.connect(f"{path.resolve().as_uri()}?{mode}", uri=True)
    try:
        try:
            row = connection.execute("SELECT version_num FROM alembic_version").fetchone()
        except sqlite3.OperationalError as error:
            if "no such table" in str(error):
                return None
            raise
        return str(row[0]) if row else None
    finally:
        connection.close()


async def _check_sqlite(settings: Settings, path: Path) -> list[Check]:
    if not await asyncio.to_thread(path.exists):
        return [
            Check("Database", True, f"SQLite {path}: no file yet, created at start-up"),
            _migration_state(settings, None),
        ]
    started = time.perf_counter()
    try:
        current = await asyncio.to_thread(read_sqlite_revision, path)
    except sqlite3.DatabaseError as error:
        return [
            Check(
                "Database",
                False,
                f"SQLite {path} cannot be read: {error}",
                "Restore a backup (`fish-bot db restore`), or move the file away.",
            )
        ]
    latency = round((time.perf_counter() - started) * 1000, 1)
    return [
        Check("Database", True, f"SQLite {path} (read-only check, {latency} ms)"),
        _migration_state(settings, current),
    ]


async def check_database(settings: Settings) -> list[Check]:
    """Reachability, then the migration state (current revision against the newest)."""
    from fish_bot.database import migrations
    from fish_bot.database.service import DatabaseService
    from fish_bot.operations.db_errors import database_problem

    url = make_url(settings.effective_database_url)
    if url.get_backend_name() == "sqlite":
        database = url.database or ""
        if database and database != ":memory:" and not database.startswith("file:"):
            return await _check_sqlite(settings, Path(database))
    service = DatabaseService.from_settings(settings)
    service.connect_retries = min(service.connect_retries, 1)
    try:
        await service.connect()
        try:
            health = await service.health()
            current = await migrations.current_revision(service)
        finally:
            await service.disconnect()
    except Exception as error:
        problem, fix = database_problem(error, url) or (
            f"{service.safe_url()}: {type(error).__name__}: {error}",
            "check FISHBOT_DATABASE_URL",
        )
        return [Check("Database", False, problem, fix[:1].upper() + fix[1:] + ".")]
    ok = bool(health.get("ok"))
    latency = f", {health['latency_ms']} ms" if "latency_ms" in health else ""
    reach = Check(
        "Database", ok, service.safe_url() + latency, "" if ok else "Check FISHBOT_DATABASE_URL."
    )
    return [reach, _migration_state(settings, current)]


def _known(revision: str) -> bool:
    from fish_bot.database import migrations

    return any(s.revision == revision for s in migrations.script_directory().walk_revisions())


def _writable(directory: Path) -> bool:
    return os.access(directory, os.W_OK | os.X_OK)


def folder_state(directory: Path) -> tuple[bool, str]:
    """Whether ``directory`` is (or could be made) writable, and what was found. Blocking.

    Nothing is written: permissions are read. A missing folder is judged by its nearest
    existing parent, where start-up would create it.
    """
    if directory.is_dir():
        if _writable(directory):
            return True, f"{directory.resolve()} (writable)"
        return False, f"{directory}: not writable by this user"
    if directory.exists():
        return False, f"{directory}: exists and is not a folder"
    parent = directory.parent
    while not parent.exists() and parent != parent.parent:
        parent = parent.parent
    if not parent.is_dir():
        return False, f"{directory}: cannot be created ({parent} is not a folder)"
    if not _writable(parent):
        return False, f"{directory}: cannot be created ({parent} is not writable)"
    return True, f"{directory.absolute()}: does not exist yet, created at start-up"


async def check_data_dir(settings: Settings) -> Check:
    directory = Path(settings.data_dir)
    ok, detail = await asyncio.to_thread(folder_state, directory)
    if ok:
        return Check("Data folder", True, detail)
    return Check(
        "Data folder",
        False,
        detail,
        "Set FISHBOT_DATA_DIR to a folder this user can write, or fix its permissions.",
    )


def check_health_port(settings: Settings) -> Check:
    from fish_bot.operations.lock import running_bot

    if settings.health_port is None:
        return Check("Health endpoint", True, "off (FISHBOT_HEALTH_PORT not set)")
    if settings.health_port == 0:
        return Check("Health endpoint", True, f"{settings.health_host}, any free port")
    where = f"{settings.health_host}:{settings.health_port}"
    try:
        infos = socket.getaddrinfo(
            settings.health_host, settings.health_port, type=socket.SOCK_STREAM
        )
    except OSError as error:
        return Check("Health endpoint", False, f"{where}: {error}", "Fix FISHBOT_HEALTH_HOST.")
    family, kind, proto, _name, address = infos[0]
    with socket.socket(family, kind, proto) as sock:
        if os.name != "nt":
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(address)
        except OSError as error:
            running = running_bot(Path(settings.data_dir))
            if running is not None:
                return Check("Health endpoint", True, f"{where} in use by the running bot")
            return Check(
                "Health endpoint",
                False,
                f"{where} is not free: {error.strerror or error}",
                "Choose another FISHBOT_HEALTH_PORT, or stop what listens there.",
            )
    return Check("Health endpoint", True, f"{where} is free")


def check_sentry(settings: Settings) -> Check:
    from fish_bot.monitoring.sentry import sentry_installed

    if not settings.sentry_dsn:
        return Check("Sentry", True, "off (SENTRY_DSN not set)")
    if not sentry_installed():
        return Check(
            "Sentry",
            False,
            "SENTRY_DSN is set but sentry-sdk is not installed",
            "Install the extra: `uv sync --extra sentry`.",
        )
    return Check("Sentry", True, "SENTRY_DSN set, sentry-sdk installed")


DJANGO_MIGRATE_FIX = "Run the Django project's migrations (`python manage.py migrate`)."


def check_django(settings: Settings) -> Check:
    """The Django bridge: the settings module imports, Django sets up, its database answers
    and has every migration of the project applied. Blocking; creates nothing (an SQLite file
    is opened read-only, as the bot's own)."""
    from fish_bot.core.django import DjangoUnavailable, setup_django

    module = settings.django_settings_module
    if not module:
        return Check("Django", True, "off (FISHBOT_DJANGO_SETTINGS_MODULE not set)")
    try:
        setup_django(module)
    except DjangoUnavailable as error:
        return Check(
            "Django",
            False,
            str(error),
            "Set FISHBOT_DJANGO_SETTINGS_MODULE to the Django project's settings module "
            "(importable from here), with the 'django' extra installed.",
        )
    from django.db import connections

    connection = connections["default"]
    vendor = connection.vendor
    name = str(connection.settings_dict.get("NAME") or "")
    try:
        if vendor == "sqlite" and name != ":memory:" and not name.startswith("file:"):
            path = Path(name)
            if not path.exists():
                return Check(
                    "Django",
                    False,
                    f"{module}: the SQLite database {path} does not exist",
                    DJANGO_MIGRATE_FIX,
                )
            applied = _sqlite_django_migrations(path)
            where = f"SQLite {path} (read-only check)"
        else:
            applied = _django_migrations(connection)
            where = f"{vendor} database {name}".strip()
    except Exception as error:
        return Check(
            "Django",
            False,
            f"{module}: the database does not answer: {type(error).__name__}: {error}",
            "Check DATABASES in the Django settings.",
        )
    pending = _pending_django_migrations(applied)
    if pending:
        shown = ", ".join(pending[:3]) + (", ..." if len(pending) > 3 else "")
        return Check(
            "Django",
            False,
            f"{module}: {where}; {len(pending)} Django migration(s) not applied ({shown})",
            DJANGO_MIGRATE_FIX,
        )
    return Check("Django", True, f"{module}: {where}, every migration applied")


def _sqlite_django_migrations(path: Path) -> set[tuple[str, str]]:
    wal = path.with_name(path.name + "-wal")
    mode = "mode=ro" if wal.exists() else "immutable=1"
    connection = sqlite3.connect(f"{path.resolve().as_uri()}?{mode}", uri=True)
    try:
        try:
            rows = connection.execute("SELECT app, name FROM django_migrations").fetchall()
        except sqlite3.OperationalError as error:
            if "no such table" in str(error):
                return set()
            raise
        return {(str(app), str(name)) for app, name in rows}
    finally:
        connection.close()


def _django_migrations(connection: object) -> set[tuple[str, str]]:
    """Applied migrations read through Django's own connection (closed afterwards)."""
    from django.db.migrations.recorder import MigrationRecorder

    try:
        return set(MigrationRecorder(connection).applied_migrations())
    finally:
        connection.close()  # type: ignore[attr-defined]


def _pending_django_migrations(applied: set[tuple[str, str]]) -> list[str]:
    """The project's migrations (from its files) that are not in ``applied``."""
    from django.db.migrations.loader import MigrationLoader

    loader = MigrationLoader(None, ignore_no_migrations=True)
    pending = []
    for key in sorted(loader.graph.nodes):
        if key in applied:
            continue
        replaces = getattr(loader.graph.nodes[key], "replaces", None) or []
        if replaces and all(tuple(item) in applied for item in replaces):
            continue  # a squashed migration whose originals are applied
        pending.append(f"{key[0]}.{key[1]}")
    return pending


def check_log_file(settings: Settings) -> Check | None:
    if settings.log_file is None:
        return None
    path = Path(settings.log_file)
    if path.is_file():
        ok = os.access(path, os.W_OK)
        detail = f"{path} ({'writable' if ok else 'not writable by this user'})"
    else:
        ok, detail = folder_state(path.parent)
        detail = f"{path}: folder {detail}"
    if ok:
        return Check("Log file", True, detail)
    return Check("Log file", False, detail, "Set FISHBOT_LOG_FILE to a path in a writable folder.")


def check_running(settings: Settings) -> Check:
    from fish_bot.operations.lock import running_bot

    info = running_bot(Path(settings.data_dir))
    if info is None:
        return Check("Running bot", True, "none on this data folder")
    return Check("Running bot", True, f"running ({info.describe()})")


async def run_checks() -> list[Check]:
    """Every check, in order; those that need settings are skipped when they do not load."""
    config, settings = check_settings()
    checks = [config]
    if settings is None:
        return checks
    checks.append(check_token(settings))
    checks.append(await check_data_dir(settings))  # before the database: SQLite lives there
    checks.extend(await check_database(settings))
    log_file = await asyncio.to_thread(check_log_file, settings)
    if log_file is not None:
        checks.append(log_file)
    checks.append(check_health_port(settings))
    checks.append(check_sentry(settings))
    checks.append(await asyncio.to_thread(check_django, settings))
    checks.append(check_running(settings))
    return checks
