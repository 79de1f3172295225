"""The settings validator language.

A cog declares each setting as ``(default, description, rules)`` in ``settings_config``; the rules
are compiled once, when the cog is built, by :func:`compile_rules` into a :class:`RuleSet`, and
every write of the setting goes through :meth:`RuleSet.validate`.

The language::

    type.int  type.str  type.bool  type.float  type.list  type.dict
    range(min,max)            inclusive; either bound may be None (open)
    length(min,max)           of text, a list or a dictionary; either bound may be None
    pattern(regex)            re.fullmatch against text; the regex may hold commas and brackets
    time.seconds(min,max)     a duration; bounds and bare numbers are in the rule's unit,
    time.minutes(min,max)       the stored value is always whole seconds
    time.hours(min,max)
    discord.channel  discord.role  discord.user      a snowflake (ID or mention), stored as int
    collection.list(item_type,unique,min_length,max_length)
    collection.dict(key_type,value_type,required_keys)

and plain functions ``f(value)``: a falsy result (``False``) refuses, ``None`` or a truthy result
accepts, an exception refuses with its text.

A bad value raises :class:`~fish_bot.exceptions.SettingValidationError` (never anything else); a
malformed rule raises :class:`~fish_bot.exceptions.SettingsConfigError` at compile time.
"""

from __future__ import annotations

import abc
import difflib
import inspect
import json
import logging
import math
import re
from collections.abc import Callable, Iterator, Sequence
from typing import TYPE_CHECKING, Any, ClassVar, Final, NoReturn

from fish_bot.core.durations import (
    DurationError,
    format_duration,
    parse_duration,
)
from fish_bot.exceptions import SettingsConfigError, SettingValidationError

if TYPE_CHECKING:
    import discord

__all__ = [
    "CallableRule",
    "CollectionDictRule",
    "CollectionListRule",
    "DiscordRule",
    "LengthRule",
    "PatternRule",
    "RangeRule",
    "RuleSet",
    "TimeRule",
    "TypeRule",
    "Validator",
    "compile_rules",
]

log = logging.getLogger(__name__)

#: Snowflakes are unsigned 64-bit integers.
SNOWFLAKE_LIMIT: Final[int] = 2**64

_INT_TEXT: Final = re.compile(r"[+-]?[0-9]+")
_MAX_INT_DIGITS: Final = 4000  # below Python's int <-> str conversion limit
_TRUE_WORDS: Final = frozenset({"true", "yes", "on", "1", "y", "enable", "enabled"})
_FALSE_WORDS: Final = frozenset({"false", "no", "off", "0", "n", "disable", "disabled"})
_DURATION_HINT: Final = "must be a duration like 90s, 5m or 1h30m"

Number = int | float
Element = Callable[[Any, "discord.Guild | None"], Any]


# --- small helpers -------------------------------------------------------------------------


class _Invalid(Exception):
    """A value check failed; ``reason`` is the user-facing text (the rule is added later)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class _Problem(Exception):
    """A rule string is malformed; ``problem`` says what is wrong."""

    def __init__(self, problem: str) -> None:
        super().__init__(problem)
        self.problem = problem


def _shown(value: object, limit: int = 40) -> str:
    """A short, safe ``repr`` of ``value`` for messages."""
    if isinstance(value, int) and not isinstance(value, bool) and value.bit_length() > 128:
        return "a very large number"
    try:
        text = repr(value)
    except Exception:  # a hostile __repr__, or an int too large to print
        text = f"<{type(value).__name__}>"
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _num(value: Number) -> str:
    """A number as text for messages and descriptions (``60``, ``1.5``)."""
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e16:
        return str(int(value))
    return _shown(value)


def _is_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _plural(count: int, word: str) -> str:
    return f"{count} {word}" if count == 1 else f"{count} {word}s"


# --- element checks: shared by the type rules and the collection rules ---------------------


def _check_int(value: Any, guild: discord.Guild | None = None) -> int:
    if isinstance(value, bool):
        raise _Invalid(f"must be a whole number, got {_shown(value)}")
    if isinstance(value, int):
        return int(value)
    if isinstance(value, float) and math.isfinite(value) and value.is_integer():
        return int(value)
    if isinstance(value, str):
        text = value.strip()
        if _INT_TEXT.fullmatch(text):
            if len(text) > _MAX_INT_DIGITS:
                raise _Invalid("is too large")
            return int(text)
    raise _Invalid(f"must be a whole number, got {_shown(value)}")


def _check_float(value: Any, guild: discord.Guild | None = None) -> float:
    result: float | None = None
    if isinstance(value, bool):
        result = None
    elif isinstance(value, int):
        try:
            result = float(value)
        except OverflowError:
            raise _Invalid("is too large") from None
    elif isinstance(value, float):
        result = value
    elif isinstance(value, str) and len(value) <= 100:
        try:
            result = float(value.strip())
        except ValueError:
            result = None
    if result is None or not math.isfinite(result):
        raise _Invalid(f"must be a number, got {_shown(value)}")
    return result


def _check_bool(value: Any, guild: discord.Guild | None = None) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, int) and value in (0, 1):
        return bool(value)
    if isinstance(value, str):
        word = value.strip().lower()
        if word in _TRUE_WORDS:
            return True
        if word in _FALSE_WORDS:
            return False
    raise _Invalid(f"must be true or false (yes/no, on/off), got {_shown(value)}")


def _check_str(value: Any, guild: discord.Guild | None = None) -> str:
    if isinstance(value, str):
        return value
    raise _Invalid(f"must be text, got {_shown(value)}")


def _check_list(value: Any, guild: discord.Guild | None = None) -> list[Any]:
    if isinstance(value, list | tuple):
        return list(value)
    raise _Invalid(f"must be a list, got {_shown(value)}")


def _check_dict(value: Any, guild: discord.Guild | None = None) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise _Invalid(f"must be a dictionary, got {_shown(value)}")
    for key in value:
        if not isinstance(key, str):
            raise _Invalid(f"dictionary keys must be text, got key {_shown(key)}")
    return dict(value)


def _check_any(value: Any, guild: discord.Guild | None = None) -> Any:
    return value


_MENTIONS: Final[dict[str, re.Pattern[str]]] = {
    "channel": re.compile(r"<#([0-9]+)>"),
    "role": re.compile(r"<@&([0-9]+)>"),
    "user": re.compile(r"<@!?([0-9]+)>"),
}
_MENTION_EXAMPLES: Final[dict[str, str]] = {
    "channel": "#channel",
    "role": "@role",
    "user": "@user",
}
_GUILD_GETTERS: Final[dict[str, str]] = {
    "channel": "get_channel",
    "role": "get_role",
    "user": "get_member",
}
_DIGITS: Final = re.compile(r"[0-9]+")


def _snowflake_from_text(text: str, kind: str) -> int | None:
    """The ID in a mention or digit string of ``kind``, or ``None``."""
    cleaned = text.strip()
    match = _DIGITS.fullmatch(cleaned) or _MENTIONS[kind].fullmatch(cleaned)
    if match is None:
        return None
    digits = match.group(1) if match.groups() else match.group(0)
    if len(digits) > 25:
        return SNOWFLAKE_LIMIT  # certainly out of range; refused by the caller
    return int(digits)


def _check_snowflake(value: Any, kind: str, guild: discord.Guild | None) -> int:
    wrong = f"must be a {kind} mention or ID (like {_MENTION_EXAMPLES[kind]}), got {_shown(value)}"
    ident: int | None
    if isinstance(value, bool):
        ident = None
    elif isinstance(value, int):
        ident = int(value)
    elif isinstance(value, str):
        ident = _snowflake_from_text(value, kind)
    elif isinstance(value, float | list | tuple | dict | set) or value is None:
        ident = None
    else:  # a discord.py object (channel, role, member ...): use its id
        raw = getattr(value, "id", None)
        ident = raw if isinstance(raw, int) and not isinstance(raw, bool) else None
    if ident is None:
        raise _Invalid(wrong)
    if not 0 < ident < SNOWFLAKE_LIMIT:
        raise _Invalid(f"{_shown(value)} is not a valid {kind} ID")
    if guild is not None:
        getter = getattr(guild, _GUILD_GETTERS[kind], None)
        if callable(getter) and getter(ident) is None:
            if kind == "user":
                raise _Invalid(f"user {ident} is not a member of this server")
            raise _Invalid(f"{kind} {ident} does not exist in this server")
    return ident


def _snowflake_check(kind: str) -> Element:
    def check(value: Any, guild: discord.Guild | None = None) -> int:
        return _check_snowflake(value, kind, guild)

    return check


# --- text conversion (for values typed in a Discord command) -------------------------------
#
# A converter never fails: when the text does not convert it is returned as it is, and the
# rule's validate() then refuses it with the usual message.


def _text_to_int(text: str) -> Any:
    cleaned = text.strip()
    if _INT_TEXT.fullmatch(cleaned) and len(cleaned) <= _MAX_INT_DIGITS:
        return int(cleaned)
    return text


def _text_to_float(text: str) -> Any:
    try:
        result = float(text.strip()) if len(text) <= 100 else math.nan
    except ValueError:
        return text
    return result if math.isfinite(result) else text


def _text_to_bool(text: str) -> Any:
    word = text.strip().lower()
    if word in _TRUE_WORDS:
        return True
    if word in _FALSE_WORDS:
        return False
    return text


def _text_to_str(text: str) -> Any:
    return text


def _json_or_text(text: str) -> Any:
    """``text`` parsed as JSON, or ``text`` itself when it is not JSON."""
    try:
        return json.loads(text)
    except (ValueError, RecursionError):
        return text


def _text_to_json_object(text: str) -> Any:
    result = _json_or_text(text.strip())
    return result if isinstance(result, dict) else text


def _text_to_snowflake(kind: str) -> Callable[[str], Any]:
    def convert(text: str) -> Any:
        ident = _snowflake_from_text(text, kind)
        return text if ident is None else ident

    return convert


_SPLIT_ON_SPACES: Final = frozenset({"int", "float", "bool", "channel", "role", "user"})


def _text_to_list(text: str, item_kind: str | None) -> Any:
    """A list from JSON (``[1, 2]``) or from comma-separated text (``1, 2, 3``).

    Numbers, booleans and Discord entities may also be separated by spaces
    (``<#1> <#2>``). Each item is converted as its ``item_kind`` says.
    """
    cleaned = text.strip()
    if not cleaned:
        return []
    if cleaned.startswith("["):
        parsed = _json_or_text(cleaned)
        if isinstance(parsed, list):
            return parsed
        if cleaned.endswith("]"):
            cleaned = cleaned[1:-1]
    parts = cleaned.split(",")
    if len(parts) == 1 and item_kind in _SPLIT_ON_SPACES:
        parts = cleaned.split()
    convert = _ITEM_CONVERTERS.get(item_kind, _json_or_text)
    return [convert(part.strip()) for part in parts if part.strip()]


_ITEM_CONVERTERS: Final[dict[str | None, Callable[[str], Any]]] = {
    None: _json_or_text,
    "int": _text_to_int,
    "float": _text_to_float,
    "bool": _text_to_bool,
    "str": lambda text: text,
    "list": _json_or_text,
    "dict": _json_or_text,
    "channel": _text_to_snowflake("channel"),
    "role": _text_to_snowflake("role"),
    "user": _text_to_snowflake("user"),
}


# --- the rules -----------------------------------------------------------------------------


class Validator(abc.ABC):
    """One compiled rule.

    ``rule`` is the rule's text as written in ``settings_config`` (a function's name for custom
    checks). ``kind`` names the type the rule converts command text to (``"int"``,
    ``"duration"``, ``"channel"`` ...), or is ``None`` when the rule does not define a type.
    """

    #: How specific this rule's text conversion is; the most specific rule of a RuleSet converts.
    conversion_priority: ClassVar[int] = 0

    def __init__(self, rule: str) -> None:
        self.rule = rule

    @property
    def kind(self) -> str | None:
        """The type that :meth:`convert_text` produces, or ``None``."""
        return None

    @abc.abstractmethod
    def check(self, value: Any, guild: discord.Guild | None) -> Any:
        """Return the normalized value or raise ``_Invalid`` (subclasses implement this)."""

    @abc.abstractmethod
    def describe(self) -> str:
        """A short human-readable description (``"integer"``, ``"between 60 and 3600"``)."""

    def validate(self, value: Any, *, guild: discord.Guild | None = None) -> Any:
        """Return ``value`` normalized, or raise :class:`SettingValidationError`.

        When ``guild`` is given, Discord entities must exist in it.
        """
        try:
            return self.check(value, guild)
        except _Invalid as exc:
            self._fail(exc.reason)

    def convert_text(self, text: str) -> Any:
        """Convert text typed in a command to this rule's type (the text itself by default)."""
        return text

    def _fail(self, reason: str) -> NoReturn:
        raise SettingValidationError(reason, rule=self.rule) from None

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.rule!r}>"


_TYPE_CHECKS: Final[dict[str, Element]] = {
    "int": _check_int,
    "str": _check_str,
    "bool": _check_bool,
    "float": _check_float,
    "list": _check_list,
    "dict": _check_dict,
}
_TYPE_WORDS: Final[dict[str, str]] = {
    "int": "integer",
    "str": "text",
    "bool": "true/false",
    "float": "number",
    "list": "list",
    "dict": "dictionary",
}


class TypeRule(Validator):
    """``type.int``, ``type.str``, ``type.bool``, ``type.float``, ``type.list``, ``type.dict``.

    int takes ints, integral floats and digit strings (not bools); bool takes bools, 0/1 and
    true/false/yes/no/on/off; float takes numbers and numeric strings (not nan, inf or bools);
    str takes text only; list takes lists and tuples; dict takes dicts with text keys.
    """

    conversion_priority = 2

    def __init__(self, rule: str, type_name: str) -> None:
        super().__init__(rule)
        self.type_name = type_name
        self._check = _TYPE_CHECKS[type_name]

    @property
    def kind(self) -> str:
        """The type name (``"int"``, ``"str"`` ...)."""
        return self.type_name

    def check(self, value: Any, guild: discord.Guild | None) -> Any:
        """Check the type (and normalize: digit strings to int, tuples to lists ...)."""
        return self._check(value, guild)

    def describe(self) -> str:
        """``"integer"``, ``"text"``, ``"true/false"`` ..."""
        return _TYPE_WORDS[self.type_name]

    def convert_text(self, text: str) -> Any:
        """Parse command text: numbers, true/false words, JSON or comma lists, JSON objects."""
        if self.type_name == "list":
            return _text_to_list(text, None)
        if self.type_name == "dict":
            return _json_object_or_fail(self, text)
        return _ITEM_CONVERTERS[self.type_name](text)


def _bounds_text(low: str | None, high: str | None) -> str:
    if low is not None and high is not None:
        return f"between {low} and {high}"
    if low is not None:
        return f"at least {low}"
    if high is not None:
        return f"at most {high}"
    return "any size"


class RangeRule(Validator):
    """``range(min,max)``: a number between ``min`` and ``max`` inclusive; None is open."""

    def __init__(self, rule: str, low: Number | None, high: Number | None) -> None:
        super().__init__(rule)
        self.low = low
        self.high = high

    def check(self, value: Any, guild: discord.Guild | None) -> Any:
        """Refuse non-numbers and numbers out of range; return the value unchanged."""
        if not _is_number(value) or (isinstance(value, float) and math.isnan(value)):
            raise _Invalid(f"must be a number, got {_shown(value)}")
        if (self.low is not None and value < self.low) or (
            self.high is not None and value > self.high
        ):
            raise _Invalid(f"must be {self._bounds()}, got {_num(value)}")
        return value

    def _bounds(self) -> str:
        low = None if self.low is None else _num(self.low)
        high = None if self.high is None else _num(self.high)
        return _bounds_text(low, high)

    def describe(self) -> str:
        """``"between 60 and 3600"``, ``"at least 0"`` ..."""
        return "any number" if self.low is None and self.high is None else self._bounds()


class LengthRule(Validator):
    """``length(min,max)``: the length of text, a list or a dictionary; None is open."""

    def __init__(self, rule: str, low: int | None, high: int | None) -> None:
        super().__init__(rule)
        self.low = low
        self.high = high

    def check(self, value: Any, guild: discord.Guild | None) -> Any:
        """Refuse values without a length and lengths out of range; return the value unchanged."""
        if isinstance(value, str):
            unit = "character"
        elif isinstance(value, list | tuple | dict):
            unit = "item"
        else:
            raise _Invalid(f"must be text, a list or a dictionary, got {_shown(value)}")
        size = len(value)
        if (self.low is not None and size < self.low) or (
            self.high is not None and size > self.high
        ):
            if unit == "character":
                raise _Invalid(f"must be {self._bounds(unit)} long, got {_plural(size, unit)}")
            raise _Invalid(f"must have {self._bounds(unit)}, got {_plural(size, unit)}")
        return value

    def _bounds(self, unit: str) -> str:
        last = self.high if self.high is not None else self.low
        word = unit if last == 1 else unit + "s"
        low = None if self.low is None else str(self.low)
        high = None if self.high is None else str(self.high)
        return f"{_bounds_text(low, high)} {word}"

    def describe(self) -> str:
        """``"length between 1 and 100"`` ..."""
        low = None if self.low is None else str(self.low)
        high = None if self.high is None else str(self.high)
        return f"length {_bounds_text(low, high)}"


class PatternRule(Validator):
    """``pattern(regex)``: text that :func:`re.fullmatch` es the regex."""

    conversion_priority = 1

    def __init__(self, rule: str, regex: re.Pattern[str]) -> None:
        super().__init__(rule)
        self.regex = regex

    @property
    def kind(self) -> str:
        """Always ``"str"``: a pattern only matches text."""
        return "str"

    def check(self, value: Any, guild: discord.Guild | None) -> Any:
        """Refuse non-text and text that does not match; return the value unchanged."""
        if not isinstance(value, str):
            raise _Invalid(f"must be text, got {_shown(value)}")
        if self.regex.fullmatch(value) is None:
            raise _Invalid(f"must match the pattern {self.regex.pattern}, got {_shown(value)}")
        return value

    def describe(self) -> str:
        """``"matching ^[a-z]+$"``."""
        return f"matching {self.regex.pattern}"


_TIME_UNITS: Final[dict[str, str]] = {"seconds": "s", "minutes": "m", "hours": "h"}


class TimeRule(Validator):
    """``time.seconds(min,max)``, ``time.minutes(min,max)``, ``time.hours(min,max)``.

    Takes a number (in the rule's unit) or duration text (``"90s"``, ``"5m"``, ``"1h30m"``; a
    bare number is in the rule's unit); the normalized value is always whole seconds. ``low`` and
    ``high`` are in seconds.
    """

    conversion_priority = 3

    def __init__(self, rule: str, unit: str, low: int | None, high: int | None) -> None:
        super().__init__(rule)
        self.unit = unit  # "seconds", "minutes" or "hours"
        self.low = low
        self.high = high

    @property
    def kind(self) -> str:
        """Always ``"duration"``."""
        return "duration"

    def check(self, value: Any, guild: discord.Guild | None) -> Any:
        """Parse the duration, check the bounds, return whole seconds."""
        hint = _DURATION_HINT
        if self.unit != "seconds":
            hint += f" (a bare number means {self.unit})"
        if isinstance(value, bool) or not isinstance(value, int | float | str):
            raise _Invalid(f"{hint}, got {_shown(value)}")
        try:
            seconds = parse_duration(value, default_unit=_TIME_UNITS[self.unit])
        except DurationError as exc:
            if exc.problem == "negative":
                raise _Invalid(f"must not be negative, got {_shown(value)}") from None
            if exc.problem == "too_long":
                raise _Invalid(f"is too long (at most 10 years), got {_shown(value)}") from None
            raise _Invalid(f"{hint}, got {_shown(value)}") from None
        if (self.low is not None and seconds < self.low) or (
            self.high is not None and seconds > self.high
        ):
            raise _Invalid(f"must be {self._bounds()}, got {format_duration(seconds)}")
        return seconds

    def _bounds(self) -> str:
        low = None if self.low is None else format_duration(self.low)
        high = None if self.high is None else format_duration(self.high)
        return _bounds_text(low, high)

    def describe(self) -> str:
        """``"duration in minutes, between 1m and 1h"``."""
        text = f"duration in {self.unit}"
        if self.low is not None or self.high is not None:
            text += f", {self._bounds()}"
        return text

    def convert_text(self, text: str) -> Any:
        """Keep the text: :meth:`validate` parses it, with bare numbers in the rule's unit."""
        return text.strip()


class DiscordRule(Validator):
    """``discord.channel``, ``discord.role``, ``discord.user``: a snowflake, stored as an int.

    Takes an int, a digit string or a mention (``<#1>``, ``<@&1>``, ``<@1>``, ``<@!1>``) or an
    object with an ``id``; when a guild is given the entity must exist in it.
    """

    conversion_priority = 3

    def __init__(self, rule: str, entity: str) -> None:
        super().__init__(rule)
        self.entity = entity  # "channel", "role" or "user"
        self._convert = _text_to_snowflake(entity)

    @property
    def kind(self) -> str:
        """``"channel"``, ``"role"`` or ``"user"``."""
        return self.entity

    def check(self, value: Any, guild: discord.Guild | None) -> Any:
        """Return the ID as an int."""
        return _check_snowflake(value, self.entity, guild)

    def describe(self) -> str:
        """``"channel (mention or ID)"``."""
        return f"{self.entity} (mention or ID)"

    def convert_text(self, text: str) -> Any:
        """A mention or ID to an int."""
        return self._convert(text)


_ELEMENT_CHECKS: Final[dict[str, Element]] = {
    **_TYPE_CHECKS,
    "channel": _snowflake_check("channel"),
    "role": _snowflake_check("role"),
    "user": _snowflake_check("user"),
}
_ELEMENT_WORDS: Final[dict[str, str]] = {
    "int": "integers",
    "str": "text",
    "bool": "true/false values",
    "float": "numbers",
    "list": "lists",
    "dict": "dictionaries",
    "channel": "channels",
    "role": "roles",
    "user": "users",
}


def _distinct(items: list[Any]) -> tuple[Any] | None:
    """Return the first item that repeats an earlier one (same type and equal), or ``None``.

    Returns a one-element tuple so that a repeated ``None`` is distinguishable from no repeat.
    """
    hashed: set[tuple[type, Any]] = set()
    unhashable: list[Any] = []
    for item in items:
        try:
            key = (type(item), item)
            if key in hashed:
                return (item,)
            hashed.add(key)
        except TypeError:
            if any(type(seen) is type(item) and seen == item for seen in unhashable):
                return (item,)
            unhashable.append(item)
    return None


class CollectionListRule(Validator):
    """``collection.list(item_type,unique,min_length,max_length)``: a list, item by item.

    Each item is checked (and normalized) as its ``item_type`` says (``None``: any item).
    """

    conversion_priority = 3

    def __init__(
        self,
        rule: str,
        *,
        item_type: str | None = None,
        unique: bool = False,
        min_length: int | None = None,
        max_length: int | None = None,
    ) -> None:
        super().__init__(rule)
        self.item_type = item_type
        self.unique = unique
        self.min_length = min_length
        self.max_length = max_length
        self._item = _ELEMENT_CHECKS[item_type] if item_type else _check_any

    @property
    def kind(self) -> str:
        """Always ``"list"``."""
        return "list"

    def check(self, value: Any, guild: discord.Guild | None) -> Any:
        """Check the length, each item and uniqueness; return a new normalized list."""
        items = _check_list(value)
        size = len(items)
        if (self.min_length is not None and size < self.min_length) or (
            self.max_length is not None and size > self.max_length
        ):
            raise _Invalid(f"must have {self._bounds()}, got {_plural(size, 'item')}")
        normalized: list[Any] = []
        for position, item in enumerate(items, start=1):
            try:
                normalized.append(self._item(item, guild))
            except _Invalid as exc:
                raise _Invalid(f"item {position}: {exc.reason}") from None
        if self.unique:
            repeated = _distinct(normalized)
            if repeated is not None:
                raise _Invalid(f"must not contain duplicates, {_shown(repeated[0])} repeats")
        return normalized

    def _bounds(self) -> str:
        last = self.max_length if self.max_length is not None else self.min_length
        low = None if self.min_length is None else str(self.min_length)
        high = None if self.max_length is None else str(self.max_length)
        return f"{_bounds_text(low, high)} {'item' if last == 1 else 'items'}"

    def describe(self) -> str:
        """``"list of integers, no duplicates, between 1 and 10 items"``."""
        parts = [f"list of {_ELEMENT_WORDS[self.item_type]}" if self.item_type else "list"]
        if self.unique:
            parts.append("no duplicates")
        if self.min_length is not None or self.max_length is not None:
            parts.append(self._bounds())
        return ", ".join(parts)

    def convert_text(self, text: str) -> Any:
        """JSON (``[1, 2]``) or comma-separated text (``1, 2, 3``), items converted."""
        return _text_to_list(text, self.item_type)


def _key_to_text(check: Element) -> Element:
    def convert(value: Any, guild: discord.Guild | None = None) -> Any:
        return str(check(value, guild))

    return convert


_KEY_CHECKS: Final[dict[str, Element]] = {
    "str": _check_str,
    "int": _key_to_text(_check_int),
    "channel": _key_to_text(_snowflake_check("channel")),
    "role": _key_to_text(_snowflake_check("role")),
    "user": _key_to_text(_snowflake_check("user")),
}


class CollectionDictRule(Validator):
    """``collection.dict(key_type,value_type,required_keys)``: a dictionary, entry by entry.

    Settings are stored as JSON, whose keys are text, so keys are normalized to text: with
    ``key_type=int`` (or channel, role, user) the key ``5`` or ``"<#5>"`` is stored as ``"5"``.
    ``key_type`` defaults to str; ``value_type`` to any value.
    """

    conversion_priority = 3

    def __init__(
        self,
        rule: str,
        *,
        key_type: str | None = "str",
        value_type: str | None = None,
        required_keys: Sequence[str] = (),
    ) -> None:
        super().__init__(rule)
        self.key_type = key_type
        self.value_type = value_type
        self.required_keys = tuple(required_keys)
        self._key = _KEY_CHECKS[key_type] if key_type else _check_any
        self._value = _ELEMENT_CHECKS[value_type] if value_type else _check_any

    @property
    def kind(self) -> str:
        """Always ``"dict"``."""
        return "dict"

    def check(self, value: Any, guild: discord.Guild | None) -> Any:
        """Check each key and value and the required keys; return a new normalized dict."""
        if not isinstance(value, dict):
            raise _Invalid(f"must be a dictionary, got {_shown(value)}")
        normalized: dict[Any, Any] = {}
        for key, item in value.items():
            try:
                new_key = self._key(key, guild)
            except _Invalid as exc:
                raise _Invalid(f"key {_shown(key)}: {exc.reason}") from None
            if new_key in normalized:
                raise _Invalid(f"key {_shown(key)} appears twice")
            try:
                normalized[new_key] = self._value(item, guild)
            except _Invalid as exc:
                raise _Invalid(f"value of {_shown(key)}: {exc.reason}") from None
        missing = [key for key in self.required_keys if key not in normalized]
        if missing:
            raise _Invalid(f"is missing the required keys: {', '.join(missing)}")
        return normalized

    def describe(self) -> str:
        """``"dictionary of text to integers, with keys a, b"``."""
        keys = _ELEMENT_WORDS[self.key_type] if self.key_type else "anything"
        values = _ELEMENT_WORDS[self.value_type] if self.value_type else "anything"
        text = f"dictionary of {keys} to {values}"
        if self.required_keys:
            text += f", with keys {', '.join(self.required_keys)}"
        return text

    def convert_text(self, text: str) -> Any:
        """A JSON object (``{"a": 1}``); anything else is refused."""
        return _json_object_or_fail(self, text)


def _json_object_or_fail(rule: Validator, text: str) -> dict[str, Any]:
    """``text`` parsed as a JSON object, or a refusal naming ``rule``."""
    result = _text_to_json_object(text)
    if not isinstance(result, dict):
        rule._fail(f'must be a JSON object like {{"key": 1}}, got {_shown(text)}')
    return result


def _callable_name(func: Callable[..., Any]) -> str:
    name = getattr(func, "__name__", None)
    if isinstance(name, str) and name:
        return name
    return type(func).__name__


class CallableRule(Validator):
    """A custom check ``func(value)``.

    A falsy result (``False``) refuses with "failed custom check <name>"; ``None`` or a truthy
    result accepts the value unchanged. An exception refuses with its text; it never escapes.
    """

    def __init__(self, func: Callable[[Any], Any]) -> None:
        super().__init__(_callable_name(func))
        self.func = func

    def check(self, value: Any, guild: discord.Guild | None) -> Any:
        """Run the function; see the class docstring."""
        failed = f"failed custom check {self.rule}"
        try:
            result = self.func(value)
            if inspect.isawaitable(result):
                close = getattr(result, "close", None)
                if callable(close):
                    close()
                raise _Invalid(f"{failed} (it is async; custom checks must be plain functions)")
            accepted = result is None or bool(result)
        except _Invalid:
            raise
        except SettingValidationError as exc:
            raise _Invalid(exc.reason) from None
        except Exception as exc:
            text = str(exc).strip() if _safe_str(exc) else ""
            raise _Invalid(text[:200] or failed) from None
        if not accepted:
            raise _Invalid(failed)
        return value

    def describe(self) -> str:
        """``"custom check <name>"``."""
        return f"custom check {self.rule}"


def _safe_str(exc: BaseException) -> bool:
    """Whether ``str(exc)`` works (a hostile ``__str__`` could raise)."""
    try:
        str(exc)
    except Exception:
        return False
    return True


# --- the rule set --------------------------------------------------------------------------


class RuleSet:
    """The compiled rules of one setting, run in order.

    Each rule receives the previous rule's normalized value. Errors carry the setting's name and
    the failing rule's text.
    """

    def __init__(self, rules: Sequence[Validator] = (), *, setting: str = "") -> None:
        self.rules: list[Validator] = list(rules)
        self.setting = setting

    @property
    def converter(self) -> Validator | None:
        """The rule that converts command text: the most specific type-defining rule."""
        best: Validator | None = None
        for rule in self.rules:
            priority = rule.conversion_priority
            if priority and (best is None or priority > best.conversion_priority):
                best = rule
        return best

    @property
    def kind(self) -> str | None:
        """The declared type (``"int"``, ``"duration"``, ``"channel"``, ``"list"`` ...) or None."""
        converter = self.converter
        return None if converter is None else converter.kind

    def validate(self, value: Any, *, guild: discord.Guild | None = None) -> Any:
        """Run every rule in order and return the normalized value.

        Raises :class:`SettingValidationError` naming the setting and the failing rule, and
        nothing else, whatever the value.
        """
        current = value
        for rule in self.rules:
            try:
                current = rule.validate(current, guild=guild)
            except SettingValidationError as exc:
                raise SettingValidationError(
                    exc.reason, setting=self.setting, rule=exc.rule or rule.rule
                ) from None
            except Exception as exc:  # a bug in a rule: refuse, never crash the command
                log.exception("rule %r of setting %r crashed", rule.rule, self.setting)
                raise SettingValidationError(
                    "is not a valid value", setting=self.setting, rule=rule.rule
                ) from exc
        return current

    def convert_text(self, text: str) -> Any:
        """Turn text typed in a Discord command into the declared type, before :meth:`validate`.

        Numbers, true/false words, lists (JSON or comma-separated), dictionaries (JSON),
        durations, mentions and IDs. Without a declared type: JSON when the text is JSON, else
        the text. Text that does not convert is returned as it is, for :meth:`validate` to
        refuse. Raises only :class:`SettingValidationError`.
        """
        if not isinstance(text, str):
            return text
        converter = self.converter
        try:
            if converter is None:
                return _json_or_text(text)
            return converter.convert_text(text)
        except SettingValidationError as exc:
            raise exc.with_setting(self.setting) from None
        except Exception:
            log.exception("converting text for setting %r crashed", self.setting)
            return text

    def describe(self) -> str:
        """A human-readable summary: ``"integer, between 60 and 3600"``."""
        if not self.rules:
            return "any value"
        return ", ".join(rule.describe() for rule in self.rules)

    def __len__(self) -> int:
        return len(self.rules)

    def __iter__(self) -> Iterator[Validator]:
        return iter(self.rules)

    def __repr__(self) -> str:
        return f"<RuleSet {self.setting!r} {[rule.rule for rule in self.rules]!r}>"


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
_NO_VALUE: Final = frozenset({"", "none", "null"})
_KIND_ALIASES: Final[dict[str, str | None]] = {
    "int": "int",
    "integer": "int",
    "str": "str",
    "string": "str",
    "text": "str",
    "float": "float",
    "number": "float",
    "bool": "bool",
    "boolean": "bool",
    "list": "list",
    "dict": "dict",
    "channel": "channel",
    "discord.channel": "channel",
    "role": "role",
    "discord.role": "role",
    "user": "user",
    "member": "user",
    "discord.user": "user",
    "any": None,
    "none": None,
}
_BOOL_ARGS: Final[dict[str, bool]] = {
    "true": True,
    "yes": True,
    "1": True,
    "false": False,
    "no": False,
    "0": False,
}
_MAX_ARG_DIGITS: Final = 30


def _unquote(text: str) -> str:
    cleaned = text.strip()
    if len(cleaned) >= 2 and cleaned[0] == cleaned[-1] and cleaned[0] in "'\"":
        return cleaned[1:-1]
    return cleaned


def _split_args(text: str) -> list[str]:
    """Split on commas outside brackets and quotes: ``a, [b, c], 'd,e'`` -> 3 parts."""
    parts: list[str] = []
    depth = 0
    quote = ""
    current: list[str] = []
    for char in text:
        if quote:
            if char == quote:
                quote = ""
        elif char in "'\"":
            quote = char
        elif char in "([{":
            depth += 1
        elif char in ")]}":
            depth -= 1
            if depth < 0:
                raise _Problem(f"unbalanced {char!r} in the arguments")
        elif char == "," and depth == 0:
            parts.append("".join(current).strip())
            current = []
            continue
        current.append(char)
    if quote:
        raise _Problem(f"unclosed quote {quote} in the arguments")
    if depth:
        raise _Problem("unbalanced brackets in the arguments")
    parts.append("".join(current).strip())
    return parts


def _parse_number(text: str, what: str) -> Number | None:
    cleaned = _unquote(text)
    if cleaned.lower() in _NO_VALUE:
        return None
    if _INT_TEXT.fullmatch(cleaned):
        if len(cleaned) > _MAX_ARG_DIGITS:
            raise _Problem(f"{what} {_shown(cleaned)} is too large")
        return int(cleaned)
    try:
        number = float(cleaned) if len(cleaned) <= 100 else math.nan
    except ValueError:
        number = math.nan
    if not math.isfinite(number):
        raise _Problem(f"{what} {_shown(cleaned)} is not a number")
    return number


def _parse_count(text: str, what: str) -> int | None:
    number = _parse_number(text, what)
    if number is None:
        return None
    if isinstance(number, float):
        if not number.is_integer():
            raise _Problem(f"{what} {_shown(text.strip())} is not a whole number")
        number = int(number)
    if number < 0:
        raise _Problem(f"{what} {number} is negative")
    return number


def _check_order(low: Number | None, high: Number | None) -> None:
    if low is not None and high is not None and low > high:
        raise _Problem(f"the minimum {_num(low)} is greater than the maximum {_num(high)}")


def _two_bounds(args: str | None, name: str) -> tuple[str, str]:
    parts = _split_args(args or "")
    if args is None or len(parts) != 2:
        raise _Problem(f"needs two bounds, like {name}(1,10) (None leaves a bound open)")
    return parts[0], parts[1]


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


def _keyword_args(args: str | None, names: Sequence[str]) -> dict[str, str]:
    """``a, b=1`` -> ``{names[0]: "a", "b": "1"}``: positional in ``names`` order, then keywords."""
    if args is None or not args.strip():
        return {}
    result: dict[str, str] = {}
    seen_keyword = False
    for position, part in enumerate(_split_args(args)):
        if not part:
            raise _Problem("has an empty argument")
        key, equals, raw = part.partition("=")
        if equals and re.fullmatch(r"\s*[A-Za-z_]+\s*", key):
            name = key.strip().lower()
            if name not in names:
                raise _Problem(
                    f"has an unknown argument {_shown(name)}; expected {', '.join(names)}"
                )
            seen_keyword = True
        else:
            if seen_keyword:
                raise _Problem("has a positional argument after a keyword argument")
            if position >= len(names):
                raise _Problem(f"takes at most {len(names)} arguments: {', '.join(names)}")
            name, raw = names[position], part
        if name in result:
            raise _Problem(f"gives {name} twice")
        result[name] = raw.strip()
    return result


def _parse_kind(text: str, what: str, allowed: Sequence[str | None]) -> str | None:
    cleaned = _unquote(text).lower()
    if cleaned == "":
        return None
    if cleaned not in _KIND_ALIASES or _KIND_ALIASES[cleaned] not in allowed:
        names = ", ".join(kind or "any" for kind in allowed)
        raise _Problem(f"{what} {_shown(cleaned)} is not one of {names}")
    return _KIND_ALIASES[cleaned]


def _parse_bool_arg(text: str, what: str) -> bool:
    cleaned = _unquote(text).lower()
    if cleaned not in _BOOL_ARGS:
        raise _Problem(f"{what} must be true or false, got {_shown(cleaned)}")
    return _BOOL_ARGS[cleaned]


def _parse_keys(text: str) -> list[str]:
    cleaned = text.strip()
    if cleaned.startswith("[") and cleaned.endswith("]"):
        inner = cleaned[1:-1].strip()
        raw_keys = _split_args(inner) if inner else []
    elif "|" in cleaned:
        raw_keys = cleaned.split("|")
    else:
        raw_keys = [cleaned] if cleaned else []
    keys = [_unquote(key) for key in raw_keys]
    if any(not key for key in keys):
        raise _Problem("required_keys has an empty key")
    return keys


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
    shown = rule if isinstance(rule, str) else _shown(rule)
    if len(shown) > 80:
        shown = shown[:79] + "…"
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
