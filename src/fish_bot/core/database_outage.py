"""Whether an error means "the database is unreachable right now".

The error policy's ``database`` rule asks :func:`is_database_outage`, and so do the features
that must tell an outage from any other failure (a moderation action refused because nothing can
be recorded, an automod listener that skips a message): the data layer's
:class:`~fish_bot.exceptions.DatabaseUnavailable` and the SQLAlchemy and driver errors that mean
the same, recognised without importing a driver.
"""

from __future__ import annotations

from sqlalchemy import exc as sa_exc

from fish_bot.exceptions import DatabaseUnavailable

__all__ = ["is_database_outage"]

#: Words of a driver's message that mean the database cannot be reached right now.
_OUTAGE_WORDS = (
    "connection",
    "could not connect",
    "timeout",
    "timed out",
    "too many clients",
    "the database system is starting up",
    "the database system is shutting down",
    "server closed",
    "terminating connection",
    "unable to open database",
    "database is locked",
)
#: asyncpg's (and others') exception classes for the same, by name: no driver import needed.
_OUTAGE_DRIVER_ERRORS = frozenset(
    {
        "CannotConnectNowError",
        "TooManyConnectionsError",
        "ConnectionDoesNotExistError",
        "ConnectionFailureError",
        "ConnectionRejectionError",
        "AdminShutdownError",
        "CrashShutdownError",
    }
)


def is_database_outage(error: BaseException) -> bool:
    """Whether ``error`` means "the database is unreachable right now".

    :class:`DatabaseUnavailable` (raised by the data layer after its bounded retries), and the
    SQLAlchemy and driver errors that mean the same: a connection lost or refused, the pool
    exhausted, SQLite locked past its busy timeout or its file not openable.
    """
    candidates = [error]
    orig = getattr(error, "orig", None)
    if isinstance(orig, BaseException):
        candidates.append(orig)
    for candidate in candidates:
        if isinstance(candidate, DatabaseUnavailable):
            return True
        if isinstance(candidate, sa_exc.TimeoutError):  # no pool connection in time
            return True
        if isinstance(candidate, sa_exc.DBAPIError):
            if candidate.connection_invalidated or isinstance(candidate, sa_exc.InterfaceError):
                return True
            if isinstance(candidate, sa_exc.OperationalError):
                text = str(candidate.orig if candidate.orig is not None else candidate).lower()
                if any(word in text for word in _OUTAGE_WORDS):
                    return True
        if type(candidate).__name__ in _OUTAGE_DRIVER_ERRORS:
            return True
    return False
