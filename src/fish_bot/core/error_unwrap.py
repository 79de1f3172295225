"""What an error really is, behind discord.py's wrappers: the error policy's first step.

:func:`unwrap` removes discord.py's wrappers (and :class:`CheckError`, the permission checks'
own wrapper of a failure inside a check); :func:`denial_of` finds the permission refusal an error
is or carries. The error policy (:mod:`fish_bot.core.error_policy`) matches its rules against
what :func:`unwrap` returns.
"""

from __future__ import annotations

from discord import app_commands
from discord.ext import commands

from fish_bot.core.database_outage import is_database_outage
from fish_bot.exceptions import PermissionDenied, UserFacingError

__all__ = ["CheckError", "denial_of", "unwrap"]


class CheckError(commands.CheckFailure, app_commands.CheckFailure):
    """A check failed with an error that is not a refusal (e.g. the database is down).

    Raised by the permission checks around the real error, so that discord.py passes it to the
    error handlers (a non-check exception raised by a check would escape them: no answer at all).
    """

    def __init__(self, original: BaseException) -> None:
        super().__init__(f"A check failed: {type(original).__name__}")
        self.original = original


_WRAPPERS: tuple[type[BaseException], ...] = (
    commands.HybridCommandError,
    commands.CommandInvokeError,
    app_commands.CommandInvokeError,
    CheckError,
)


def _explains_itself(error: BaseException) -> bool:
    """An error inside a converter that says more than "the value is not valid"."""
    return (
        isinstance(error, (UserFacingError, commands.CommandError))
        or denial_of(error) is not None
        or is_database_outage(error)
    )


def unwrap(error: BaseException) -> BaseException:
    """The real error behind discord.py's wrappers (and :class:`CheckError`).

    A converter or transformer that failed with an arbitrary exception (``int('②')``) stays a
    ``ConversionError`` / ``TransformerError``: the input was not valid. One that failed with a
    message, a refusal or an outage is unwrapped.
    """
    for _ in range(8):
        inner: BaseException | None
        if isinstance(error, commands.ConversionError):
            inner = error.original
        elif isinstance(error, app_commands.TransformerError):
            inner = error.__cause__
        elif isinstance(error, _WRAPPERS):
            inner = getattr(error, "original", None)
            if inner is None:
                break
            error = inner
            continue
        else:
            break
        if inner is None or not _explains_itself(inner):
            break
        error = inner
    return error


def denial_of(error: BaseException) -> PermissionDenied | None:
    """The permission refusal an error is or carries (the cogs' check failures carry one)."""
    if isinstance(error, PermissionDenied):
        return error
    denial = getattr(error, "denial", None)
    return denial if isinstance(denial, PermissionDenied) else None
