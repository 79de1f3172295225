"""The typed arguments of a routed component's handler, checked before the handler runs.

A custom_id is data the client sends back: anyone can forge one. Each parameter of a
``@component`` handler after ``interaction`` is annotated with ``str``, ``int`` (ASCII digits,
at most 19) or one of :data:`GuildId`, :data:`ChannelId`, :data:`MemberId`, :data:`MessageId`
(an id that must be where the component is clicked). :class:`ComponentHandler` binds a
custom_id's arguments to them; see :mod:`fish_bot.core.views` for the whole mechanism.
"""

from __future__ import annotations

import builtins
import inspect
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, NewType

import discord

__all__ = [
    "ChannelId",
    "ComponentHandler",
    "ComponentParam",
    "GuildId",
    "MemberId",
    "MessageId",
]

#: Handler argument types: an id that must be where the component is clicked.
GuildId = NewType("GuildId", int)
ChannelId = NewType("ChannelId", int)
MemberId = NewType("MemberId", int)
MessageId = NewType("MessageId", int)

_PLACES: dict[object, tuple[str, Callable[[discord.Interaction], int | None]]] = {
    GuildId: ("server", lambda interaction: interaction.guild_id),
    ChannelId: ("channel", lambda interaction: interaction.channel_id),
    MemberId: ("member", lambda interaction: interaction.user.id),
    MessageId: (
        "message",
        lambda interaction: interaction.message.id if interaction.message is not None else None,
    ),
}
_KINDS: tuple[object, ...] = (str, int, *_PLACES)
#: ASCII only: ``str.isdigit`` and ``int()`` accept ``②``, ``²`` and other Unicode digits.
_ID_TEXT = re.compile(r"[0-9]{1,20}")
_INT_TEXT = re.compile(r"-?[0-9]{1,19}")
_MAX_ID = 2**64 - 1
_INT_RANGE = range(-(2**63), 2**63)
_REFUSED = object()


@dataclass(frozen=True)
class ComponentParam:
    """One declared argument of a component handler."""

    name: str
    kind: object
    required: bool = True
    variadic: bool = False

    def convert(self, text: str) -> object:
        """The argument's value, or ``_REFUSED`` when the text does not fit the type."""
        if self.kind is str:
            return text
        if self.kind is int:
            if not _INT_TEXT.fullmatch(text):
                return _REFUSED
            number = int(text)
            return number if number in _INT_RANGE else _REFUSED
        if not _ID_TEXT.fullmatch(text):
            return _REFUSED
        number = int(text)
        return number if 0 < number <= _MAX_ID else _REFUSED

    def misplaced(self, value: object, interaction: discord.Interaction) -> str | None:
        """Why ``value`` does not match where the click happened (None when it does)."""
        place = _PLACES.get(self.kind)
        if place is None:
            return None
        what, here = place
        if value != here(interaction):
            return f"{self.name} is not this {what}"
        return None


@dataclass(frozen=True)
class ComponentHandler:
    """A ``@component`` handler's action and declared arguments."""

    action: str
    params: tuple[ComponentParam, ...]

    def bind(self, args: Sequence[str]) -> list[tuple[ComponentParam, object]] | None:
        """Convert a custom_id's arguments; None when their count or a value does not fit."""
        fixed = [param for param in self.params if not param.variadic]
        rest = next((param for param in self.params if param.variadic), None)
        if len(args) < sum(param.required for param in fixed):
            return None
        if len(args) > len(fixed) and rest is None:
            return None
        bound: list[tuple[ComponentParam, object]] = []
        for index, text in enumerate(args):
            param = fixed[index] if index < len(fixed) else rest
            assert param is not None
            value = param.convert(text)
            if value is _REFUSED:
                return None
            bound.append((param, value))
        return bound


def _resolve(annotation: Any, func: Callable[..., Any]) -> object:
    """An annotation's object; string annotations (``from __future__ import annotations``) are
    looked up by name in the handler's module, no code is evaluated."""
    if annotation is inspect.Parameter.empty:
        return str
    if not isinstance(annotation, str):
        return annotation
    head, *rest = annotation.strip().split(".")
    scope: dict[str, Any] = getattr(func, "__globals__", {})
    value = scope.get(head, getattr(builtins, head, _REFUSED))
    for attr in rest:
        value = getattr(value, attr, _REFUSED)
    return value


def _handler_params(func: Callable[..., Any]) -> tuple[ComponentParam, ...]:
    """The declared arguments of ``func(self, interaction, ...)``; TypeError when unsupported."""
    name = getattr(func, "__qualname__", repr(func))
    params = list(inspect.signature(func).parameters.values())[2:]
    result: list[ComponentParam] = []
    for param in params:
        kind = _resolve(param.annotation, func)
        if kind not in _KINDS:
            raise TypeError(
                f"component handler {name}: argument {param.name!r} must be annotated with "
                "str, int, GuildId, ChannelId, MemberId or MessageId (imported at run time)"
            )
        if param.kind is inspect.Parameter.VAR_POSITIONAL:
            result.append(ComponentParam(param.name, kind, required=False, variadic=True))
        elif param.kind in (
            inspect.Parameter.POSITIONAL_ONLY,
            inspect.Parameter.POSITIONAL_OR_KEYWORD,
        ):
            required = param.default is inspect.Parameter.empty
            result.append(ComponentParam(param.name, kind, required=required))
        else:
            raise TypeError(f"component handler {name}: argument {param.name!r} must be positional")
    return tuple(result)
