"""Parsing of the automod commands' options (``key=value`` words) into a rule's columns."""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass, field
from typing import Any

import discord

from fish_bot.cogs.automod.constants import (
    ACTION_CASES,
    COMMON_KEYS,
    KINDS,
    MAX_ITEM_LENGTH,
    MAX_LIST_ITEMS,
    MAX_PATTERNS,
    MAX_TIMEOUT_SECONDS,
    Kind,
    Param,
)
from fish_bot.cogs.automod.safe_regex import UnsafePattern, check_pattern
from fish_bot.core.durations import DurationError, format_duration, parse_duration
from fish_bot.core.permissions import MAX_RANK
from fish_bot.exceptions import UserFacingError

_NAME = re.compile(r"[a-z0-9][a-z0-9_-]{0,31}")
_ID = re.compile(r"<(?:@&|#)?(\d{15,21})>|(\d{15,21})")
_TRUE = frozenset({"yes", "true", "on", "1"})
_FALSE = frozenset({"no", "false", "off", "0"})


class AutomodError(UserFacingError):
    """An automod command was given something it cannot use; the message says what."""


@dataclass
class RuleSpec:
    """A rule's columns, parsed from a command."""

    kind: str
    action: str
    params: dict[str, Any] = field(default_factory=dict)
    duration_seconds: int | None = None
    silent: bool = False
    exemptions: dict[str, Any] = field(default_factory=dict)


def check_name(name: str) -> str:
    name = name.strip().lower()
    if not _NAME.fullmatch(name):
        raise AutomodError(
            "❌ A rule name is 1-32 lower-case letters, digits, `-` or `_` (e.g. `no-invites`)."
        )
    return name


def check_action(action: str, allowed: tuple[str, ...] = tuple(ACTION_CASES)) -> str:
    action = action.strip().lower()
    if action not in allowed:
        raise AutomodError(f"❌ Unknown action `{action}`; use one of: {', '.join(allowed)}.")
    return action


def parse_timeout(action: str, text: str | None) -> int | None:
    """The timeout's seconds (required for timeout, refused for the other actions)."""
    if action != "timeout":
        if text:
            raise AutomodError(f"❌ Only a timeout takes a duration, not `{action}`.")
        return None
    if not text:
        raise AutomodError("❌ A timeout needs a duration, e.g. `duration=10m`.")
    try:
        seconds = parse_duration(text)
    except DurationError as error:
        raise AutomodError(f"❌ {error}") from None
    if not 1 <= seconds <= MAX_TIMEOUT_SECONDS:
        raise AutomodError("❌ A timeout lasts at most 28 days (e.g. `28d`).")
    return seconds


def _items(value: str) -> list[str]:
    return [item.strip() for item in value.split(",") if item.strip()]


def _param_value(kind: Kind, param: Param, value: str, current: Any) -> Any:
    if param.type in ("int", "percent"):
        try:
            number = int(value.rstrip("%"))
        except ValueError:
            raise AutomodError(f"❌ `{param.name}` is a whole number, not `{value}`.") from None
        if not param.minimum <= number <= param.maximum:
            raise AutomodError(
                f"❌ `{param.name}` of a {kind.name} rule is {param.minimum} to {param.maximum}."
            )
        return number
    if param.type == "choice":
        if value.lower() not in param.choices:
            raise AutomodError(f"❌ `{param.name}` is one of: {', '.join(param.choices)}.")
        return value.lower()
    if param.type == "pattern":
        try:
            check_pattern(value)
        except UnsafePattern as error:
            raise AutomodError(f"⛔ The pattern `{value}` is refused: {error}.") from None
        patterns = [*current, value]
        if len(patterns) > MAX_PATTERNS:
            raise AutomodError(f"❌ A rule holds at most {MAX_PATTERNS} patterns.")
        return patterns
    items = [*current, *_items(value)]
    if len(items) > MAX_LIST_ITEMS or any(len(item) > MAX_ITEM_LENGTH for item in items):
        raise AutomodError(
            f"❌ `{param.name}` holds at most {MAX_LIST_ITEMS} items of {MAX_ITEM_LENGTH} "
            "characters."
        )
    return items


def _ids(guild: discord.Guild, value: str, what: str) -> list[int]:
    found: list[int] = []
    for item in _items(value):
        match = _ID.fullmatch(item)
        if match:
            found.append(int(match.group(1) or match.group(2)))
            continue
        name = item.lstrip("@#").casefold()
        pool: list[Any] = list(guild.roles) if what == "role" else list(guild.channels)
        named = next((obj for obj in pool if obj.name.casefold() == name), None)
        if named is None:
            raise AutomodError(f"❌ No {what} called `{item}` here.")
        found.append(named.id)
    return found


def split_options(text: str | None) -> list[tuple[str, str]]:
    """``count=5 words="a b",c`` -> ``[("count", "5"), ("words", "a b,c")]``."""
    if not text:
        return []
    try:
        words = shlex.split(text)
    except ValueError as error:
        raise AutomodError(f"❌ Unbalanced quotes in the options: {error}.") from None
    pairs = []
    for word in words:
        key, sep, value = word.partition("=")
        if not sep or not key:
            raise AutomodError(f"❌ Options are `key=value` words; `{word}` is not one.")
        pairs.append((key.strip().lower(), value.strip()))
    return pairs


def parse_rule(guild: discord.Guild, kind_name: str, action: str, options: str | None) -> RuleSpec:
    """Validate a new rule's kind, action and options."""
    kind = KINDS.get(kind_name.strip().lower())
    if kind is None:
        raise AutomodError(f"❌ Unknown rule kind `{kind_name}`; use one of: {', '.join(KINDS)}.")
    spec = RuleSpec(kind=kind.name, action=check_action(action))
    params_by_name = {param.name: param for param in kind.params}
    values: dict[str, Any] = {
        p.name: list(p.default) if isinstance(p.default, tuple) else p.default for p in kind.params
    }
    duration: str | None = None
    for key, value in split_options(options):
        if key in params_by_name:
            param = params_by_name[key]
            values[key] = _param_value(kind, param, value, values[key])
        elif key == "duration":
            duration = value
        elif key == "silent":
            if value.lower() not in _TRUE | _FALSE:
                raise AutomodError("❌ `silent` is yes or no.")
            spec.silent = value.lower() in _TRUE
        elif key == "exempt_roles":
            spec.exemptions["roles"] = _ids(guild, value, "role")
        elif key == "exempt_channels":
            spec.exemptions["channels"] = _ids(guild, value, "channel")
        elif key == "exempt_rank":
            try:
                rank = int(value)
            except ValueError:
                raise AutomodError("❌ `exempt_rank` is a rank from 0 to 10.") from None
            if not 0 <= rank <= MAX_RANK:
                raise AutomodError("❌ `exempt_rank` is a rank from 0 to 10.")
            spec.exemptions["rank"] = rank
        else:
            known = [*params_by_name, *COMMON_KEYS]
            raise AutomodError(
                f"❌ A {kind.name} rule has no option `{key}`; it takes: {', '.join(known)}."
            )
    if kind.name == "links" and not values["domains"]:
        raise AutomodError("❌ A links rule needs `domains=` (e.g. `domains=example.com`).")
    if kind.name == "words" and not (values["words"] or values["pattern"]):
        raise AutomodError("❌ A words rule needs `words=` or `pattern=`.")
    if kind.name == "attachments" and not values["types"]:
        raise AutomodError("❌ An attachments rule needs `types=` (e.g. `types=exe,bat`).")
    spec.params = values
    spec.duration_seconds = parse_timeout(spec.action, duration)
    return spec


def describe_params(params: dict[str, Any]) -> str:
    """``count=5 seconds=5`` (lists shortened)."""
    parts = []
    for key, value in params.items():
        if isinstance(value, list):
            if not value:
                continue
            shown = ",".join(str(v) for v in value[:5]) + (
                f",… ({len(value)})" if len(value) > 5 else ""
            )
            parts.append(f"{key}={shown}")
        else:
            parts.append(f"{key}={value}")
    return " ".join(parts)


def describe_action(action: str, seconds: int | None) -> str:
    return f"{action} {format_duration(seconds)}" if seconds else action
