"""The compiled rules: one class per rule of the language (and custom checks)."""

from __future__ import annotations

import abc
import inspect
import logging
import math
import re
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, ClassVar, Final, NoReturn

from fish_bot.core.durations import DurationError, format_duration, parse_duration
from fish_bot.core.settings.validators.convert import (
    _ITEM_CONVERTERS,
    Element,
    Number,
    _check_bool,
    _check_dict,
    _check_float,
    _check_int,
    _check_list,
    _check_snowflake,
    _check_str,
    _Invalid,
    _is_number,
    _num,
    _plural,
    _shown,
    _text_to_json_object,
    _text_to_list,
    _text_to_snowflake,
)
from fish_bot.core.text import clip
from fish_bot.exceptions import SettingValidationError

if TYPE_CHECKING:
    import discord

log = logging.getLogger(__name__)


_DURATION_HINT: Final = "must be a duration like 90s, 5m or 1h30m"

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
    bare number in a settings file or a default is in the rule's unit, typed in a command it is
    refused by :meth:`convert_text`); the normalized value is always whole seconds. ``low`` and
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
        """Keep the text for :meth:`validate`; a bare number typed in a command is refused.

        A number in a settings file or a cog's default is in the rule's unit; typed in a
        command (``settings set ... 5``) it is ambiguous, so the unit must be written (``5m``).
        """
        cleaned = text.strip()
        try:
            parse_duration(cleaned)
        except DurationError as exc:
            if exc.problem == "no_unit":
                number = cleaned.lstrip("-").strip()
                self._fail(
                    f"needs a unit: write {number}s, {number}m or {number}h (a bare number "
                    f"is not read as {self.unit} when typed in a command)"
                )
        return cleaned


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
            raise _Invalid(clip(text, 200) or failed) from None
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
