"""The Fish Bot error hierarchy.

Two families matter to the global error handler:

* :class:`UserFacingError` and its subclasses carry a message that is safe to show to a
  Discord user as it is.
* Anything else is a bug or an outage: the user sees a short apology with an error id, and the
  traceback goes to the log under the same id.
"""

from __future__ import annotations


class FishBotError(Exception):
    """Base class of every error Fish Bot raises on purpose."""


class UserFacingError(FishBotError):
    """An error whose message is fit to show to a user as it is."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class ConfigurationError(FishBotError):
    """The bot's configuration (environment, ``.env``, settings) is wrong."""


# --- permissions -------------------------------------------------------------------------


class PermissionDenied(UserFacingError):
    """A permission rule refused the command; ``rule`` names the layer that decided."""

    def __init__(self, message: str, *, rule: str = "") -> None:
        super().__init__(message)
        self.rule = rule


class ChannelUnauthorized(PermissionDenied):
    """The command may not be used in this channel."""


class UserUnauthorized(PermissionDenied):
    """The member may not use this command."""


# --- settings and data ---------------------------------------------------------------------


class SettingValidationError(UserFacingError):
    """A setting value broke one of its rules.

    ``setting`` is the setting's name (may be empty when a bare validator is used), ``rule`` the
    rule that refused the value, as written in ``settings_config``.
    """

    def __init__(self, message: str, *, setting: str = "", rule: str = "") -> None:
        self.setting = setting
        self.rule = rule
        self.reason = message
        text = message
        if setting:
            text = f"Setting '{setting}': {message}"
        if rule:
            text = f"{text} (rule: {rule})"
        super().__init__(text)

    def with_setting(self, setting: str) -> SettingValidationError:
        """Return a copy of this error that names ``setting``."""
        return SettingValidationError(self.reason, setting=setting, rule=self.rule)


class SettingsConfigError(FishBotError):
    """A cog's ``settings_config`` is malformed (raised when the cog is built)."""


class UnknownSettingError(UserFacingError):
    """A setting name that the cog does not declare."""


class DataCorruptError(FishBotError):
    """A cache-data file could not be parsed; it was quarantined."""


# --- database ------------------------------------------------------------------------------


class DatabaseError(FishBotError):
    """Base class of data-layer errors."""


class DatabaseUnavailable(DatabaseError):
    """The database could not be reached after the bounded retries."""


class DuplicateError(DatabaseError, UserFacingError):
    """A row with the same unique key already exists."""


class NotFoundError(DatabaseError, UserFacingError):
    """A row the operation needs does not exist (or a foreign key points at nothing)."""


class IntegrityViolation(DatabaseError, UserFacingError):
    """Another integrity rule (NOT NULL, CHECK) refused the write."""


# --- cog errors (the guide's "Error Recovery" and "Retry Logic") ----------------------------


class RecoverableError(FishBotError):
    """An error a cog can recover from: ``BaseCog.handle_error`` calls its
    ``attempt_recovery()`` hook (any other error gets ``cleanup_resources()``)."""


class RetryableError(RecoverableError):
    """An operation failed in a way that trying again may fix (the guide's retry loop waits
    ``self.retry_delay`` seconds between attempts)."""
