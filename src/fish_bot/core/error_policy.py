"""The one error policy: what a user sees for any error, and what the bot does with it.

Prefix and hybrid commands, pure slash commands, components, views and modals, and the metrics
and Sentry hooks all ask this module. :data:`RULES` is an ordered table, the first rule that
matches the error (wrappers removed) decides:

* the **text** the user sees (clipped to Discord's 2,000 characters, never pinging anyone),
  followed by the command's usage for input errors;
* whether the error is **reported**: logged with its traceback under a new error id and
  dispatched as ``fishbot_error`` (metrics and Sentry); the user then sees an apology naming
  the id (DESIGN.md rule 5). Other rules log at most one line, without a traceback;
* its **metrics category** (``fishbot_command_errors_total{category=...}``): ``denied``,
  ``user``, ``database`` or ``unexpected``; None for an error that is not counted (an unknown
  command).

| rule | matches | the user sees | category |
|---|---|---|---|
| ``unknown_command`` | a prefix command that does not exist | nothing (see below) | none |
| ``denied`` | a permission rule refused | ``⛔`` and the rule's reason | denied |
| ``database`` | the database is unreachable | :data:`DATABASE_UNAVAILABLE` | database |
| ``user_facing`` | :class:`UserFacingError` | its message | user |
| ``conversion`` | a converter failed on the input | what is wrong, then the usage | user |
| ``bad_input`` | discord.py's input errors | what is wrong, then the usage | user |
| ``bad_option`` | a slash option that does not convert | what is wrong, then the usage | user |
| ``cooldown`` | a cooldown | when to try again | user |
| ``concurrency`` | the command is already running | to wait | user |
| ``disabled`` | a disabled command | that it is disabled | user |
| ``discord_check`` | discord.py's permission and owner checks | ``⛔`` and the reason | denied |
| ``check`` | any other check | ``⛔ You can't use this command here.`` | denied |
| ``unexpected`` | anything else (reported) | the apology with the error id | unexpected |

The policy says nothing to an unknown command; the help cog (``fish_bot.cogs.help``), which
listens to the same ``command_error`` event, is the one place that may answer it with the
closest commands ("did you mean"), under its own conditions and setting.

A failure *inside* a check (the database is down while the permission rules load) is wrapped in
:class:`CheckError` by the check, so discord.py hands it to the error handlers like any check
result; the policy looks through the wrapper and answers the real error.

The policy's helpers live beside it: :mod:`fish_bot.core.error_unwrap` (the real error behind
the wrappers, the refusal it carries), :mod:`fish_bot.core.database_outage` (whether an error
means the database is unreachable) and :mod:`fish_bot.core.error_replies` (sending the answer:
``send_reply``, ``send_interaction``). Their public names are importable from here too.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

import discord
from discord import app_commands
from discord.ext import commands

from fish_bot.core.database_outage import is_database_outage
from fish_bot.core.error_replies import send_interaction, send_reply
from fish_bot.core.error_unwrap import CheckError, denial_of, unwrap
from fish_bot.core.text import CONTENT_LIMIT, clip, plain
from fish_bot.exceptions import UserFacingError

if TYPE_CHECKING:
    from fish_bot.core.host import FishHost

__all__ = [
    "DATABASE_UNAVAILABLE",
    "ERROR_CATEGORIES",
    "MESSAGE_LIMIT",
    "RULES",
    "CheckError",
    "Outcome",
    "Rule",
    "Situation",
    "apology",
    "classify",
    "describe",
    "is_database_outage",
    "new_error_id",
    "report",
    "respond",
    "send_interaction",
    "send_reply",
    "unwrap",
]

log = logging.getLogger(__name__)

#: Discord refuses message content longer than this.
MESSAGE_LIMIT = CONTENT_LIMIT
#: At most this much of the user's input is quoted back in an error reply.
ECHO_LIMIT = 100

DATABASE_UNAVAILABLE = "The database is unavailable right now; try again in a moment."
GENERIC_DENIAL = "⛔ You can't use this command here."

DENIED = "denied"
USER = "user"
DATABASE = "database"
UNEXPECTED = "unexpected"
#: The metrics categories, in the order they are documented.
ERROR_CATEGORIES: tuple[str, ...] = (DENIED, USER, DATABASE, UNEXPECTED)


# --- texts -------------------------------------------------------------------------------------


def new_error_id() -> str:
    """A short id that ties a user's apology to the logged traceback."""
    return uuid.uuid4().hex[:8]


def apology(error_id: str) -> str:
    """What a user sees for an unexpected error."""
    return f"Sorry, something went wrong on our side (error id `{error_id}`). It has been logged."


def _echo(text: object) -> str:
    """User input quoted inside inline code: one line, no backticks, at most ECHO_LIMIT."""
    return plain(str(text), ECHO_LIMIT)


@dataclass(frozen=True)
class Situation:
    """Where the error happened, for the texts: the usage line and the argument being read."""

    usage: str | None = None
    argument: str | None = None
    parameter: str | None = None


def _denial_text(error: BaseException, _: Situation) -> str:
    denial = denial_of(error)
    return f"⛔ {denial.message if denial is not None else error}"


def _user_facing_text(error: BaseException, _: Situation) -> str:
    assert isinstance(error, UserFacingError)
    return error.message


def _conversion_text(_: BaseException, situation: Situation) -> str:
    name = situation.parameter or "value"
    argument = situation.argument
    if argument is not None and not argument.strip():
        return f"`{name}` can't be empty."
    if argument:
        return f"`{_echo(argument)}` is not a valid `{name}`."
    return f"That is not a valid `{name}`."


def _input_text(error: BaseException, situation: Situation) -> str:
    if isinstance(error, commands.MissingRequiredArgument):
        return f"Missing `{error.param.name}`."
    if isinstance(error, commands.TooManyArguments):
        return "Too many arguments."
    if isinstance(error, commands.BadFlagArgument):
        if isinstance(error.original, commands.UserInputError):
            return _input_text(error.original, situation)
        return f"`{_echo(error.argument)}` is not a valid value for `{error.flag.name}:`."
    if isinstance(error, commands.MissingRequiredFlag):
        return f"Missing `{error.flag.name}:`."
    if isinstance(
        error, commands.BadArgument | commands.BadUnionArgument | commands.ArgumentParsingError
    ):
        text = str(error)
        return text if len(text) < 300 else "That argument is not valid."
    return "That input is not valid."


def _option_text(error: BaseException, _: Situation) -> str:
    assert isinstance(error, app_commands.TransformerError)
    value = error.value
    if isinstance(value, discord.abc.User) and error.type is discord.AppCommandOptionType.user:
        return f"{value.mention} is not a member of this server."
    return f"That value is not valid: `{_echo(value)}`."


def _cooldown_text(error: BaseException, _: Situation) -> str:
    retry = getattr(error, "retry_after", 0.0)
    return f"Slow down: try again in {retry:.0f} s."


def _check_text(error: BaseException, _: Situation) -> str:
    text = str(error)
    return f"⛔ {text}" if text else GENERIC_DENIAL


def _fixed(text: str | None) -> Callable[[BaseException, Situation], str | None]:
    def render(_error: BaseException, _situation: Situation) -> str | None:
        return text

    return render


# --- the table ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Rule:
    """One row of the policy: which errors, what the user sees, what is logged and counted."""

    name: str
    matches: Callable[[BaseException], bool]
    category: str | None
    text: Callable[[BaseException, Situation], str | None]
    #: The command's usage follows the text (an input error).
    usage: bool = False
    #: Logged with a traceback under an error id, ``fishbot_error`` dispatched, apology shown.
    report: bool = False
    #: A one-line log record without traceback (None: not logged).
    log_level: int | None = None


def _is(*types: type[BaseException]) -> Callable[[BaseException], bool]:
    return lambda error: isinstance(error, types)


RULES: tuple[Rule, ...] = (
    Rule("unknown_command", _is(commands.CommandNotFound), None, _fixed(None)),
    Rule("denied", lambda error: denial_of(error) is not None, DENIED, _denial_text),
    Rule(
        "database",
        is_database_outage,
        DATABASE,
        _fixed(DATABASE_UNAVAILABLE),
        log_level=logging.WARNING,
    ),
    Rule("user_facing", _is(UserFacingError), USER, _user_facing_text),
    Rule("conversion", _is(commands.ConversionError), USER, _conversion_text, usage=True),
    Rule("bad_input", _is(commands.UserInputError), USER, _input_text, usage=True),
    Rule("bad_option", _is(app_commands.TransformerError), USER, _option_text, usage=True),
    Rule(
        "cooldown",
        _is(commands.CommandOnCooldown, app_commands.CommandOnCooldown),
        USER,
        _cooldown_text,
    ),
    Rule(
        "concurrency",
        _is(commands.MaxConcurrencyReached),
        USER,
        _fixed("This command is already running; wait until it finishes."),
    ),
    Rule("disabled", _is(commands.DisabledCommand), USER, _check_text),
    Rule(
        "discord_check",
        _is(
            commands.MissingPermissions,
            commands.BotMissingPermissions,
            commands.MissingRole,
            commands.MissingAnyRole,
            commands.NoPrivateMessage,
            commands.PrivateMessageOnly,
            commands.NotOwner,
            app_commands.MissingPermissions,
            app_commands.BotMissingPermissions,
            app_commands.MissingRole,
            app_commands.MissingAnyRole,
            app_commands.NoPrivateMessage,
            app_commands.CheckFailure,
        ),
        DENIED,
        _check_text,
    ),
    Rule("check", _is(commands.CheckFailure), DENIED, _fixed(GENERIC_DENIAL)),
    Rule("unexpected", lambda _error: True, UNEXPECTED, _fixed(None), report=True),
)


@dataclass(frozen=True)
class Outcome:
    """The policy's verdict on one error."""

    rule: Rule
    #: The error the rule matched (discord.py's wrappers removed).
    error: BaseException

    @property
    def category(self) -> str | None:
        return self.rule.category

    @property
    def report(self) -> bool:
        return self.rule.report


def classify(error: BaseException) -> Outcome:
    """The first rule of :data:`RULES` that matches ``error`` (after :func:`unwrap`)."""
    original = unwrap(error)
    for rule in RULES:
        if rule.matches(original):
            return Outcome(rule, original)
    raise AssertionError("the last rule matches everything")  # pragma: no cover


def describe(outcome: Outcome, situation: Situation | None = None) -> str | None:
    """The text of a non-reported outcome (None: say nothing), clipped to one message."""
    situation = situation or Situation()
    text = outcome.rule.text(outcome.error, situation)
    if text is None:
        return None
    if outcome.rule.usage and situation.usage:
        room = MESSAGE_LIMIT - len(text) - len("\nUsage: ``")
        if room > 10:
            usage = clip(situation.usage.replace("`", "'"), room)
            text = f"{text}\nUsage: `{usage}`"
    return clip(text, MESSAGE_LIMIT)


def report(host: FishHost, error: BaseException, where: str) -> str:
    """Log an unexpected error under a new error id; returns the apology a user sees.

    Dispatches ``fishbot_error`` (error id, error): the monitor counts it and sends it to
    Sentry with the error id as a tag.
    """
    error_id = new_error_id()
    log.error("Error %s in %s", error_id, where, exc_info=error)
    host.dispatch("fishbot_error", error_id, error)
    return apology(error_id)


def respond(
    host: FishHost,
    error: BaseException,
    *,
    where: str,
    situation: Situation | None = None,
) -> str | None:
    """Apply the policy to ``error``: log or report it, and return what the user sees.

    ``where`` names the place for the log ("command warn", "component example:press").
    Returns None when nothing is to be said (an unknown prefix command).
    """
    outcome = classify(error)
    if outcome.report:
        return report(host, outcome.error, where)
    if outcome.rule.log_level is not None:
        log.log(
            outcome.rule.log_level,
            "%s in %s: %s",
            outcome.rule.name,
            where,
            clip(f"{type(outcome.error).__name__}: {outcome.error}", 300),
        )
    return describe(outcome, situation)
