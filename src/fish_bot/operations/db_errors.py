"""Database errors as one line an operator can act on (``fish-bot doctor``, ``db``, ``settings``).

:func:`describe_database_error` walks an exception's chain (SQLAlchemy wraps the driver's
error, :class:`~fish_bot.exceptions.DatabaseUnavailable` wraps the last connection error) and
names what is wrong and where, without SQL, parameters or passwords::

    database `fish` does not exist on 127.0.0.1:5432: create it with `createdb -h 127.0.0.1
    -p 5432 -U postgres fish` (or CREATE DATABASE "fish";)
    the database server at 127.0.0.1:5433 is unreachable (connection refused): check
    FISHBOT_DATABASE_URL and that the server runs
"""

from __future__ import annotations

import errno
import re
import socket
from collections.abc import Iterator

from sqlalchemy.engine import URL, make_url

from fish_bot.exceptions import DatabaseUnavailable

_NO_DATABASE = re.compile(r'database "([^"]+)" does not exist')
_NO_ROLE = re.compile(r'role "([^"]+)" does not exist')


def _chain(error: BaseException) -> Iterator[BaseException]:
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        yield current
        current = current.__cause__ or current.__context__


def _where(url: URL | None) -> str:
    if url is None or not url.host:
        return "the database server"
    return f"{url.host}:{url.port or 5432}"


def _url(url: str | URL | None) -> URL | None:
    if url is None or isinstance(url, URL):
        return url
    try:
        return make_url(url)
    except Exception:
        return None


def _first_line(error: BaseException) -> str:
    text = str(error).strip()
    return text.splitlines()[0] if text else type(error).__name__


def describe_database_error(error: BaseException, url: str | URL | None = None) -> str | None:
    """One line saying what is wrong with the database and how to fix it; None: not a
    database or connection error."""
    found = database_problem(error, url)
    return None if found is None else f"{found[0]}: {found[1]}"


def database_problem(error: BaseException, url: str | URL | None = None) -> tuple[str, str] | None:
    """``(what is wrong, what to do)`` for a database or connection error, else None."""
    parsed = _url(url)
    where = _where(parsed)
    chain = list(_chain(error))
    names = {type(link).__name__ for link in chain}
    check = "check FISHBOT_DATABASE_URL and that the server runs"
    for link in chain:
        text = _first_line(link)
        missing = _NO_DATABASE.search(text)
        if missing:
            name = missing.group(1)
            user = parsed.username if parsed is not None and parsed.username else "postgres"
            host = parsed.host if parsed is not None and parsed.host else "localhost"
            port = (parsed.port if parsed is not None else None) or 5432
            return (
                f"database `{name}` does not exist on {host}:{port}",
                f"create it with `createdb -h {host} -p {port} -U {user} {name}` "
                f'(or CREATE DATABASE "{name}"; in psql)',
            )
        role = _NO_ROLE.search(text)
        if role:
            return (
                f"the database user `{role.group(1)}` does not exist on {where}",
                "check the user name in FISHBOT_DATABASE_URL",
            )
        if "password authentication failed" in text or type(link).__name__ in (
            "InvalidPasswordError",
        ):
            return (
                f"{where} refused the password",
                "check the password in FISHBOT_DATABASE_URL",
            )
    for link in chain:
        if isinstance(link, socket.gaierror):
            host = parsed.host if parsed is not None and parsed.host else "the host"
            return (
                f"cannot find the database host `{host}` (name not known)",
                "check the host in FISHBOT_DATABASE_URL",
            )
        if isinstance(link, ConnectionRefusedError) or (
            isinstance(link, OSError) and link.errno == errno.ECONNREFUSED
        ):
            return (f"the database server at {where} is unreachable (connection refused)", check)
        if isinstance(link, TimeoutError):
            return (f"the database server at {where} is unreachable (timed out)", check)
    if "unable to open database file" in " ".join(_first_line(link) for link in chain):
        path = parsed.database if parsed is not None else None
        named = f" {path}" if path else ""
        return (
            f"SQLite cannot open the database file{named}",
            "check that its folder exists and is writable (FISHBOT_DATA_DIR, FISHBOT_DATABASE_URL)",
        )
    if isinstance(error, DatabaseUnavailable):
        return (_first_line(error), check)
    sqlalchemy_error = next(
        (link for link in chain if type(link).__module__.startswith("sqlalchemy")), None
    )
    if sqlalchemy_error is not None or names & {"OperationalError", "InterfaceError"}:
        driver = chain[-1]
        return (
            f"the database at {where} failed: {type(driver).__name__}: {_first_line(driver)}",
            "check FISHBOT_DATABASE_URL",
        )
    return None
