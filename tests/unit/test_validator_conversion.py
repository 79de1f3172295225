"""Number conversion of the validator language (done by pydantic), with the language's messages."""

from __future__ import annotations

from typing import Any

import pytest

from fish_bot.core.settings.validators import compile_rules
from fish_bot.exceptions import SettingValidationError


@pytest.mark.parametrize(
    ("value", "expected"),
    [(12, 12), (12.0, 12), ("12", 12), (" -3 ", -3), ("+5", 5), ("0012", 12)],
)
def test_type_int_accepts_whole_numbers(value: Any, expected: int) -> None:
    assert compile_rules("type.int", setting="n").validate(value) == expected


@pytest.mark.parametrize(
    "value", [True, 12.5, "1_000", "1.0", "②", "\u0661\u0662", "1e3", None, [1]]
)
def test_type_int_refuses_other_values_naming_the_rule(value: Any) -> None:
    with pytest.raises(SettingValidationError) as caught:
        compile_rules("type.int", setting="n").validate(value)
    assert str(caught.value).startswith("Setting 'n': must be a whole number, got ")
    assert caught.value.rule == "type.int"


def test_type_int_refuses_huge_digit_text_briefly() -> None:
    with pytest.raises(SettingValidationError, match="is too large"):
        compile_rules("type.int").validate("9" * 5000)


@pytest.mark.parametrize(
    ("value", "expected"), [(1.5, 1.5), ("1.5", 1.5), (" 2 ", 2.0), (3, 3.0), ("1e3", 1000.0)]
)
def test_type_float_accepts_numbers(value: Any, expected: float) -> None:
    assert compile_rules("type.float").validate(value) == expected


@pytest.mark.parametrize(
    "value", ["nan", "inf", float("inf"), True, "\u0661\u066b\u0665", "x" * 101, "1,5"]
)
def test_type_float_refuses_non_numbers(value: Any) -> None:
    with pytest.raises(SettingValidationError, match="must be a number, got "):
        compile_rules("type.float").validate(value)


def test_type_float_refuses_an_int_too_large_for_a_float() -> None:
    with pytest.raises(SettingValidationError, match="is too large"):
        compile_rules("type.float").validate(10**400)


def test_command_text_is_converted_before_the_rules_check_it() -> None:
    rules = compile_rules(["type.int", "range(1,10)"], setting="step")
    assert rules.convert_text(" 7 ") == 7
    assert rules.convert_text("②") == "②"  # left as text, refused by validate
    with pytest.raises(SettingValidationError, match="must be a whole number"):
        rules.validate(rules.convert_text("②"))
    assert compile_rules("type.float").convert_text("2.5") == 2.5
