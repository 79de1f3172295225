"""``fish-bot doctor``: check that this installation can run, and say what to fix.

Each check gives a :class:`Check` (ok or not, what was found, what to do). The command prints
them as a table and exits 0 only when every check passed.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import secrets
import socket
from dataclasses import dataclass
from pathlib import Path

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
        return Check("Discord token", True, "DISCORD_TOKEN is set and looks like a bot token")
    separator = ": " if ": " in problem else ". "
    detail, _, fix = problem.partition(separator)
    fix = fix[:1].upper() + fix[1:]
    return Check("Discord token", False, detail, fix or problem)


async def check_database(settings: Settings) -> list[Check]:
    """Reachability, then the migration state (current revision against the newest)."""
    from fish_bot.database import migrations
    from fish_bot.database.service import DatabaseService

    service = DatabaseService.from_settings(settings)
    service.connect_retries = min(service.connect_retries, 1)
    try:
        await service.connect()
    except Exception as error:
        return [
            Check(
                "Database",
                False,
                f"{service.safe_url()}: {error}",
                "Check FISHBOT_DATABASE_URL and that the database server runs.",
            )
        ]
    try:
        health = await service.health()
        reach = Check(
            "Database",
            bool(health.get("ok")),
            service.safe_url() + (f", {health['latency_ms']} ms" if "latency_ms" in health else ""),
            "" if health.get("ok") else "Check FISHBOT_DATABASE_URL.",
        )
        current = await migrations.current_revision(service)
    except Exception as error:
        return [Check("Database", False, str(error), "Check FISHBOT_DATABASE_URL.")]
    finally:
        await service.disconnect()
    head = migrations.head_revision()
    auto = settings.migrate_on_start
    if current == head:
        state = Check("Migrations", True, f"at the newest revision ({head})")
    elif current is None:
        state = Check(
            "Migrations",
            auto,
            f"empty database (newest is {head})",
            "" if auto else "Run `fish-bot db upgrade`.",
        )
        if auto:
            state = Check("Migrations", True, "empty database: created at start-up")
    elif not _known(current):
        state = Check(
            "Migrations",
            False,
            f"at {current}, which this Fish Bot does not know (a newer version wrote it)",
            "Upgrade Fish Bot, or restore a backup made by this version.",
        )
    elif auto:
        state = Check("Migrations", True, f"at {current}; upgraded to {head} at start-up")
    else:
        state = Check(
            "Migrations",
            False,
            f"at {current}, newest is {head} (FISHBOT_MIGRATE_ON_START is off)",
            "Run `fish-bot db upgrade`.",
        )
    return [reach, state]


def _known(revision: str) -> bool:
    from fish_bot.database import migrations

    return any(s.revision == revision for s in migrations.script_directory().walk_revisions())


def probe_directory(directory: Path) -> None:
    """Create ``directory`` if needed, then write, fsync and delete a probe file. Blocking."""
    directory.mkdir(parents=True, exist_ok=True)
    probe = directory / f".fishbot-doctor-{secrets.token_hex(4)}"
    try:
        with probe.open("x", encoding="utf-8") as handle:
            handle.write("probe")
            handle.flush()
            os.fsync(handle.fileno())
    finally:
        with contextlib.suppress(FileNotFoundError):
            probe.unlink()


async def check_data_dir(settings: Settings) -> Check:
    directory = Path(settings.data_dir)
    existed = await asyncio.to_thread(directory.is_dir)
    try:
        await asyncio.to_thread(probe_directory, directory)
    except OSError as error:
        return Check(
            "Data folder",
            False,
            f"{directory}: {error.strerror or error}",
            "Set FISHBOT_DATA_DIR to a folder this user can write, or fix its permissions.",
        )
    note = "writable" if existed else "created, writable"
    full = await asyncio.to_thread(directory.resolve)
    return Check("Data folder", True, f"{full} ({note})")


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


def check_log_file(settings: Settings) -> Check | None:
    if settings.log_file is None:
        return None
    folder = Path(settings.log_file).parent
    try:
        probe_directory(folder)
    except OSError as error:
        return Check(
            "Log file",
            False,
            f"{settings.log_file}: {error.strerror or error}",
            "Set FISHBOT_LOG_FILE to a path in a writable folder.",
        )
    return Check("Log file", True, f"{settings.log_file} (folder writable)")


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
    checks.append(check_running(settings))
    return checks
