"""``collection.list(...)`` and ``collection.dict(...)``: rules checked item by item."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, Final

from fish_bot.core.settings.validators.convert import (
    Element,
    _check_any,
    _check_int,
    _check_list,
    _check_str,
    _Invalid,
    _plural,
    _shown,
    _snowflake_check,
    _text_to_list,
)
from fish_bot.core.settings.validators.rules import (
    _TYPE_CHECKS,
    Validator,
    _bounds_text,
    _json_object_or_fail,
)

if TYPE_CHECKING:
    import discord

log = logging.getLogger(__name__)


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
