"""A cog's error handling with the guide's names ("Error Recovery", "Retry Logic").

:class:`CogErrorsMixin` is part of every :class:`~fish_bot.core.base_cog.BaseCog`:

* ``await self.handle_error(error)`` sets the error state (``self._has_errors``, shown in
  ``status``), logs the error with its traceback, then calls ``await self.attempt_recovery()``
  for a :class:`~fish_bot.exceptions.RecoverableError` and ``await self.cleanup_resources()``
  for anything else. Both hooks do nothing by default; a cog overrides them. A hook that fails
  is logged and recorded too (``handle_error`` itself does not raise).
* ``self.error_retry_delay`` and ``self.retry_delay``: seconds, read from the cog's settings
  of those names (declare them, e.g. with :data:`RETRY_SETTINGS`, to let a server change them),
  else :data:`DEFAULT_ERROR_RETRY_DELAY` and :data:`DEFAULT_RETRY_DELAY`.

This is a cog's own handling of errors in its background work; what a *user* sees when a
command fails is decided by the one error policy (:mod:`fish_bot.core.error_policy`).
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from fish_bot.exceptions import RecoverableError

__all__ = [
    "DEFAULT_ERROR_RETRY_DELAY",
    "DEFAULT_RETRY_DELAY",
    "RETRY_SETTINGS",
    "CogErrorsMixin",
]

#: Seconds a loop waits after a failed iteration when the cog declares no ``error_retry_delay``.
DEFAULT_ERROR_RETRY_DELAY = 60.0
#: Seconds between attempts of a retried operation when the cog declares no ``retry_delay``.
DEFAULT_RETRY_DELAY = 5.0

#: The two settings, ready to merge into a cog's ``settings_config``.
RETRY_SETTINGS: dict[str, tuple[Any, str, str]] = {
    "error_retry_delay": (
        int(DEFAULT_ERROR_RETRY_DELAY),
        "Seconds a background task waits after an error before it goes on",
        "time.seconds(0,3600)",
    ),
    "retry_delay": (
        int(DEFAULT_RETRY_DELAY),
        "Seconds between two attempts of an operation that is retried",
        "time.seconds(0,600)",
    ),
}


class CogErrorsMixin:
    """``handle_error`` with its recovery and cleanup hooks, and the retry delays."""

    if TYPE_CHECKING:
        logger: logging.Logger
        qualified_name: str

        def record_error(self, error: BaseException) -> None: ...

        def get_setting(
            self, name: str, default: Any = None, guild_id: int | None = None
        ) -> Any: ...

    @property
    def error_retry_delay(self) -> float:
        """Seconds to wait after an error before trying again (setting ``error_retry_delay``)."""
        return _seconds(self.get_setting("error_retry_delay"), DEFAULT_ERROR_RETRY_DELAY)

    @property
    def retry_delay(self) -> float:
        """Seconds between two attempts of a retried operation (setting ``retry_delay``)."""
        return _seconds(self.get_setting("retry_delay"), DEFAULT_RETRY_DELAY)

    async def handle_error(self, error: BaseException) -> None:
        """Handle errors with proper logging and state updates (the guide's "Error Recovery")."""
        self.record_error(error)
        self.logger.error("Error occurred in %s: %s", self.qualified_name, error, exc_info=error)
        hook = "attempt_recovery" if isinstance(error, RecoverableError) else "cleanup_resources"
        try:
            if hook == "attempt_recovery":
                await self.attempt_recovery()
            else:
                await self.cleanup_resources()
        except Exception as failure:
            self.record_error(failure)
            self.logger.error(
                "%s of %s failed after %s",
                hook,
                self.qualified_name,
                type(error).__name__,
                exc_info=failure,
            )

    async def attempt_recovery(self) -> None:
        """Hook: recover from a :class:`~fish_bot.exceptions.RecoverableError` (default:
        nothing). A recovery that succeeds may reset ``self._has_errors``."""

    async def cleanup_resources(self) -> None:
        """Hook: release what a failed operation left behind (default: nothing). The guide's
        version resets ``self._has_errors`` when the cleanup succeeds."""


def _seconds(value: Any, default: float) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0:
        return default
    return float(value)
