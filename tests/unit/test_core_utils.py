"""Helpers of the core cog: names, value display, Discord's size limits, the --global flag."""

from __future__ import annotations

from fish_bot.cogs.admin.utils import (
    format_value,
    join_lines,
    package_name,
    paginate,
    split_global,
)
from fish_bot.core.settings.specs import SettingSpec, parse_settings_config
from fish_bot.core.text import FIELD_VALUE_LIMIT as FIELD_LIMIT


def spec(rule: object, default: object = None) -> SettingSpec:
    return parse_settings_config("Test", {"x": (default, "x", rule)})["x"]


def test_package_names() -> None:
    assert package_name("example") == "fish_bot.cogs.example"
    assert package_name("Example") == "fish_bot.cogs.example"
    assert package_name("mypackage.mycog") == "mypackage.mycog"


def test_values_are_shown_as_people_write_them() -> None:
    assert format_value(spec("time.minutes(1,60)"), 5400) == "1h 30m"
    assert format_value(spec("discord.channel"), 42) == "<#42>"
    roles = spec("collection.list(item_type=role)")
    assert format_value(roles, [1, 2]) == "<@&1>, <@&2>"
    assert format_value(spec("type.bool"), True) == "true"
    assert format_value(None, None) == "*not set*"
    assert format_value(None, {"a": 1}) == '{"a": 1}'
    assert len(format_value(None, "x" * 500)) == 200


def test_long_field_values_are_cut_with_a_count() -> None:
    lines = [f"line {n} " + "x" * 50 for n in range(100)]
    text = join_lines(lines)
    assert len(text) <= FIELD_LIMIT
    assert text.endswith("more")
    assert join_lines([]) == "*none*"
    assert join_lines(["a", "b"]) == "a\nb"


def test_pages_stay_within_the_limit() -> None:
    blocks = [f"block {n}\n" + "y" * 300 for n in range(40)]
    pages = paginate(blocks, 1000)
    assert len(pages) > 1
    assert all(len(page) <= 1000 for page in pages)
    assert "".join(pages).count("block") == 40


def test_global_flag_after_free_text() -> None:
    assert split_global("hello world --global") == ("hello world", True)
    assert split_global("hello --GLOBAL  ") == ("hello", True)
    assert split_global("--global") == ("", True)
    assert split_global("hello world") == ("hello world", False)
    assert split_global("global warming") == ("global warming", False)
