"""The rule parser: rule strings (``range(1,10)``, ``collection.list(item_type=int)``) to rules."""

from __future__ import annotations

import difflib
import inspect
import logging
import re
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Final

from fish_bot.core.durations import DurationError, parse_duration
from fish_bot.core.settings.validators.arguments import (
    _NO_VALUE,
    _check_order,
    _keyword_args,
    _parse_bool_arg,
    _parse_count,
    _parse_keys,
    _parse_kind,
    _parse_number,
    _Problem,
    _two_bounds,
    _unquote,
)
from fish_bot.core.settings.validators.collection_rules import (
    _KEY_CHECKS,
    CollectionDictRule,
    CollectionListRule,
)
from fish_bot.core.settings.validators.convert import (
    _MENTIONS,
    _Invalid,
    _shown,
)
from fish_bot.core.settings.validators.rules import (
    _TIME_UNITS,
    _TYPE_CHECKS,
    CallableRule,
    DiscordRule,
    LengthRule,
    PatternRule,
    RangeRule,
    TimeRule,
    TypeRule,
    Validator,
    _callable_name,
)
from fish_bot.core.settings.validators.ruleset import (
    RuleSet,
)
from fish_bot.core.text import clip
from fish_bot.exceptions import SettingsConfigError

if TYPE_CHECKING:
    pass

log = logging.getLogger(__name__)


# --- compiling rule strings ----------------------------------------------------------------

_RULE_NAMES: Final = (
    *(f"type.{name}" for name in _TYPE_CHECKS),
    "range",
    "length",
    "pattern",
    *(f"time.{unit}" for unit in _TIME_UNITS),
    *(f"discord.{entity}" for entity in _MENTIONS),
    "collection.list",
    "collection.dict",
)


def _parse_range(rule: str, args: str | None) -> Validator:
    low_text, high_text = _two_bounds(args, "range")
    low = _parse_number(low_text, "the minimum")
    high = _parse_number(high_text, "the maximum")
    _check_order(low, high)
    return RangeRule(rule, low, high)


def _parse_length(rule: str, args: str | None) -> Validator:
    low_text, high_text = _two_bounds(args, "length")
    low = _parse_count(low_text, "the minimum")
    high = _parse_count(high_text, "the maximum")
    _check_order(low, high)
    return LengthRule(rule, low, high)


def _parse_pattern(rule: str, args: str | None) -> Validator:
    if args is None or not args.strip():
        raise _Problem("needs a regular expression, like pattern(^[a-z]+$)")
    source = _unquote(args)
    try:
        regex = re.compile(source)
    except (re.error, OverflowError, RecursionError, ValueError) as exc:
        raise _Problem(f"the regular expression is invalid: {exc}") from None
    return PatternRule(rule, regex)


def _parse_time_bound(text: str, unit: str, what: str) -> int | None:
    cleaned = _unquote(text)
    if cleaned.lower() in _NO_VALUE:
        return None
    try:
        return parse_duration(cleaned, default_unit=_TIME_UNITS[unit])
    except DurationError as exc:
        if exc.problem == "negative":
            raise _Problem(f"{what} {_shown(cleaned)} is negative") from None
        if exc.problem == "too_long":
            raise _Problem(f"{what} {_shown(cleaned)} is more than 10 years") from None
        raise _Problem(
            f"{what} {_shown(cleaned)} is not a number of {unit} or a duration like 5m"
        ) from None


def _parse_time(rule: str, unit: str, args: str | None) -> Validator:
    if args is None or not args.strip():
        return TimeRule(rule, unit, None, None)
    low_text, high_text = _two_bounds(args, f"time.{unit}")
    low = _parse_time_bound(low_text, unit, "the minimum")
    high = _parse_time_bound(high_text, unit, "the maximum")
    _check_order(low, high)
    return TimeRule(rule, unit, low, high)


_ELEMENT_KINDS: Final = (
    None,
    "int",
    "str",
    "float",
    "bool",
    "dict",
    "list",
    "channel",
    "role",
    "user",
)
_KEY_KINDS: Final = ("str", "int", "channel", "role", "user", None)


def _parse_collection_list(rule: str, args: str | None) -> Validator:
    named = _keyword_args(args, ("item_type", "unique", "min_length", "max_length"))
    item_type = _parse_kind(named.get("item_type", ""), "item_type", _ELEMENT_KINDS)
    unique = _parse_bool_arg(named["unique"], "unique") if "unique" in named else False
    low = _parse_count(named.get("min_length", ""), "min_length")
    high = _parse_count(named.get("max_length", ""), "max_length")
    _check_order(low, high)
    return CollectionListRule(
        rule, item_type=item_type, unique=unique, min_length=low, max_length=high
    )


def _parse_collection_dict(rule: str, args: str | None) -> Validator:
    named = _keyword_args(args, ("key_type", "value_type", "required_keys"))
    key_type = (
        _parse_kind(named["key_type"], "key_type", _KEY_KINDS) if "key_type" in named else "str"
    )
    value_type = _parse_kind(named.get("value_type", ""), "value_type", _ELEMENT_KINDS)
    required = _parse_keys(named.get("required_keys", ""))
    if key_type not in (None, "str"):
        for key in required:
            try:
                _KEY_CHECKS[key_type](key, None)
            except _Invalid:
                raise _Problem(f"required key {_shown(key)} is not a valid {key_type}") from None
    return CollectionDictRule(
        rule, key_type=key_type, value_type=value_type, required_keys=required
    )


def _parse_rule(rule: str) -> Validator:
    """Compile one rule string; raises ``_Problem`` when it is malformed."""
    text = rule.strip()
    if not text:
        raise _Problem("is empty")
    args: str | None = None
    name = text
    if "(" in text:
        name = text[: text.index("(")]
        if not text.endswith(")"):
            raise _Problem("does not end with ')'")
        args = text[text.index("(") + 1 : -1]
    name = name.strip().lower()
    no_args = args is None or not args.strip()

    if name.startswith("type.") and name[5:] in _TYPE_CHECKS:
        if not no_args:
            raise _Problem(f"{name} takes no arguments")
        return TypeRule(rule, name[5:])
    if name.startswith("discord.") and name[8:] in _MENTIONS:
        if not no_args:
            raise _Problem(f"{name} takes no arguments")
        return DiscordRule(rule, name[8:])
    if name.startswith("time.") and name[5:] in _TIME_UNITS:
        return _parse_time(rule, name[5:], args)
    parsers: dict[str, Callable[[str, str | None], Validator]] = {
        "range": _parse_range,
        "length": _parse_length,
        "pattern": _parse_pattern,
        "collection.list": _parse_collection_list,
        "collection.dict": _parse_collection_dict,
    }
    parser = parsers.get(name)
    if parser is None:
        close = difflib.get_close_matches(name, _RULE_NAMES, n=1)
        hint = f"; did you mean {close[0]}?" if close else ""
        raise _Problem(f"unknown rule {_shown(name)}{hint}")
    return parser(rule, args)


def _config_error(setting: str, rule: object, problem: str) -> SettingsConfigError:
    where = f"Setting '{setting}': rule" if setting else "Rule"
    shown = clip(rule, 80) if isinstance(rule, str) else _shown(rule)
    return SettingsConfigError(f"{where} '{shown}' is invalid: {problem}")


def compile_rules(spec: Any, *, setting: str = "") -> RuleSet:
    """Compile a setting's rules.

    ``spec`` is ``None`` (no rules), a rule string, a callable, a :class:`Validator`, a
    :class:`RuleSet`, or a list or tuple of those. Raises :class:`SettingsConfigError` naming the
    setting and quoting the rule when a rule is malformed, and nothing else.
    """
    if spec is None:
        items: list[Any] = []
    elif isinstance(spec, list | tuple):
        items = list(spec)
    else:
        items = [spec]

    rules: list[Validator] = []
    for item in items:
        if isinstance(item, str):
            try:
                rules.append(_parse_rule(item))
            except _Problem as exc:
                raise _config_error(setting, item, exc.problem) from None
            except Exception as exc:  # a bug in the parser: still a config error
                log.exception("compiling rule %r of setting %r crashed", item, setting)
                raise _config_error(setting, item, "could not be parsed") from exc
        elif isinstance(item, Validator):
            rules.append(item)
        elif isinstance(item, RuleSet):
            rules.extend(item.rules)
        elif callable(item):
            if inspect.iscoroutinefunction(item):
                raise _config_error(
                    setting,
                    _callable_name(item),
                    "custom checks must be plain functions, not async",
                )
            rules.append(CallableRule(item))
        else:
            raise _config_error(
                setting,
                item,
                f"a rule must be a rule string or a function, got {type(item).__name__}",
            )
    return RuleSet(rules, setting=setting)
