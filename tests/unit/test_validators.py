"""The settings validator language (fish_bot.core.settings.validators)."""

from __future__ import annotations

import contextlib
import math
from typing import TYPE_CHECKING, Any, cast

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fish_bot.core.settings.validators import (
    CallableRule,
    RuleSet,
    TypeRule,
    Validator,
    compile_rules,
)
from fish_bot.exceptions import SettingsConfigError, SettingValidationError

if TYPE_CHECKING:
    import discord


def ok(spec: Any, value: Any, **kwargs: Any) -> Any:
    """Validate ``value`` against ``spec`` and return the normalized value."""
    return compile_rules(spec, setting="s").validate(value, **kwargs)


def refused(spec: Any, value: Any, **kwargs: Any) -> SettingValidationError:
    """Validate ``value`` against ``spec``, expecting a refusal; return the error."""
    with pytest.raises(SettingValidationError) as info:
        compile_rules(spec, setting="s").validate(value, **kwargs)
    return info.value


class FakeGuild:
    """Just enough of discord.Guild for the existence checks."""

    def __init__(self, channels: set[int], roles: set[int], members: set[int]) -> None:
        self.channels, self.roles, self.members = channels, roles, members

    def get_channel(self, ident: int) -> object | None:
        return object() if ident in self.channels else None

    def get_role(self, ident: int) -> object | None:
        return object() if ident in self.roles else None

    def get_member(self, ident: int) -> object | None:
        return object() if ident in self.members else None


GUILD = cast("discord.Guild", FakeGuild(channels={111}, roles={222}, members={333}))


class HasId:
    """Stands in for a discord.py object (channel, role, member)."""

    def __init__(self, ident: int) -> None:
        self.id = ident


# --- compile_rules: the shapes of a spec --------------------------------------------------


def test_none_means_no_rules() -> None:
    rules = compile_rules(None)
    assert isinstance(rules, RuleSet)
    assert rules.rules == []
    assert rules.validate({"anything": [1]}) == {"anything": [1]}
    assert rules.describe() == "any value"


def test_single_string_callable_list_and_tuple() -> None:
    assert [r.rule for r in compile_rules("type.int").rules] == ["type.int"]
    assert len(compile_rules(lambda x: True).rules) == 1
    assert [r.rule for r in compile_rules(["type.int", "range(1,5)"]).rules] == [
        "type.int",
        "range(1,5)",
    ]
    assert len(compile_rules(("type.int", lambda x: x > 0))) == 2


def test_validator_instances_and_rule_sets_are_accepted() -> None:
    rule = TypeRule("type.int", "int")
    assert compile_rules([rule]).rules == [rule]
    inner = compile_rules(["type.int", "range(1,5)"])
    assert compile_rules(inner).rules == inner.rules


def test_rules_run_in_order_on_normalized_values() -> None:
    seen: list[Any] = []

    def spy(value: Any) -> bool:
        seen.append(value)
        return True

    assert ok(["type.int", spy, "range(1,10)"], "7") == 7
    assert seen == [7]


def test_error_carries_setting_and_rule_text_as_written() -> None:
    rules = compile_rules(["type.int", "range( 60 , 3600 )"], setting="interval")
    with pytest.raises(SettingValidationError) as info:
        rules.validate(5)
    error = info.value
    assert error.setting == "interval"
    assert error.rule == "range( 60 , 3600 )"
    assert error.reason == "must be between 60 and 3600, got 5"
    assert "interval" in str(error)
    assert "range( 60 , 3600 )" in str(error)


def test_bare_validator_error_has_rule_but_no_setting() -> None:
    with pytest.raises(SettingValidationError) as info:
        TypeRule("type.int", "int").validate("x")
    assert info.value.setting == ""
    assert info.value.rule == "type.int"


# --- type rules ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [(5, 5), (-3, -3), (5.0, 5), ("42", 42), (" -7 ", -7), ("+8", 8), (2**70, 2**70)],
)
def test_type_int_accepts(value: Any, expected: int) -> None:
    result = ok("type.int", value)
    assert result == expected
    assert type(result) is int


@pytest.mark.parametrize(
    "value", [True, False, 1.5, "abc", "1.0", "", None, [1], float("nan"), float("inf")]
)
def test_type_int_refuses(value: Any) -> None:
    error = refused("type.int", value)
    assert error.reason.startswith("must be a whole number, got ")
    assert error.rule == "type.int"


def test_type_int_message() -> None:
    assert refused("type.int", "abc").reason == "must be a whole number, got 'abc'"


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (True, True),
        (False, False),
        (1, True),
        (0, False),
        ("true", True),
        ("FALSE", False),
        ("yes", True),
        ("No", False),
        ("on", True),
        ("off", False),
        ("1", True),
        ("0", False),
    ],
)
def test_type_bool_accepts(value: Any, expected: bool) -> None:
    assert ok("type.bool", value) is expected


@pytest.mark.parametrize("value", [2, -1, 1.0, "maybe", "", None, [True]])
def test_type_bool_refuses(value: Any) -> None:
    assert refused("type.bool", value).reason.startswith("must be true or false")


@pytest.mark.parametrize(
    ("value", "expected"), [(1, 1.0), (2.5, 2.5), ("3.25", 3.25), (" -1e3 ", -1000.0)]
)
def test_type_float_accepts(value: Any, expected: float) -> None:
    result = ok("type.float", value)
    assert result == expected
    assert type(result) is float


@pytest.mark.parametrize(
    "value",
    [True, float("nan"), float("inf"), float("-inf"), "nan", "inf", "abc", None, 10**400],
)
def test_type_float_refuses(value: Any) -> None:
    error = refused("type.float", value)
    assert "must be a number" in error.reason or "too large" in error.reason


def test_type_str() -> None:
    assert ok("type.str", "hello") == "hello"
    assert ok("type.str", "") == ""
    assert refused("type.str", 5).reason == "must be text, got 5"
    assert refused("type.str", None).reason == "must be text, got None"


def test_type_list() -> None:
    assert ok("type.list", [1, "a"]) == [1, "a"]
    assert ok("type.list", (1, 2)) == [1, 2]
    assert refused("type.list", "1,2").reason == "must be a list, got '1,2'"
    assert refused("type.list", {"a": 1}).rule == "type.list"


def test_type_dict() -> None:
    assert ok("type.dict", {"a": 1}) == {"a": 1}
    assert refused("type.dict", [("a", 1)]).reason.startswith("must be a dictionary")
    assert refused("type.dict", {1: "a"}).reason == "dictionary keys must be text, got key 1"


def test_type_rule_returns_a_copy_of_containers() -> None:
    original = [1, 2]
    result = ok("type.list", original)
    assert result == original
    assert result is not original


# --- range, length, pattern ----------------------------------------------------------------


def test_range_inclusive_bounds() -> None:
    assert ok("range(60,3600)", 60) == 60
    assert ok("range(60,3600)", 3600) == 3600
    assert ok("range(0.5,1.5)", 1.0) == 1.0
    assert refused("range(60,3600)", 59).reason == "must be between 60 and 3600, got 59"
    assert refused("range(60,3600)", 3600.5).reason == "must be between 60 and 3600, got 3600.5"


def test_range_open_bounds() -> None:
    assert ok("range(0,None)", 10**12) == 10**12
    assert ok("range(0,)", 5) == 5
    assert ok("range(None,10)", -(10**12)) == -(10**12)
    assert refused("range(0,None)", -1).reason == "must be at least 0, got -1"
    assert refused("range(,10)", 11).reason == "must be at most 10, got 11"


@pytest.mark.parametrize("value", ["5", True, None, [5], float("nan")])
def test_range_refuses_non_numbers(value: Any) -> None:
    assert refused("range(0,10)", value).reason.startswith("must be a number")


def test_length_of_text_lists_and_dicts() -> None:
    assert ok("length(1,3)", "abc") == "abc"
    assert ok("length(1,3)", [1]) == [1]
    assert ok("length(0,1)", {}) == {}
    assert (
        refused("length(1,3)", "").reason
        == "must be between 1 and 3 characters long, got 0 characters"
    )
    assert (
        refused("length(1,3)", [1, 2, 3, 4]).reason
        == "must have between 1 and 3 items, got 4 items"
    )
    assert (
        refused("length(2,)", "a").reason == "must be at least 2 characters long, got 1 character"
    )
    assert refused("length(,1)", {"a": 1, "b": 2}).reason == "must have at most 1 item, got 2 items"
    assert refused("length(1,3)", 5).reason.startswith("must be text, a list or a dictionary")


def test_pattern_full_match() -> None:
    assert ok(r"pattern([a-z]+)", "abc") == "abc"
    error = refused(r"pattern([a-z]+)", "abc1")
    assert error.reason == "must match the pattern [a-z]+, got 'abc1'"
    assert error.rule == "pattern([a-z]+)"
    assert refused(r"pattern([a-z]+)", 5).reason == "must be text, got 5"


def test_pattern_with_commas_and_parentheses() -> None:
    rule = r"pattern(^(a|b){1,3}(,\d+)?$)"
    assert ok(rule, "ab,12") == "ab,12"
    assert ok(rule, "bbb") == "bbb"
    refused(rule, "abab")


def test_pattern_may_be_quoted() -> None:
    assert ok("pattern('^x+$')", "xxx") == "xxx"


# --- time rules ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("rule", "value", "seconds"),
    [
        ("time.seconds", 90, 90),
        ("time.seconds", "90", 90),
        ("time.seconds", "90s", 90),
        ("time.seconds", "5m", 300),
        ("time.seconds", "1h30m", 5400),
        ("time.seconds", 1.4, 1),
        ("time.minutes", 5, 300),
        ("time.minutes", "5", 300),
        ("time.minutes", 1.5, 90),
        ("time.minutes", "90s", 90),
        ("time.minutes", "1h 30m", 5400),
        ("time.hours", 2, 7200),
        ("time.hours", "2", 7200),
        ("time.hours", "30m", 1800),
        ("time.hours", "1 day", 86400),
    ],
)
def test_time_rules_normalize_to_int_seconds(rule: str, value: Any, seconds: int) -> None:
    result = ok(rule, value)
    assert result == seconds
    assert type(result) is int


def test_time_bounds_are_in_the_rules_unit() -> None:
    assert ok("time.minutes(1,60)", 1) == 60
    assert ok("time.minutes(1,60)", "1h") == 3600
    assert refused("time.minutes(1,60)", "30s").reason == "must be between 1m and 1h, got 30s"
    assert refused("time.minutes(1,60)", 61).reason == "must be between 1m and 1h, got 1h 1m"
    assert ok("time.hours(1,)", "3d") == 259_200
    assert refused("time.seconds(10,None)", 9).reason == "must be at least 10s, got 9s"
    assert ok("time.seconds(1m,1h)", "30m") == 1800


@pytest.mark.parametrize("value", ["soon", "5x", True, None, [5], float("nan"), ""])
def test_time_refuses_non_durations(value: Any) -> None:
    error = refused("time.seconds", value)
    assert error.reason.startswith("must be a duration like 90s, 5m or 1h30m")
    assert error.rule == "time.seconds"


def test_time_refusal_mentions_the_unit_of_bare_numbers() -> None:
    assert "a bare number means minutes" in refused("time.minutes", "x").reason


def test_time_refuses_negative_and_absurd() -> None:
    assert refused("time.seconds", -5).reason == "must not be negative, got -5"
    assert refused("time.seconds", "-5m").reason == "must not be negative, got '-5m'"
    assert "too long" in refused("time.hours", 10**9).reason


# --- discord entities ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("rule", "value", "expected"),
    [
        ("discord.channel", 111, 111),
        ("discord.channel", "111", 111),
        ("discord.channel", "<#111>", 111),
        ("discord.channel", HasId(111), 111),
        ("discord.role", "<@&222>", 222),
        ("discord.role", 222, 222),
        ("discord.user", "<@333>", 333),
        ("discord.user", "<@!333>", 333),
        ("discord.user", " 333 ", 333),
        ("discord.user", 2**64 - 1, 2**64 - 1),
    ],
)
def test_discord_rules_normalize_to_int(rule: str, value: Any, expected: int) -> None:
    assert ok(rule, value) == expected


@pytest.mark.parametrize(
    ("rule", "value"),
    [
        ("discord.channel", "<@111>"),
        ("discord.channel", "<@&111>"),
        ("discord.role", "<#222>"),
        ("discord.user", "<@&333>"),
        ("discord.channel", "general"),
        ("discord.channel", True),
        ("discord.channel", 1.0),
        ("discord.channel", None),
        ("discord.channel", [111]),
    ],
)
def test_discord_rules_refuse_wrong_shapes(rule: str, value: Any) -> None:
    assert "mention or ID" in refused(rule, value).reason


@pytest.mark.parametrize("value", [0, -5, 2**64, "99999999999999999999999"])
def test_discord_rules_refuse_implausible_snowflakes(value: Any) -> None:
    assert "is not a valid channel ID" in refused("discord.channel", value).reason


def test_discord_rules_check_the_guild() -> None:
    assert ok("discord.channel", "<#111>", guild=GUILD) == 111
    assert ok("discord.role", 222, guild=GUILD) == 222
    assert ok("discord.user", "<@333>", guild=GUILD) == 333
    error = refused("discord.channel", 123, guild=GUILD)
    assert error.reason == "channel 123 does not exist in this server"
    assert refused("discord.role", 111, guild=GUILD).reason == (
        "role 111 does not exist in this server"
    )
    assert refused("discord.user", 222, guild=GUILD).reason == (
        "user 222 is not a member of this server"
    )
    # without a guild only the shape is checked
    assert ok("discord.channel", 123) == 123


# --- collection rules ----------------------------------------------------------------------


def test_collection_list_example_from_the_guide() -> None:
    spec = ["type.list", "collection.list(item_type=int,unique=true)"]
    assert ok(spec, [1, "2", 3.0]) == [1, 2, 3]
    error = refused(spec, [1, 2, "1"])
    assert error.reason == "must not contain duplicates, 1 repeats"
    assert error.rule == "collection.list(item_type=int,unique=true)"
    assert refused(spec, [1, "x"]).reason == "item 2: must be a whole number, got 'x'"


def test_collection_list_lengths() -> None:
    rule = "collection.list(min_length=1,max_length=2)"
    assert ok(rule, ["a"]) == ["a"]
    assert refused(rule, []).reason == "must have between 1 and 2 items, got 0 items"
    assert refused(rule, [1, 2, 3]).reason == "must have between 1 and 2 items, got 3 items"


def test_collection_list_positional_args_and_no_args() -> None:
    assert ok("collection.list(str, True, 0, 3)", ["a", "b"]) == ["a", "b"]
    assert refused("collection.list(str, True, 0, 3)", ["a", "a"]).reason.startswith(
        "must not contain duplicates"
    )
    assert ok("collection.list", [1, "a", None]) == [1, "a", None]
    assert ok("collection.list()", ()) == []
    assert refused("collection.list", "abc").reason == "must be a list, got 'abc'"


def test_collection_list_unique_with_unhashable_items() -> None:
    rule = "collection.list(unique=True)"
    assert ok(rule, [[1], [2], {"a": 1}]) == [[1], [2], {"a": 1}]
    assert refused(rule, [[1], {"a": 1}, [1]]).reason == "must not contain duplicates, [1] repeats"
    assert ok("collection.list(unique=false)", [1, 1]) == [1, 1]


def test_collection_list_of_discord_entities() -> None:
    rule = "collection.list(item_type=role,unique=true)"
    assert ok(rule, ["<@&222>"], guild=GUILD) == [222]
    assert ok(rule, ["<@&5>", 6]) == [5, 6]
    assert refused(rule, ["<@&5>", "5"]).reason == "must not contain duplicates, 5 repeats"
    assert refused(rule, [5], guild=GUILD).reason == "item 1: role 5 does not exist in this server"


@pytest.mark.parametrize(
    ("item_type", "good", "bad"),
    [
        ("str", ["a"], [1]),
        ("float", [1, "2.5"], ["x"]),
        ("bool", ["yes", 0], ["maybe"]),
        ("dict", [{"a": 1}], [[1]]),
        ("list", [[1]], [{"a": 1}]),
        ("channel", ["<#1>"], ["<@1>"]),
        ("user", ["<@!1>"], ["<#1>"]),
    ],
)
def test_collection_list_item_types(item_type: str, good: list[Any], bad: list[Any]) -> None:
    rule = f"collection.list(item_type={item_type})"
    ok(rule, good)
    assert refused(rule, bad).reason.startswith("item 1: ")


def test_collection_dict_example() -> None:
    rule = "collection.dict(key_type=str,value_type=int,required_keys=[a,b])"
    assert ok(rule, {"a": "1", "b": 2, "c": 3.0}) == {"a": 1, "b": 2, "c": 3}
    error = refused(rule, {"a": 1})
    assert error.reason == "is missing the required keys: b"
    assert error.rule == rule
    assert (
        refused(rule, {"a": 1, "b": "x"}).reason == "value of 'b': must be a whole number, got 'x'"
    )
    assert refused(rule, {"a": 1, "b": 2, 3: 4}).reason == "key 3: must be text, got 3"
    assert refused(rule, [("a", 1)]).reason == "must be a dictionary, got [('a', 1)]"


def test_collection_dict_pipe_separated_required_keys() -> None:
    rule = "collection.dict(required_keys=a|b|c)"
    assert ok(rule, {"a": 1, "b": None, "c": []}) == {"a": 1, "b": None, "c": []}
    assert refused(rule, {"b": 1}).reason == "is missing the required keys: a, c"


def test_collection_dict_keys_are_normalized_to_text() -> None:
    rule = "collection.dict(key_type=channel,value_type=str)"
    assert ok(rule, {"<#5>": "x", 6: "y"}) == {"5": "x", "6": "y"}
    assert refused(rule, {"<#5>": "x", "5": "y"}).reason == "key '5' appears twice"
    assert ok("collection.dict(key_type=int)", {1: 1, "2": 2}) == {"1": 1, "2": 2}
    assert refused("collection.dict(key_type=int)", {"x": 1}).reason.startswith("key 'x': ")
    assert ok("collection.dict(key_type=any)", {1: 1}) == {1: 1}


def test_collection_dict_without_args() -> None:
    assert ok("collection.dict", {"a": [1]}) == {"a": [1]}
    assert ok("collection.dict()", {}) == {}


# --- callables -----------------------------------------------------------------------------


def test_callable_from_the_guide() -> None:
    spec = lambda x: x > 0 and x < 100  # noqa: E731 - as written in the guide
    assert ok(spec, 10) == 10
    error = refused(spec, 100)
    assert error.reason == "failed custom check <lambda>"
    assert error.rule == "<lambda>"
    # comparing a string with an int raises TypeError: refused with its text, never escapes
    assert "not supported" in refused(spec, "abc").reason


def test_callable_none_and_truthy_accept_falsy_refuses() -> None:
    def is_even(value: int) -> bool:
        return value % 2 == 0

    assert ok(lambda x: None, 3) == 3
    assert ok(lambda x: "yes", 3) == 3
    assert refused(lambda x: 0, 3).reason == "failed custom check <lambda>"
    assert ok(is_even, 4) == 4
    error = refused(is_even, 3)
    assert error.reason == "failed custom check is_even"
    assert error.rule == "is_even"


def test_callable_exceptions_refuse_with_their_text() -> None:
    def must_be_known(value: Any) -> bool:
        raise ValueError("unknown colour")

    def broken(value: Any) -> bool:
        raise RuntimeError

    def refuses_itself(value: Any) -> bool:
        raise SettingValidationError("nope, never", rule="ignored")

    assert refused(must_be_known, "x").reason == "unknown colour"
    assert refused(broken, "x").reason == "failed custom check broken"
    error = refused(refuses_itself, "x")
    assert error.reason == "nope, never"
    assert error.setting == "s"


def test_callable_with_a_hostile_result() -> None:
    class Hostile:
        def __bool__(self) -> bool:
            raise RuntimeError("no truth for you")

    assert refused(lambda x: Hostile(), 1).reason == "no truth for you"


def test_async_callables_are_refused_at_compile_time() -> None:
    async def check(value: Any) -> bool:
        return True

    with pytest.raises(SettingsConfigError, match="not async"):
        compile_rules(check, setting="s")


def test_callable_rule_class() -> None:
    rule = CallableRule(str.isdigit)
    assert rule.validate("12") == "12"
    assert rule.describe() == "custom check isdigit"


# --- a crashing rule never escapes a RuleSet -----------------------------------------------


def test_a_buggy_validator_is_turned_into_a_refusal() -> None:
    class Buggy(Validator):
        def check(self, value: Any, guild: Any) -> Any:
            raise KeyError("bug")

        def describe(self) -> str:
            return "buggy"

    rules = compile_rules([Buggy("buggy")], setting="s")
    with pytest.raises(SettingValidationError) as info:
        rules.validate(1)
    assert info.value.rule == "buggy"
    assert info.value.setting == "s"


# --- malformed rules -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("rule", "problem"),
    [
        ("", "is empty"),
        ("   ", "is empty"),
        ("type.integer", "unknown rule"),
        ("tpye.int", "did you mean type.int"),
        ("type.int(5)", "takes no arguments"),
        ("discord.guild", "unknown rule"),
        ("discord.channel(1)", "takes no arguments"),
        ("range", "needs two bounds"),
        ("range(1)", "needs two bounds"),
        ("range(1,2,3)", "needs two bounds"),
        ("range(a,5)", "is not a number"),
        ("range(1,nan)", "is not a number"),
        ("range(10,1)", "greater than the maximum"),
        ("range(1,2", "does not end with ')'"),
        ("length(-1,5)", "negative"),
        ("length(1.5,5)", "not a whole number"),
        ("length(5,1)", "greater than the maximum"),
        ("pattern()", "needs a regular expression"),
        ("pattern([a-)", "regular expression is invalid"),
        ("pattern((ab)", "regular expression is invalid"),
        ("time.minutes(5)", "needs two bounds"),
        ("time.minutes(10,5)", "greater than the maximum"),
        ("time.hours(soon,)", "not a number of hours"),
        ("time.seconds(-1,5)", "negative"),
        ("time.days", "unknown rule"),
        ("collection.list(item_type=banana)", "item_type 'banana' is not one of"),
        ("collection.list(unique=maybe)", "unique must be true or false"),
        ("collection.list(colour=red)", "unknown argument 'colour'"),
        ("collection.list(min_length=5,max_length=2)", "greater than the maximum"),
        ("collection.list(int,true,1,2,3)", "at most 4 arguments"),
        ("collection.list(unique=true,int)", "positional argument after a keyword"),
        ("collection.list(unique=true,unique=false)", "gives unique twice"),
        ("collection.list(int,,true)", "empty argument"),
        ("collection.list(item_type=[int)", "unbalanced"),
        ("collection.dict(key_type=float)", "key_type 'float' is not one of"),
        ("collection.dict(required_keys=[a,,b])", "empty key"),
        ("collection.dict(key_type=int,required_keys=[a])", "not a valid int"),
        ("collection.set", "unknown rule"),
    ],
)
def test_malformed_rules_raise_config_errors(rule: str, problem: str) -> None:
    with pytest.raises(SettingsConfigError) as info:
        compile_rules(["type.str", rule], setting="greeting")
    message = str(info.value)
    assert "greeting" in message
    assert f"'{rule}'" in message
    assert problem in message


@pytest.mark.parametrize("spec", [5, 1.5, {"type.int": True}, [None], ["type.int", 3], b"type.int"])
def test_specs_of_the_wrong_type_raise_config_errors(spec: Any) -> None:
    with pytest.raises(SettingsConfigError, match="must be a rule string or a function"):
        compile_rules(spec, setting="x")


def test_config_error_without_a_setting_name() -> None:
    with pytest.raises(SettingsConfigError, match=r"^Rule 'range\(2,1\)' is invalid"):
        compile_rules("range(2,1)")


# --- describe ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("spec", "text"),
    [
        (["type.int", "range(60,3600)"], "integer, between 60 and 3600"),
        ("range(0,None)", "at least 0"),
        (["type.str", "length(1,100)"], "text, length between 1 and 100"),
        ("pattern(^[a-z]+$)", "matching ^[a-z]+$"),
        ("time.minutes(1,60)", "duration in minutes, between 1m and 1h"),
        ("time.seconds", "duration in seconds"),
        ("discord.channel", "channel (mention or ID)"),
        (
            "collection.list(item_type=int,unique=true,min_length=1,max_length=10)",
            "list of integers, no duplicates, between 1 and 10 items",
        ),
        (
            "collection.dict(value_type=int,required_keys=[a,b])",
            "dictionary of text to integers, with keys a, b",
        ),
        (["type.bool", "type.float", "type.dict"], "true/false, number, dictionary"),
    ],
)
def test_describe(spec: Any, text: str) -> None:
    assert compile_rules(spec).describe() == text


def test_describe_callable() -> None:
    def positive(value: int) -> bool:
        return value > 0

    assert compile_rules(["type.int", positive]).describe() == "integer, custom check positive"


# --- convert_text --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("spec", "text", "expected"),
    [
        ("type.int", "42", 42),
        ("type.int", " -3 ", -3),
        ("type.float", "2.5", 2.5),
        ("type.bool", "Yes", True),
        ("type.bool", "off", False),
        ("type.str", "42", "42"),
        ("type.str", " hi ", " hi "),
        ("type.list", "[1, 2]", [1, 2]),
        ("type.list", "a, b", ["a", "b"]),
        ("type.list", "1, 2", [1, 2]),
        ("type.list", "", []),
        ("type.dict", '{"a": 1}', {"a": 1}),
        (["type.list", "collection.list(item_type=int)"], "1, 2, 3", [1, 2, 3]),
        (["type.list", "collection.list(item_type=int)"], "1 2 3", [1, 2, 3]),
        (["type.list", "collection.list(item_type=int)"], "[1, 2]", [1, 2]),
        ("collection.list(item_type=str)", "a b, c", ["a b", "c"]),
        ("collection.list(item_type=channel)", "<#1> <#2>", [1, 2]),
        ("collection.list(item_type=role)", "<@&1>, 2", [1, 2]),
        ("collection.list(item_type=bool)", "yes,no", [True, False]),
        ("collection.list(item_type=float)", "1.5, 2", [1.5, 2.0]),
        ("collection.list(item_type=int)", "[1, x", ["[1", "x"]),
        ("collection.dict(value_type=int)", '{"a": 1}', {"a": 1}),
        ("time.minutes(1,60)", " 5m ", "5m"),
        ("discord.channel", "<#123>", 123),
        ("discord.user", "<@!123>", 123),
        ("discord.role", "123", 123),
        ("range(1,10)", "5", 5),
        (None, "[1, 2]", [1, 2]),
        (None, "true", True),
        (None, "hello", "hello"),
        (lambda x: True, "3.5", 3.5),
        ("pattern(^[0-9]+$)", "123", "123"),
        (["time.minutes", "type.int"], "5m", "5m"),
    ],
)
def test_convert_text(spec: Any, text: str, expected: Any) -> None:
    assert compile_rules(spec).convert_text(text) == expected


@pytest.mark.parametrize(
    ("spec", "text"),
    [
        ("type.int", "abc"),
        ("type.float", "nan"),
        ("type.bool", "maybe"),
        ("discord.channel", "<@1>"),
    ],
)
def test_convert_text_leaves_bad_text_for_validate(spec: Any, text: str) -> None:
    rules = compile_rules(spec)
    assert rules.convert_text(text) == text
    with pytest.raises(SettingValidationError):
        rules.validate(rules.convert_text(text))


def test_convert_text_refuses_bad_json_for_dicts() -> None:
    rules = compile_rules("type.dict", setting="weights")
    with pytest.raises(SettingValidationError) as info:
        rules.convert_text("{a: 1")
    assert info.value.setting == "weights"
    assert info.value.rule == "type.dict"
    assert "JSON object" in info.value.reason


def test_convert_then_validate_end_to_end() -> None:
    rules = compile_rules(["time.minutes(1,60)"], setting="slowmode")
    assert rules.kind == "duration"
    assert rules.validate(rules.convert_text("5m")) == 300
    assert rules.validate(rules.convert_text("1h")) == 3600
    # A number in a settings file is in the rule's unit; typed in a command it needs a unit.
    assert rules.validate(5) == 300
    with pytest.raises(SettingValidationError, match="needs a unit: write 5s, 5m or 5h"):
        rules.convert_text("5")
    roles = compile_rules(["type.list", "collection.list(item_type=role,unique=true)"])
    assert roles.kind == "list"
    assert roles.validate(roles.convert_text("<@&222>, <@&7>")) == [222, 7]


def test_kind() -> None:
    assert compile_rules(["type.int", "range(1,2)"]).kind == "int"
    assert compile_rules("range(1,2)").kind is None
    assert compile_rules("discord.user").kind == "user"
    assert compile_rules(None).kind is None


# --- properties ----------------------------------------------------------------------------

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats()
    | st.text(max_size=20)
    | st.sampled_from(["<#1>", "<@&2>", "<@!3>", "5m", "1h30m", "yes", "42", "-1", "1e400"]),
    lambda children: (
        st.lists(children, max_size=5)
        | st.dictionaries(st.text(max_size=5) | st.integers(), children, max_size=5)
    ),
    max_leaves=15,
)

RULE_SPECS: list[Any] = [
    "type.int",
    "type.str",
    "type.bool",
    "type.float",
    "type.list",
    "type.dict",
    "range(0,100)",
    "range(None,1.5)",
    "length(1,5)",
    r"pattern(^[a-z]+(,[a-z]+)*$)",
    "time.seconds(1,3600)",
    "time.minutes",
    "time.hours(1,48)",
    "discord.channel",
    "discord.role",
    "discord.user",
    "collection.list",
    "collection.list(item_type=int,unique=true,min_length=1,max_length=3)",
    "collection.list(item_type=channel,unique=true)",
    "collection.list(item_type=dict,unique=true)",
    "collection.list(item_type=float)",
    "collection.dict(key_type=str,value_type=int,required_keys=[a,b])",
    "collection.dict(key_type=user,value_type=bool)",
    "collection.dict(key_type=any,value_type=list)",
    ["type.int", "range(60,3600)"],
    ["type.list", "collection.list(item_type=int,unique=true)"],
    lambda x: x > 0 and x < 100,
    lambda x: len(x) > 2,
]
RULE_SETS = [compile_rules(spec, setting="prop") for spec in RULE_SPECS]
SINGLE_RULES = [rule for rules in RULE_SETS for rule in rules.rules]


@settings(max_examples=200, suppress_health_check=[HealthCheck.too_slow])
@given(value=json_values, rules=st.sampled_from(RULE_SETS), with_guild=st.booleans())
def test_validate_raises_only_setting_validation_error(
    value: Any, rules: RuleSet, with_guild: bool
) -> None:
    try:
        rules.validate(value, guild=GUILD if with_guild else None)
    except SettingValidationError as exc:
        assert exc.setting == "prop"
        assert exc.rule
        assert exc.reason


@settings(max_examples=200, suppress_health_check=[HealthCheck.too_slow])
@given(value=json_values, rule=st.sampled_from(SINGLE_RULES))
def test_each_rule_alone_raises_only_setting_validation_error(value: Any, rule: Validator) -> None:
    # Single rules have no crash guard around them, so this catches bugs in the rules.
    try:
        rule.validate(value, guild=GUILD)
    except SettingValidationError as exc:
        assert exc.rule == rule.rule


@settings(max_examples=200, suppress_health_check=[HealthCheck.too_slow])
@given(value=json_values, rule=st.sampled_from(SINGLE_RULES))
def test_validation_is_idempotent_except_for_unit_conversion(value: Any, rule: Validator) -> None:
    try:
        once = rule.validate(value)
    except SettingValidationError:
        return
    if getattr(rule, "unit", "seconds") != "seconds":
        return  # a bare number is in minutes/hours, the stored value in seconds
    assert _same(rule.validate(once), once)


def _same(left: Any, right: Any) -> bool:
    if isinstance(left, float) and isinstance(right, float) and math.isnan(left):
        return math.isnan(right)
    return bool(left == right) or left is right


@settings(max_examples=200)
@given(text=st.text(max_size=40), rules=st.sampled_from(RULE_SETS))
def test_convert_text_raises_only_setting_validation_error(text: str, rules: RuleSet) -> None:
    try:
        rules.convert_text(text)
    except SettingValidationError as exc:
        assert exc.setting == "prop"


@settings(max_examples=200)
@given(text=st.text(alphabet="[]{}\"'0123456789,. -<>#@&!:abcnulltrue", max_size=30))
def test_convert_then_validate_raises_only_setting_validation_error(text: str) -> None:
    for rules in RULE_SETS:
        with contextlib.suppress(SettingValidationError):
            rules.validate(rules.convert_text(text), guild=GUILD)


RULE_NAMES = [
    "type.int",
    "range",
    "length",
    "pattern",
    "time.seconds",
    "time.minutes",
    "discord.channel",
    "collection.list",
    "collection.dict",
]
rule_like_text = st.builds(
    lambda name, args, close: f"{name}({args}{close}",
    st.sampled_from(RULE_NAMES),
    st.text(alphabet="0123456789,.-=[]()|'\"abcdefghijklmnopqrstuvwxyz_ ", max_size=40),
    st.sampled_from([")", "", "))"]),
)


@settings(max_examples=200)
@given(text=st.text(max_size=40) | rule_like_text)
def test_compile_rules_raises_only_settings_config_error(text: str) -> None:
    try:
        rules = compile_rules(text, setting="prop")
    except SettingsConfigError as exc:
        assert "prop" in str(exc)
        return
    assert len(rules.rules) == 1
    rules.describe()


def test_every_single_rule_describes_itself() -> None:
    for rule in SINGLE_RULES:
        assert rule.describe()
