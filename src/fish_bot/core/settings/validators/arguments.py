"""Arguments of rule strings: splitting ``a, [b, c], 'd,e'``, numbers, bounds, keywords, kinds."""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from typing import Final

from fish_bot.core.settings.validators.convert import _INT_TEXT, Number, _num, _shown


class _Problem(Exception):
    """A rule string is malformed; ``problem`` says what is wrong."""

    def __init__(self, problem: str) -> None:
        super().__init__(problem)
        self.problem = problem


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
