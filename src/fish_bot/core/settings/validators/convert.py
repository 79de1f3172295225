"""Value conversion: the element checks shared by the rules, and text typed in a command.

An element check takes a value (and the guild, for Discord entities) and returns it normalised
or raises :class:`_Invalid` with the user-facing reason. Whole numbers and numbers are converted
by pydantic; what the rule language accepts beyond that (true/false words, mentions, lists) is
here. A text converter never fails: text that does not convert is returned as it is, for the
rule to refuse with its usual message.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Final

from pydantic import ConfigDict, TypeAdapter, ValidationError

from fish_bot.core.text import clip

if TYPE_CHECKING:
    import discord

log = logging.getLogger(__name__)


#: Snowflakes are unsigned 64-bit integers.
SNOWFLAKE_LIMIT: Final[int] = 2**64

_INT_TEXT: Final = re.compile(r"[+-]?[0-9]+")
_MAX_INT_DIGITS: Final = 4000  # below Python's int <-> str conversion limit
_TRUE_WORDS: Final = frozenset({"true", "yes", "on", "1", "y", "enable", "enabled"})
_FALSE_WORDS: Final = frozenset({"false", "no", "off", "0", "n", "disable", "disabled"})

Number = int | float
Element = Callable[[Any, "discord.Guild | None"], Any]


# --- small helpers -------------------------------------------------------------------------


class _Invalid(Exception):
    """A value check failed; ``reason`` is the user-facing text (the rule is added later)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def _shown(value: object, limit: int = 40) -> str:
    """A short, safe ``repr`` of ``value`` for messages."""
    if isinstance(value, int) and not isinstance(value, bool) and value.bit_length() > 128:
        return "a very large number"
    try:
        text = repr(value)
    except Exception:  # a hostile __repr__, or an int too large to print
        text = f"<{type(value).__name__}>"
    return clip(text, limit)


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


#: pydantic does the number conversion (lax mode: ints, integral floats, numeric text); the
#: rule language decides first which inputs it accepts at all (no bools, ASCII digits only).
_INT: Final = TypeAdapter(int)
_FLOAT: Final = TypeAdapter(float, config=ConfigDict(allow_inf_nan=False))


def _pydantic_int(value: int | float | str) -> int | None:
    try:
        return _INT.validate_python(value)
    except ValidationError:
        return None


def _pydantic_float(value: int | float | str) -> float | None:
    """The value as a finite float, ``None`` when it is not a number; OverflowError when an
    int is too large for a float."""
    try:
        return _FLOAT.validate_python(value)
    except ValidationError as error:
        if isinstance(value, int) and any(e["type"] == "float_type" for e in error.errors()):
            raise OverflowError from None
        return None


def _check_int(value: Any, guild: discord.Guild | None = None) -> int:
    wrong = f"must be a whole number, got {_shown(value)}"
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise _Invalid(wrong)
    if isinstance(value, str):
        value = value.strip()
        if not _INT_TEXT.fullmatch(value):  # no 1_000, 1.0 or Unicode digits
            raise _Invalid(wrong)
        if len(value) > _MAX_INT_DIGITS:
            raise _Invalid("is too large")
    result = _pydantic_int(value)
    if result is None:
        raise _Invalid(wrong)
    return result


def _check_float(value: Any, guild: discord.Guild | None = None) -> float:
    result: float | None = None
    number = isinstance(value, int | float) and not isinstance(value, bool)
    if number or (isinstance(value, str) and len(value) <= 100):
        try:
            result = _pydantic_float(value)
        except OverflowError:
            raise _Invalid("is too large") from None
    if result is None:
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
        result = _pydantic_int(cleaned)
        return text if result is None else result
    return text


def _text_to_float(text: str) -> Any:
    result = _pydantic_float(text) if len(text) <= 100 else None
    return text if result is None else result


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
