"""Points discord.py at the loopback fake Discord (bench/loopback/fake_discord.py).

Put this folder on ``PYTHONPATH`` and set ``FISHBOT_LOOPBACK_API`` (``http://host:port/api/v10``)
and ``FISHBOT_LOOPBACK_GATEWAY`` (``ws://host:port/gateway``): every Python process started then
sends its Discord REST requests and its gateway connection there. The bot process itself is not
changed.

``FISHBOT_LOOPBACK_DB_STATS=<file>`` also counts the database round trips of the process with
SQLAlchemy events (statements by verb, BEGIN, COMMIT, ROLLBACK and pool pre-pings; a COMMIT
with no open driver transaction apart, as COMMIT_NOOP), and writes
them as JSON to ``<file>`` whenever the process gets SIGUSR1. ``FISHBOT_LOOPBACK_PROFILE=<file>``:
SIGUSR2 starts cProfile, the next SIGUSR2 writes its stats to ``<file>``.
"""

from __future__ import annotations

import os

_API = os.environ.get("FISHBOT_LOOPBACK_API")
_GATEWAY = os.environ.get("FISHBOT_LOOPBACK_GATEWAY")
_STATS = os.environ.get("FISHBOT_LOOPBACK_DB_STATS")
_PROFILE = os.environ.get("FISHBOT_LOOPBACK_PROFILE")


def _point_discord() -> None:
    import discord.gateway
    import discord.http
    import yarl

    discord.http.Route.BASE = str(_API)
    discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(str(_GATEWAY))


def _count_database() -> None:
    import json
    import signal

    from sqlalchemy import event
    from sqlalchemy.engine import Engine
    from sqlalchemy.engine.default import DefaultDialect

    counts: dict[str, int] = {}

    def bump(key: str) -> None:
        counts[key] = counts.get(key, 0) + 1

    def before(conn, cursor, statement, parameters, context, executemany):  # type: ignore[no-untyped-def]
        verb = statement.lstrip().split(None, 1)[0].upper() if statement.strip() else "?"
        bump(verb)

    def begin(conn):  # type: ignore[no-untyped-def]
        # On PostgreSQL the driver sends BEGIN itself (not through a cursor) unless the
        # connection autocommits; SQLite's BEGIN is a statement counted above.
        if conn.dialect.name != "sqlite":
            level = conn.get_execution_options().get("isolation_level")
            if level != "AUTOCOMMIT":
                bump("BEGIN")

    event.listen(Engine, "before_cursor_execute", before)
    event.listen(Engine, "begin", begin)

    def open_transaction(conn):  # type: ignore[no-untyped-def]
        # Whether the driver has a transaction to end: a COMMIT of an autocommit statement
        # sends nothing to the database (SQLite's commit() is a no-op then; asyncpg's adapter
        # skips it), so it is counted apart, as COMMIT_NOOP.
        raw = conn.connection.dbapi_connection
        if conn.dialect.name == "sqlite":
            inner = getattr(raw, "_connection", None)
            return bool(getattr(inner, "in_transaction", True))
        return getattr(raw, "_transaction", True) is not None

    event.listen(
        Engine,
        "commit",
        lambda conn: bump("COMMIT" if open_transaction(conn) else "COMMIT_NOOP"),
    )
    event.listen(
        Engine,
        "rollback",
        lambda conn: bump("ROLLBACK" if open_transaction(conn) else "ROLLBACK_NOOP"),
    )

    original_ping = DefaultDialect._do_ping_w_event

    def counted_ping(self, dbapi_connection):  # type: ignore[no-untyped-def]
        bump("PING")
        return original_ping(self, dbapi_connection)

    DefaultDialect._do_ping_w_event = counted_ping  # type: ignore[method-assign]

    def dump(signum, frame):  # type: ignore[no-untyped-def]
        from pathlib import Path

        path = Path(str(_STATS))
        temporary = path.with_name(path.name + ".tmp")
        temporary.write_text(json.dumps(counts), encoding="utf-8")
        temporary.replace(path)

    signal.signal(signal.SIGUSR1, dump)


def _profile_on_signal() -> None:
    """SIGUSR2 starts cProfile; the next SIGUSR2 stops it and writes the stats to the file."""
    import cProfile
    import signal

    profiler = cProfile.Profile()
    running = False

    def toggle(signum, frame):  # type: ignore[no-untyped-def]
        nonlocal running
        if running:
            profiler.disable()
            profiler.dump_stats(str(_PROFILE))
        else:
            profiler.enable()
        running = not running

    signal.signal(signal.SIGUSR2, toggle)


if _API and _GATEWAY:
    _point_discord()
if _STATS:
    _count_database()
if _PROFILE:
    _profile_on_signal()
