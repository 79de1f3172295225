"""The error policy's table: each kind of error, what the user sees, what is logged and counted."""

from __future__ import annotations

import logging
from typing import Any

import discord
import pytest
from discord import app_commands
from discord.ext import commands
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import exc as sa_exc

from fish_bot.core import error_policy
from fish_bot.core.base_cog import AppPermissionCheckFailure, PermissionCheckFailure
from fish_bot.core.converters import ModuleName, parse_decimal, parse_snowflake
from fish_bot.core.database_outage import is_database_outage
from fish_bot.core.error_policy import (
    DATABASE_UNAVAILABLE,
    MESSAGE_LIMIT,
    RULES,
    Situation,
    classify,
    describe,
    respond,
)
from fish_bot.core.error_unwrap import CheckError
from fish_bot.exceptions import (
    DatabaseUnavailable,
    DuplicateError,
    PermissionDenied,
    UserFacingError,
    UserUnauthorized,
)
from fish_bot.monitoring.metrics import classify_error
from fish_bot.monitoring.sentry import SPAN_STATUS


class Host:
    """Stands in for the bot: records what the policy dispatches."""

    def __init__(self) -> None:
        self.dispatched: list[tuple[str, tuple[Any, ...]]] = []

    def dispatch(self, event_name: str, /, *args: Any, **kwargs: Any) -> None:
        self.dispatched.append((event_name, args))


def answer(error: BaseException, **situation: Any) -> str | None:
    return describe(classify(error), Situation(**situation))


class _Param:
    name = "member"


def test_the_table_has_one_rule_per_name_and_ends_with_the_catch_all() -> None:
    names = [rule.name for rule in RULES]
    assert len(names) == len(set(names))
    assert names[-1] == "unexpected" and RULES[-1].report
    assert [rule.name for rule in RULES if rule.report] == ["unexpected"]
    assert {rule.category for rule in RULES} - {None} == set(error_policy.ERROR_CATEGORIES)


@pytest.mark.parametrize(
    ("error", "rule", "category", "text"),
    [
        (commands.CommandNotFound(), "unknown_command", None, None),
        (UserUnauthorized("You need rank 5."), "denied", "denied", "⛔ You need rank 5."),
        (
            PermissionCheckFailure(PermissionDenied("Not here.")),
            "denied",
            "denied",
            "⛔ Not here.",
        ),
        (
            AppPermissionCheckFailure(PermissionDenied("Not here.")),
            "denied",
            "denied",
            "⛔ Not here.",
        ),
        (DatabaseUnavailable("pool closed"), "database", "database", DATABASE_UNAVAILABLE),
        (UserFacingError("Pick a role."), "user_facing", "user", "Pick a role."),
        (DuplicateError("That tag exists."), "user_facing", "user", "That tag exists."),
        (commands.TooManyArguments(), "bad_input", "user", "Too many arguments."),
        (commands.BadArgument("No."), "bad_input", "user", "No."),
        (commands.BadArgument("x" * 400), "bad_input", "user", "That argument is not valid."),
        (
            commands.MaxConcurrencyReached(1, commands.BucketType.default),
            "concurrency",
            "user",
            "This command is already running; wait until it finishes.",
        ),
        (commands.NotOwner("You do not own this bot."), "discord_check", "denied", None),
        (commands.CheckFailure(), "check", "denied", "⛔ You can't use this command here."),
        (
            app_commands.CheckFailure(),
            "discord_check",
            "denied",
            "⛔ You can't use this command here.",
        ),
        (RuntimeError("secret"), "unexpected", "unexpected", None),
    ],
)
def test_each_rule(error: BaseException, rule: str, category: str | None, text: str | None) -> None:
    outcome = classify(error)
    assert outcome.rule.name == rule
    assert outcome.category == category
    if text is not None:
        assert describe(outcome) == text


def test_wrappers_are_looked_through() -> None:
    inner = DatabaseUnavailable("down")
    for wrapped in (
        commands.CommandInvokeError(inner),
        commands.HybridCommandError(app_commands.CommandInvokeError(_command(), inner)),
        CheckError(inner),
        commands.CommandInvokeError(CheckError(inner)),
    ):
        outcome = classify(wrapped)
        assert outcome.rule.name == "database" and outcome.error is inner


def _command() -> app_commands.Command[Any, ..., Any]:
    async def callback(interaction: Any) -> None:  # pragma: no cover - never called
        return None

    return app_commands.Command(name="x", description="x", callback=callback)


def test_a_check_that_failed_with_a_bug_is_unexpected() -> None:
    outcome = classify(CheckError(KeyError("rules")))
    assert outcome.rule.name == "unexpected" and isinstance(outcome.error, KeyError)


def test_a_converter_that_raised_is_a_usage_message() -> None:
    error = commands.ConversionError(commands.MemberConverter(), ValueError("Cannot pass empty"))
    assert classify(error).rule.name == "conversion"
    usage = "!warn <member> <reason>"
    assert answer(error, usage=usage, argument="", parameter="member") == (
        f"`member` can't be empty.\nUsage: `{usage}`"
    )
    assert answer(error, usage=usage, argument="a`b", parameter="member") == (
        f"`a'b` is not a valid `member`.\nUsage: `{usage}`"
    )
    # A converter that says why (or meets an outage) is answered with that.
    assert answer(commands.ConversionError(ModuleName(), UserFacingError("Why."))) == "Why."
    outage = commands.ConversionError(ModuleName(), DatabaseUnavailable("x"))
    assert answer(outage) == DATABASE_UNAVAILABLE


def test_a_transformer_error_shows_the_value_not_its_repr() -> None:
    error = app_commands.TransformerError("②", discord.AppCommandOptionType.string, _Digits())
    error.__cause__ = ValueError("invalid literal")
    assert answer(error, usage="/digits <number>") == (
        "That value is not valid: `②`.\nUsage: `/digits <number>`"
    )
    explained = app_commands.TransformerError("x", discord.AppCommandOptionType.string, _Digits())
    explained.__cause__ = commands.BadArgument("`x` is not a case number.")
    assert answer(explained) == "`x` is not a case number."


class _Digits(app_commands.Transformer):
    async def transform(self, interaction: Any, value: Any, /) -> Any:  # pragma: no cover
        return int(value)


@pytest.mark.parametrize(
    "error",
    [
        DatabaseUnavailable("x"),
        sa_exc.OperationalError("SELECT 1", {}, ConnectionRefusedError("connection refused")),
        sa_exc.OperationalError("SELECT 1", {}, Exception("database is locked")),
        sa_exc.OperationalError("SELECT 1", {}, Exception("unable to open database file")),
        sa_exc.InterfaceError("SELECT 1", {}, Exception("connection is closed")),
        sa_exc.DBAPIError("SELECT 1", {}, Exception("gone"), connection_invalidated=True),
        sa_exc.TimeoutError("QueuePool limit of size 5 overflow 10 reached"),
        type("CannotConnectNowError", (Exception,), {})("the database system is starting up"),
    ],
)
def test_database_outages(error: BaseException) -> None:
    assert is_database_outage(error)
    assert classify(commands.CommandInvokeError(error)).category == "database"


@pytest.mark.parametrize(
    "error",
    [
        sa_exc.OperationalError("SELECT 1", {}, Exception("no such table: cases")),
        sa_exc.ProgrammingError("SELECT 1", {}, Exception("syntax error")),
        ConnectionRefusedError("an HTTP call, not the database"),
        RuntimeError("connection"),
    ],
)
def test_not_outages(error: BaseException) -> None:
    assert not is_database_outage(error)
    assert classify(error).category == "unexpected"


def test_respond_reports_only_the_unexpected(caplog: pytest.LogCaptureFixture) -> None:
    host = Host()
    with caplog.at_level(logging.INFO, logger="fish_bot.core.error_policy"):
        text = respond(host, RuntimeError("boom"), where="command x")
    assert text is not None and text.startswith("Sorry, something went wrong on our side")
    [(event, (error_id, error))] = host.dispatched
    assert event == "fishbot_error" and f"`{error_id}`" in text and isinstance(error, RuntimeError)
    [record] = caplog.records
    assert record.levelno == logging.ERROR and record.exc_info is not None
    assert error_id in record.getMessage()

    caplog.clear()
    assert respond(host, DatabaseUnavailable("down"), where="command y") == DATABASE_UNAVAILABLE
    assert respond(host, UserFacingError("No."), where="command z") == "No."
    assert respond(host, commands.CommandNotFound(), where="command ?") is None
    assert len(host.dispatched) == 1  # nothing else dispatched
    [record] = caplog.records  # the outage: one line, no traceback, no error id
    assert record.levelno == logging.WARNING and record.exc_info is None


def test_replies_fit_in_one_message() -> None:
    assert len(answer(UserFacingError("y" * 5000)) or "") == MESSAGE_LIMIT
    long_usage = "!cmd " + "<arg> " * 1000
    text = answer(commands.BadArgument("Bad."), usage=long_usage)
    assert text is not None and len(text) <= MESSAGE_LIMIT and text.startswith("Bad.\nUsage: `")
    flag = commands.BadFlagArgument(_Flag(), "`" * 3000, ValueError())
    shown = answer(flag)
    assert shown is not None and len(shown) < 200 and "``" not in shown.strip("`")


class _Flag:
    name = "reason"
    annotation = str


def test_metrics_and_sentry_use_the_policy() -> None:
    assert classify_error(commands.CommandInvokeError(DatabaseUnavailable("x"))) == "database"
    assert classify_error(commands.CommandNotFound()) is None
    assert classify_error(commands.CommandInvokeError(ValueError())) == "unexpected"
    assert classify_error(commands.ConversionError(ModuleName(), ValueError())) == "user"
    assert SPAN_STATUS["database"] == "unavailable"
    assert set(SPAN_STATUS) <= set(error_policy.ERROR_CATEGORIES)


def test_the_apology_names_the_error_id() -> None:
    assert error_policy.apology("abcd1234").endswith("(error id `abcd1234`). It has been logged.")


# --- converters ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "value"),
    [("12", 12), (" 7 ", 7), ("②", None), ("²", None), ("١٢", 12), ("", None), ("1" * 21, None)],
)
def test_parse_decimal(text: str, value: int | None) -> None:
    assert parse_decimal(text) == value


def test_parse_snowflake_bounds() -> None:
    assert parse_snowflake(str(2**64 - 1)) == 2**64 - 1
    assert parse_snowflake(str(2**64)) is None
    assert parse_snowflake("0") is None


@given(st.text())
def test_parsers_never_raise(text: str) -> None:
    parse_decimal(text)
    parse_snowflake(text)
    try:
        ModuleName.check(text)
    except commands.BadArgument as error:
        assert len(str(error)) < 300


@pytest.mark.parametrize("name", ["example", "fish_bot.cogs.example", " Example "])
def test_module_names(name: str) -> None:
    assert ModuleName.check(name) == name.strip()


@pytest.mark.parametrize("name", ["a b.c", "a..b", ".x", "x.", "1x", "a-b", "x" * 201, ""])
def test_not_module_names(name: str) -> None:
    with pytest.raises(commands.BadArgument):
        ModuleName.check(name)
